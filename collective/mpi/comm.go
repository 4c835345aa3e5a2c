//go:build mpi

package mpi

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/adagrad-go/adagrad/collective"
)

// Options configure Open.
type Options struct {
	// Timeout bounds every wait for a peer (see collective.Options).
	Timeout time.Duration
	// MaxMessage is the largest message in bytes; longer transfers are cut
	// into messages of this size. 0 means 2³¹−1, the most a C int count of
	// MPI_BYTE can say.
	MaxMessage int
}

// process is the state of MPI in this process: initialised once, by the
// first Open, on the thread that makes every MPI call after it.
var process struct {
	mu          sync.Mutex
	thread      *thread
	initialized bool
	ours        bool // this package initialised MPI, and finalises it
	open        int  // Comms not yet closed
	finalized   bool
	failed      bool // a Comm failed: MPI is not finalised (see Close)
}

// Comm is one rank's end of a duplicate of MPI_COMM_WORLD. It implements
// collective.Comm and collective.Interrupter.
type Comm struct {
	track      collective.Tracker
	comm       handle
	rank, size int
	timeout    time.Duration
	maxMessage int
	stop       *stopFlag
	reasonMu   sync.Mutex
	reason     error
	// held keeps pinned the memory of messages abandoned by a failed call
	// (a timeout, an interrupt): MPI may still write into it, so it must
	// never be freed, nor the communicator.
	held []*runtime.Pinner
}

var (
	_ collective.Comm        = (*Comm)(nil)
	_ collective.Interrupter = (*Comm)(nil)
)

// Open initialises MPI on the first call and returns this rank's end of a
// new communicator over every rank of the job (MPI_COMM_WORLD's ranks).
// Every rank calls Open, in the same order as its other collective calls.
func Open(o Options) (*Comm, error) {
	if o.MaxMessage < 0 {
		return nil, fmt.Errorf("%w: MaxMessage %d", collective.ErrSize, o.MaxMessage)
	}
	if o.MaxMessage == 0 || o.MaxMessage > math.MaxInt32 {
		o.MaxMessage = math.MaxInt32
	}
	process.mu.Lock()
	defer process.mu.Unlock()
	if process.finalized {
		return nil, ErrFinalized
	}
	if process.thread == nil {
		process.thread = startThread()
	}
	c := &Comm{timeout: collective.Options{Timeout: o.Timeout}.WaitLimit(), maxMessage: o.MaxMessage, stop: newStopFlag()}
	err := process.thread.do(func() error {
		if !process.initialized {
			if err := initialize(); err != nil {
				return err
			}
		}
		var rc int
		c.comm, c.rank, c.size, rc = dupWorld()
		return mpiError("MPI_Comm_dup", rc)
	})
	if err != nil {
		return nil, err
	}
	process.open++
	return c, nil
}

// initialize runs on the MPI thread.
func initialize() error {
	provided, ours, rc := initMPI()
	if err := mpiError("MPI_Init_thread", rc); err != nil {
		return err
	}
	switch {
	case provided < 0:
		process.finalized = true
		return ErrFinalized
	case ours && provided < threadFunneled:
		return fmt.Errorf("%w: MPI provides thread level %d, below MPI_THREAD_FUNNELED", ErrThreadLevel, provided)
	case !ours && provided < threadMultiple:
		return fmt.Errorf("%w: MPI was initialised before at thread level %d; calls from this package's own thread need MPI_THREAD_MULTIPLE", ErrThreadLevel, provided)
	}
	process.initialized, process.ours = true, ours
	return nil
}

func (c *Comm) Rank() int               { return c.rank }
func (c *Comm) Size() int               { return c.size }
func (c *Comm) Stats() collective.Stats { return c.track.Stats() }
func (c *Comm) String() string          { return fmt.Sprintf("MPI rank %d of %d", c.rank, c.size) }

// Close frees the communicator; the last Close of the process finalises
// MPI (when this package initialised it), after which MPI cannot start
// again. After a call that failed with messages still in flight (a
// timeout, an interrupt) neither is done, since either could wait for a
// dead rank: the process exits without finalising, which mpirun takes for
// a failed rank.
func (c *Comm) Close() error {
	if !c.track.Close() {
		return nil
	}
	process.mu.Lock()
	defer process.mu.Unlock()
	process.open--
	return process.thread.do(func() error {
		failed := len(c.held) > 0
		process.failed = process.failed || failed
		if !failed {
			h := c.comm // a copy: cgo refuses a pointer into a struct that holds Go pointers
			rc := commFree(&h)
			c.comm = h
			if err := mpiError("MPI_Comm_free", rc); err != nil {
				process.failed = true
				return err
			}
		}
		if process.open > 0 || !process.ours || process.failed {
			return nil
		}
		process.finalized = true
		return mpiError("MPI_Finalize", finalize())
	})
}

// Interrupt ends the wait in progress, if any, and every call after it
// with an error wrapping collective.ErrInterrupted and reason. It may be
// called from any goroutine, for example a signal handler's.
func (c *Comm) Interrupt(reason error) {
	c.reasonMu.Lock()
	if c.reason == nil {
		c.reason = reason
		if c.reason == nil {
			c.reason = errors.New("no reason given")
		}
	}
	c.reasonMu.Unlock()
	c.stop.set()
}

func (c *Comm) interrupted(op string) error {
	c.reasonMu.Lock()
	defer c.reasonMu.Unlock()
	return fmt.Errorf("%w: %s on rank %d: %w", collective.ErrInterrupted, op, c.rank, c.reason)
}

func (c *Comm) Barrier() error {
	if err := c.track.Check(); err != nil {
		return err
	}
	start := time.Now()
	err := process.thread.do(func() error {
		reqs := []request{nil}
		if err := mpiError("MPI_Ibarrier", ibarrier(c.comm, &reqs[0])); err != nil {
			return err
		}
		return c.await("barrier", reqs, []message{{peer: -1}}, new(runtime.Pinner))
	})
	if err != nil {
		return c.track.Fail(err)
	}
	c.track.Count(0, 0, start)
	return nil
}

func (c *Comm) AllToAll(send, recv [][]byte) error { return c.exchange("all-to-all", send, recv) }

func (c *Comm) AllGather(send []byte, recv [][]byte) error {
	all := make([][]byte, c.size)
	for r := range all {
		all[r] = send
	}
	return c.exchange("all-gather", all, recv)
}

// exchange sends send[p] to every peer p and receives recv[p] from it.
func (c *Comm) exchange(op string, send, recv [][]byte) error {
	if err := c.track.Check(); err != nil {
		return err
	}
	if err := collective.CheckShape(c, send, recv); err != nil {
		return c.track.Fail(err)
	}
	if len(send[c.rank]) != len(recv[c.rank]) {
		return c.track.Fail(fmt.Errorf("%w: %s: rank %d sends itself %d bytes into a buffer of %d", collective.ErrSize, op, c.rank, len(send[c.rank]), len(recv[c.rank])))
	}
	start := time.Now()
	if err := process.thread.do(func() error { return c.transfer(op, send, recv) }); err != nil {
		return c.track.Fail(err)
	}
	var sent, received int64
	for p := range c.size {
		if p != c.rank {
			sent += int64(len(send[p]))
			received += int64(len(recv[p]))
		}
	}
	c.track.Count(sent, received, start)
	return nil
}

// message is one posted request: a chunk to or from peer (-1 for a
// barrier).
type message struct {
	peer int
	recv bool
	size int
}

// transfer posts every receive, then every send (to the next rank first,
// so that the ranks do not all start with rank 0), copies this rank's own
// part and waits. It runs on the MPI thread.
func (c *Comm) transfer(op string, send, recv [][]byte) error {
	pin := new(runtime.Pinner)
	var reqs []request
	var msgs []message
	post := func(call string, f func([]byte, int, handle, *request) int, b []byte, peer int, isRecv bool) error {
		for _, chunk := range chunks(b, c.maxMessage) {
			if len(chunk) > 0 {
				pin.Pin(&chunk[0])
			}
			var r request
			if err := mpiError(call, f(chunk, peer, c.comm, &r)); err != nil {
				return c.abandon(pin, fmt.Errorf("%s: rank %d and rank %d: %w", op, c.rank, peer, err))
			}
			reqs = append(reqs, r)
			msgs = append(msgs, message{peer: peer, recv: isRecv, size: len(chunk)})
		}
		return nil
	}
	n, me := c.size, c.rank
	for i := 1; i < n; i++ {
		p := (me - i + n) % n
		if err := post("MPI_Irecv", irecv, recv[p], p, true); err != nil {
			return err
		}
	}
	for i := 1; i < n; i++ {
		p := (me + i) % n
		if err := post("MPI_Isend", isend, send[p], p, false); err != nil {
			return err
		}
	}
	copy(recv[me], send[me])
	return c.await(op, reqs, msgs, pin)
}

// chunks cuts b into pieces of at most max bytes: at least one, empty for
// an empty b, so that every pair of ranks exchanges a message in every call
// and a length that disagrees is seen.
func chunks(b []byte, max int) [][]byte {
	out := [][]byte{b[:min(len(b), max)]}
	for off := max; off < len(b); off += max {
		out = append(out, b[off:min(off+max, len(b))])
	}
	return out
}

// await waits for reqs and checks what arrived. It runs on the MPI thread.
func (c *Comm) await(op string, reqs []request, msgs []message, pin *runtime.Pinner) error {
	if len(reqs) == 0 {
		pin.Unpin()
		return nil
	}
	st := make([]status, len(reqs))
	outcome, rc := wait(reqs, st, c.timeout.Seconds(), c.stop)
	switch {
	case rc == errInStatus:
		// Some messages failed (a truncation: the peer sent more than
		// expected); the others may have completed or still be pending.
		var first error
		inFlight := false
		for i := range st {
			switch code := statusError(&st[i]); {
			case code == errPending:
				inFlight = true
			case code != success && first == nil:
				first = fmt.Errorf("%s: %s: %w", op, msgs[i].describe(c.rank), mpiError("MPI_Testall", code))
			}
		}
		if first == nil {
			first = fmt.Errorf("%s: %w", op, mpiError("MPI_Testall", rc))
		}
		if inFlight {
			return c.abandon(pin, first)
		}
		return c.settled(pin, first)
	case rc != success:
		return c.abandon(pin, fmt.Errorf("%s: %w", op, mpiError("MPI_Testall", rc)))
	case outcome == outcomeTimedOut:
		return c.abandon(pin, c.timedOut(op, reqs, msgs))
	case outcome == outcomeStopped:
		return c.abandon(pin, c.interrupted(op))
	}
	for i, m := range msgs {
		if !m.recv {
			continue
		}
		got, rc := receivedBytes(&st[i])
		if err := mpiError("MPI_Get_count", rc); err != nil {
			return c.abandon(pin, err)
		}
		if got != m.size {
			return c.settled(pin, fmt.Errorf("%w: %s: rank %d sent a message of %d bytes where rank %d expected %d",
				collective.ErrSize, op, m.peer, got, c.rank, m.size))
		}
	}
	pin.Unpin()
	return nil
}

func (m message) describe(me int) string {
	switch {
	case m.peer < 0:
		return fmt.Sprintf("rank %d in a barrier", me)
	case m.recv:
		return fmt.Sprintf("rank %d receiving %d bytes from rank %d", me, m.size, m.peer)
	}
	return fmt.Sprintf("rank %d sending %d bytes to rank %d", me, m.size, m.peer)
}

// timedOut names the ranks whose messages had not arrived, or had not been
// taken, when the timeout passed.
func (c *Comm) timedOut(op string, reqs []request, msgs []message) error {
	var from, to []int
	barrier := false
	for i, r := range reqs {
		if !pending(r) {
			continue
		}
		switch m := msgs[i]; {
		case m.peer < 0:
			barrier = true
		case m.recv:
			from = append(from, m.peer)
		default:
			to = append(to, m.peer)
		}
	}
	var parts []string
	if barrier {
		parts = append(parts, "some rank did not enter the barrier")
	}
	if from = uniq(from); len(from) > 0 {
		parts = append(parts, fmt.Sprintf("nothing yet from rank %s", join(from)))
	}
	if to = uniq(to); len(to) > 0 {
		parts = append(parts, fmt.Sprintf("not yet taken by rank %s", join(to)))
	}
	return fmt.Errorf("%w: %s: rank %d waited %v: %s (a rank died, hangs, or makes other collective calls)",
		collective.ErrTimeout, op, c.rank, c.timeout, strings.Join(parts, "; "))
}

func uniq(s []int) []int {
	slices.Sort(s)
	return slices.Compact(s)
}

func join(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ", ")
}

// abandon keeps the memory of a failed call's messages pinned for good
// (MPI may still write into it) and returns err.
func (c *Comm) abandon(pin *runtime.Pinner, err error) error {
	c.held = append(c.held, pin)
	return err
}

// settled returns err after a failed call whose messages have all
// completed (a size that disagrees): nothing is in flight, so the memory is
// free again and the communicator can still be freed.
func (c *Comm) settled(pin *runtime.Pinner, err error) error {
	pin.Unpin()
	return err
}
