package collective

import (
	"fmt"
	"sync"
	"time"
)

// Tracker is the bookkeeping every Comm implementation shares: whether it
// is closed or broken, and its Stats. Implementations embed one and call
// Check before a call, Fail when a call fails and Count when it succeeds.
// Its methods are safe for concurrent use (Stats may be read while a call
// runs).
type Tracker struct {
	mu     sync.Mutex
	closed bool
	broken error
	stats  Stats
}

// Check returns ErrClosed or an ErrBroken error (wrapping the failure that
// broke the Comm), or nil.
func (t *Tracker) Check() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.closed:
		return ErrClosed
	case t.broken != nil:
		return fmt.Errorf("%w: %w", ErrBroken, t.broken)
	}
	return nil
}

// Fail records err as the failure that broke the Comm (the first one
// counts) and returns it.
func (t *Tracker) Fail(err error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.broken == nil {
		t.broken = err
	}
	return err
}

// Broken returns the failure that broke the Comm, or nil.
func (t *Tracker) Broken() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.broken
}

// Count records one finished call that sent and received so many bytes to
// and from other ranks, begun at since.
func (t *Tracker) Count(sent, received int64, since time.Time) {
	d := time.Since(since)
	t.mu.Lock()
	t.stats.Calls++
	t.stats.BytesSent += sent
	t.stats.BytesReceived += received
	t.stats.Time += d
	t.mu.Unlock()
}

// Stats returns the counts so far.
func (t *Tracker) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Close marks the Comm closed and reports whether this was the first
// Close.
func (t *Tracker) Close() (first bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	first = !t.closed
	t.closed = true
	return first
}
