package collective

import (
	"fmt"
	"time"
)

// Comm is one rank's end of a group of ranks. See the package comment for
// the rules every call follows.
type Comm interface {
	// Rank is this process's number, 0 ≤ Rank() < Size().
	Rank() int
	// Size is the number of ranks.
	Size() int
	// Barrier returns once every rank has entered it.
	Barrier() error
	// AllToAll sends send[r] to rank r and receives into recv[r] what rank
	// r sends to this rank, for every r (send[Rank()] is copied into
	// recv[Rank()]). len(send) and len(recv) are Size(), and len(recv[r])
	// is what rank r sends here.
	AllToAll(send, recv [][]byte) error
	// AllGather sends send to every rank and receives rank r's into
	// recv[r] (recv[Rank()] gets a copy of send).
	AllGather(send []byte, recv [][]byte) error
	// Stats returns the counts since the Comm was made.
	Stats() Stats
	// Close ends this rank's part in the group. A closed Comm returns
	// ErrClosed.
	Close() error
}

// Interrupter is the optional capability of a Comm whose waits can be cut
// short from another goroutine, for example when the process is asked to
// stop (the launcher sends SIGTERM to every rank when one fails): the wait
// in progress, and every call after it, returns an error wrapping
// ErrInterrupted and reason.
type Interrupter interface {
	Interrupt(reason error)
}

// Stats counts one rank's traffic. Bytes that a rank gives itself
// (send[Rank()]) are not counted: they cross no link.
type Stats struct {
	Calls         int64         // collective calls made
	BytesSent     int64         // to other ranks
	BytesReceived int64         // from other ranks
	Time          time.Duration // inside the calls, waiting for peers included
}

// Sub returns the counts between an earlier snapshot and s.
func (s Stats) Sub(earlier Stats) Stats {
	return Stats{Calls: s.Calls - earlier.Calls, BytesSent: s.BytesSent - earlier.BytesSent,
		BytesReceived: s.BytesReceived - earlier.BytesReceived, Time: s.Time - earlier.Time}
}

// DefaultTimeout bounds a wait for a peer when Options.Timeout is zero: as
// long as PyTorch's default for its process groups, long enough for a rank
// that writes a checkpoint while the others wait.
const DefaultTimeout = 30 * time.Minute

// Options configure a world.
type Options struct {
	// Timeout bounds every wait for a peer: 0 means DefaultTimeout, a
	// negative value waits for ever.
	Timeout time.Duration
}

// WaitLimit returns the timeout the options stand for, 0 meaning none.
func (o Options) WaitLimit() time.Duration {
	switch {
	case o.Timeout == 0:
		return DefaultTimeout
	case o.Timeout < 0:
		return 0
	}
	return o.Timeout
}

// CheckShape returns an ErrSize error unless send and recv have one entry
// per rank of c: the argument check every AllToAll starts with.
func CheckShape(c Comm, send, recv [][]byte) error {
	if len(send) != c.Size() || len(recv) != c.Size() {
		return fmt.Errorf("%w: all-to-all over %d ranks given %d send and %d receive buffers", ErrSize, c.Size(), len(send), len(recv))
	}
	return nil
}
