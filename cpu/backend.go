package cpu

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/adagrad-go/adagrad/device"
)

// Backend runs Adagrad on the host CPU. The zero value is not usable; call
// New.
type Backend struct {
	mu      sync.Mutex
	closed  bool
	buffers map[*buffer]struct{}
}

var (
	_ device.Backend = (*Backend)(nil)
	_ device.Freer   = (*Backend)(nil)
	_ device.Copier  = (*Backend)(nil)
)

// New returns a CPU backend.
func New() *Backend { return &Backend{buffers: map[*buffer]struct{}{}} }

func (c *Backend) String() string {
	if SIMD() != "" {
		return fmt.Sprintf("cpu (%d threads, %s)", runtime.GOMAXPROCS(0), SIMD())
	}
	return fmt.Sprintf("cpu (%d threads)", runtime.GOMAXPROCS(0))
}

// Alloc returns a zeroed buffer of n elements.
func (c *Backend) Alloc(dt device.DType, n int) (device.Buffer, error) {
	if !dt.Valid() {
		return nil, fmt.Errorf("%w: cannot allocate %v", device.ErrDType, dt)
	}
	if n < 0 {
		return nil, fmt.Errorf("%w: negative length %d", device.ErrRange, n)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, device.ErrClosed
	}
	b := &buffer{owner: c, dt: dt, n: n}
	switch {
	case dt == device.Float32:
		b.f32 = make([]float32, n)
	case dt == device.Float64:
		b.f64 = make([]float64, n)
	default:
		b.u16 = make([]uint16, n)
	}
	c.buffers[b] = struct{}{}
	return b, nil
}

// own checks that the backend is open and that every buffer is one of its
// live buffers. The caller holds c.mu.
func (c *Backend) own(bufs ...device.Buffer) ([]*buffer, error) {
	if c.closed {
		return nil, device.ErrClosed
	}
	out := make([]*buffer, len(bufs))
	for i, b := range bufs {
		cb, ok := b.(*buffer)
		if !ok || cb.owner != c {
			if ok && cb.owner == nil {
				return nil, fmt.Errorf("%w: buffer was freed", device.ErrClosed)
			}
			return nil, device.ErrForeignBuffer
		}
		out[i] = cb
	}
	return out, nil
}

// Write copies src into dst at element off.
func (c *Backend) Write(dst device.Buffer, off int, src any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	bs, err := c.own(dst)
	if err != nil {
		return err
	}
	if _, err := device.CheckWrite(dst, off, src); err != nil {
		return err
	}
	switch s := src.(type) {
	case []float32:
		copy(bs[0].f32[off:], s)
	case []float64:
		copy(bs[0].f64[off:], s)
	case []uint16:
		copy(bs[0].u16[off:], s)
	}
	return nil
}

// Read copies len(dst) elements of src from element off into dst.
func (c *Backend) Read(dst any, src device.Buffer, off int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	bs, err := c.own(src)
	if err != nil {
		return err
	}
	n, err := device.CheckWrite(src, off, dst)
	if err != nil {
		return err
	}
	switch d := dst.(type) {
	case []float32:
		copy(d, bs[0].f32[off:off+n])
	case []float64:
		copy(d, bs[0].f64[off:off+n])
	case []uint16:
		copy(d, bs[0].u16[off:off+n])
	}
	return nil
}

// Copy copies all of src into dst, which must have the same dtype and length.
func (c *Backend) Copy(dst, src device.Buffer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	bs, err := c.own(dst, src)
	if err != nil {
		return err
	}
	if dst.DType() != src.DType() || dst.Len() != src.Len() {
		return fmt.Errorf("%w: copy of %d %v into %d %v", device.ErrDType, src.Len(), src.DType(), dst.Len(), dst.DType())
	}
	d, s := bs[0], bs[1]
	switch d.dt {
	case device.Float32:
		parallelCopy(d.f32, s.f32)
	case device.Float64:
		parallelCopy(d.f64, s.f64)
	default:
		parallelCopy(d.u16, s.u16)
	}
	return nil
}

// Adagrad runs u on all cores and returns when it is done.
func (c *Backend) Adagrad(u device.Update) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	bs, err := c.own(u.Param, u.Grad, u.Accum)
	if err != nil {
		return err
	}
	if err := u.Validate(); err != nil {
		return err
	}
	p, g, s := bs[0], bs[1], bs[2]
	switch {
	case p.dt == device.Float64:
		adagradRanges64(p.f64, g.f64, s.f64, u.Ranges)
	case g.dt.Half():
		adagradRangesHalf(p.f32, g.u16, g.dt, s.f32, u.Ranges)
	default:
		adagradRanges32(p.f32, g.f32, s.f32, u.Ranges)
	}
	return nil
}

// Sync returns at once: every CPU call has finished when it returns.
func (c *Backend) Sync() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return device.ErrClosed
	}
	return nil
}

// Free releases one buffer.
func (c *Backend) Free(b device.Buffer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	bs, err := c.own(b)
	if err != nil {
		return err
	}
	delete(c.buffers, bs[0])
	bs[0].release()
	return nil
}

// Close releases every buffer. Closing twice is not an error.
func (c *Backend) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for b := range c.buffers {
		b.release()
	}
	c.buffers = nil
	c.closed = true
	return nil
}
