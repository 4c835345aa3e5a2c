package device

import (
	"fmt"
	"math"
)

// Tracker is the ownership and lifecycle bookkeeping that every backend
// shares, so that all of them check in one order and answer with the same
// sentinels: the backend is open (ErrClosed), each buffer is present and a
// live one of this backend (ErrForeignBuffer, or ErrClosed once freed),
// then the call's own arguments, then the work. A backend embeds a
// BufferHeader in its buffer type, holds a Tracker, and calls it under its
// own lock: a Tracker is not safe for concurrent use by itself.
type Tracker struct {
	closed bool
	live   map[*BufferHeader]Buffer
}

// BufferHeader is embedded by backends' buffer types: it gives them DType
// and Len, and ties them to the Tracker that made them.
type BufferHeader struct {
	dt    DType
	n     int
	owner *Tracker
}

// DType is the buffer's element type.
func (h *BufferHeader) DType() DType { return h.dt }

// Len is the buffer's length in elements.
func (h *BufferHeader) Len() int { return h.n }

// Bytes is the buffer's size in bytes.
func (h *BufferHeader) Bytes() int64 { return int64(h.n) * int64(h.dt.Size()) }

func (h *BufferHeader) bufferHeader() *BufferHeader { return h }

// tracked is what every backend buffer is, through its BufferHeader.
type tracked interface{ bufferHeader() *BufferHeader }

// CheckOpen returns ErrClosed once the backend is closed.
func (t *Tracker) CheckOpen() error {
	if t.closed {
		return ErrClosed
	}
	return nil
}

// NewHeader checks an allocation of n elements of dt (the backend is open,
// it has the dtype, n is not negative and n elements fit in limit bytes,
// or in the address space when limit is 0) and returns the header of the
// new buffer, to embed in it. The buffer becomes live with Adopt, once its
// memory exists.
func (t *Tracker) NewHeader(caps Capabilities, dt DType, n int, limit int64) (BufferHeader, error) {
	if err := t.CheckOpen(); err != nil {
		return BufferHeader{}, err
	}
	if !dt.Valid() || !caps.HasDType(dt) {
		return BufferHeader{}, fmt.Errorf("%w: cannot allocate %v", ErrDType, dt)
	}
	if n < 0 {
		return BufferHeader{}, fmt.Errorf("%w: negative length %d", ErrRange, n)
	}
	if limit <= 0 {
		limit = math.MaxInt
	}
	if int64(n) > limit/int64(dt.Size()) {
		return BufferHeader{}, fmt.Errorf("%w: %d %v (%d bytes each) do not fit in %d bytes", ErrRange, n, dt, dt.Size(), limit)
	}
	return BufferHeader{dt: dt, n: n, owner: t}, nil
}

// Adopt records b, made with a header from NewHeader, as a live buffer.
func (t *Tracker) Adopt(b Buffer) {
	if t.live == nil {
		t.live = map[*BufferHeader]Buffer{}
	}
	t.live[b.(tracked).bufferHeader()] = b
}

// Own checks that the backend is open and that every buffer is a live one
// of its own, and returns them as the backend's buffer type B. A nil
// buffer stays nil (absent state buffers): the call's own validation says
// whether it may be.
func Own[B Buffer](t *Tracker, bufs ...Buffer) ([]B, error) {
	if err := t.CheckOpen(); err != nil {
		return nil, err
	}
	out := make([]B, len(bufs))
	for i, b := range bufs {
		if b == nil {
			continue
		}
		tb, ok := b.(tracked)
		if !ok {
			return nil, fmt.Errorf("%w: %T", ErrForeignBuffer, b)
		}
		h := tb.bufferHeader()
		if h.owner != t {
			if h.owner == nil {
				return nil, fmt.Errorf("%w: buffer was freed", ErrClosed)
			}
			return nil, ErrForeignBuffer
		}
		cb, ok := b.(B)
		if !ok {
			return nil, fmt.Errorf("%w: %T", ErrForeignBuffer, b)
		}
		out[i] = cb
	}
	return out, nil
}

// Forget marks b freed: later calls with it fail with ErrClosed. The
// backend releases its memory.
func (t *Tracker) Forget(b Buffer) {
	h := b.(tracked).bufferHeader()
	delete(t.live, h)
	h.owner = nil
}

// Close marks the backend closed and returns its live buffers, now
// forgotten, for the backend to release. It returns first = false when the
// backend was already closed.
func (t *Tracker) Close() (live []Buffer, first bool) {
	if t.closed {
		return nil, false
	}
	t.closed = true
	for h, b := range t.live {
		h.owner = nil
		live = append(live, b)
	}
	t.live = nil
	return live, true
}
