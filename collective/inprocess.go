package collective

import (
	"bytes"
	"fmt"
	"sync"
	"time"
)

// InProcess returns the n ranks of a world whose ranks are goroutines of
// one process, connected by channels: comms[r] is rank r's end. Run each
// rank in its own goroutine. It behaves as a multi-process world does
// (sizes checked, timeouts, a closed peer reported as ErrPeerGone), so a
// distributed program can be tested without a launcher.
func InProcess(n int, o Options) ([]Comm, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: a world of %d ranks", ErrSize, n)
	}
	h := &hub{n: n, timeout: o.WaitLimit(), box: make([][]chan []byte, n), gone: make([]chan struct{}, n)}
	comms := make([]Comm, n)
	for r := range n {
		h.box[r] = make([]chan []byte, n)
		for p := range n {
			// A rank runs at most one call ahead of a peer that has not
			// yet read its message: two never block.
			h.box[r][p] = make(chan []byte, 2)
		}
		h.gone[r] = make(chan struct{})
		comms[r] = &inProcess{h: h, rank: r, stop: make(chan struct{})}
	}
	return comms, nil
}

type hub struct {
	n       int
	timeout time.Duration
	box     [][]chan []byte // box[from][to]: messages in call order
	gone    []chan struct{} // gone[r] is closed when rank r closes
}

type inProcess struct {
	h         *hub
	rank      int
	track     Tracker
	closeOnce sync.Once
	stopOnce  sync.Once
	stop      chan struct{} // closed by Interrupt
	reason    error         // set before stop is closed
}

func (c *inProcess) Rank() int      { return c.rank }
func (c *inProcess) Size() int      { return c.h.n }
func (c *inProcess) Stats() Stats   { return c.track.Stats() }
func (c *inProcess) String() string { return fmt.Sprintf("in-process rank %d of %d", c.rank, c.h.n) }

// Close leaves the group: peers waiting for this rank get ErrPeerGone.
func (c *inProcess) Close() error {
	c.track.Close()
	c.closeOnce.Do(func() { close(c.h.gone[c.rank]) })
	return nil
}

func (c *inProcess) Interrupt(reason error) {
	c.stopOnce.Do(func() {
		c.reason = reason
		close(c.stop)
	})
}

func (c *inProcess) Barrier() error {
	empty := make([][]byte, c.h.n)
	return c.exchange("barrier", empty, make([][]byte, c.h.n))
}

func (c *inProcess) AllToAll(send, recv [][]byte) error {
	return c.exchange("all-to-all", send, recv)
}

func (c *inProcess) AllGather(send []byte, recv [][]byte) error {
	all := make([][]byte, c.h.n)
	for r := range all {
		all[r] = send
	}
	return c.exchange("all-gather", all, recv)
}

// exchange sends send[p] to every peer p, then receives from each peer in
// turn.
func (c *inProcess) exchange(op string, send, recv [][]byte) error {
	if err := c.track.Check(); err != nil {
		return err
	}
	if err := CheckShape(c, send, recv); err != nil {
		return c.track.Fail(err)
	}
	n, me := c.h.n, c.rank
	if len(send[me]) != len(recv[me]) {
		return c.track.Fail(fmt.Errorf("%w: %s: rank %d sends itself %d bytes into a buffer of %d", ErrSize, op, me, len(send[me]), len(recv[me])))
	}
	start := time.Now()
	var timer <-chan time.Time
	if c.h.timeout > 0 {
		t := time.NewTimer(c.h.timeout)
		defer t.Stop()
		timer = t.C
	}
	var sent, received int64
	for i := 1; i < n; i++ {
		p := (me + i) % n
		select {
		case c.h.box[me][p] <- bytes.Clone(send[p]):
			sent += int64(len(send[p]))
		case <-timer:
			return c.track.Fail(c.timedOut(op, p))
		case <-c.stop:
			return c.track.Fail(c.interrupted(op))
		}
	}
	copy(recv[me], send[me])
	for i := 1; i < n; i++ {
		p := (me - i + n) % n
		m, err := c.receive(op, p, timer)
		if err != nil {
			return c.track.Fail(err)
		}
		if len(m) != len(recv[p]) {
			return c.track.Fail(fmt.Errorf("%w: %s: rank %d sent %d bytes to rank %d, which expected %d", ErrSize, op, p, len(m), me, len(recv[p])))
		}
		copy(recv[p], m)
		received += int64(len(m))
	}
	c.track.Count(sent, received, start)
	return nil
}

// receive waits for peer p's next message to this rank.
func (c *inProcess) receive(op string, p int, timer <-chan time.Time) ([]byte, error) {
	box := c.h.box[p][c.rank]
	select {
	case m := <-box:
		return m, nil
	case <-c.h.gone[p]:
		// A peer may send its last message and then leave.
		select {
		case m := <-box:
			return m, nil
		default:
			return nil, fmt.Errorf("%w: %s: rank %d closed while rank %d waited for it", ErrPeerGone, op, p, c.rank)
		}
	case <-timer:
		return nil, c.timedOut(op, p)
	case <-c.stop:
		return nil, c.interrupted(op)
	}
}

func (c *inProcess) timedOut(op string, p int) error {
	return fmt.Errorf("%w: %s: rank %d waited %v for rank %d", ErrTimeout, op, c.rank, c.h.timeout, p)
}

func (c *inProcess) interrupted(op string) error {
	return fmt.Errorf("%w: %s on rank %d: %w", ErrInterrupted, op, c.rank, c.reason)
}
