package cpu

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/adagrad-go/adagrad/device"
)

// Backend runs the update rules on the host CPU. The zero value is not
// usable; call New.
type Backend struct {
	mu    sync.Mutex
	track device.Tracker
	caps  device.Capabilities
}

var (
	_ device.Backend   = (*Backend)(nil)
	_ device.Updater   = (*Backend)(nil)
	_ device.RowReader = (*Backend)(nil)
	_ device.Freer     = (*Backend)(nil)
	_ device.Copier    = (*Backend)(nil)
)

// New returns a CPU backend.
func New() *Backend { return &Backend{caps: capabilities()} }

// String names the backend, its threads and its vector kernels.
func (c *Backend) String() string {
	if SIMD() != "" {
		return fmt.Sprintf("cpu (%d threads, %s)", runtime.GOMAXPROCS(0), SIMD())
	}
	return fmt.Sprintf("cpu (%d threads)", runtime.GOMAXPROCS(0))
}

// Capabilities: every dtype, every rule on every parameter dtype (half
// parameters computed in float32), in both forms where the rule has a
// row-sparse one, gather, copy and free. Writes do not overlap updates:
// every call has finished when it returns.
func (c *Backend) Capabilities() device.Capabilities { return capabilities() }

func capabilities() device.Capabilities {
	caps := device.Capabilities{
		DTypes: []device.DType{device.Float32, device.Float64, device.BFloat16, device.Float16, device.Uint8},
		Gather: true, Copy: true, Free: true,
	}
	params := []device.DType{device.Float32, device.Float64, device.BFloat16, device.Float16}
	for _, r := range device.Rules() {
		k, ok := ruleKernels[r]
		spec, _ := r.Spec()
		if ok {
			caps.Rules = append(caps.Rules, device.RuleSupport{Rule: r, DTypes: params, Rows: !spec.DenseOnly && k.rows32 != nil})
		}
	}
	return caps
}

// buffer is host memory; the slice of its dtype is set while it is live
// (u16 holds the raw bits of BFloat16 and Float16).
type buffer struct {
	device.BufferHeader
	f32 []float32
	f64 []float64
	u16 []uint16
	u8  []uint8
}

func (b *buffer) release() { b.f32, b.f64, b.u16, b.u8 = nil, nil, nil, nil }

// Alloc returns a zeroed buffer of n elements. A size larger than the
// machine's memory is refused with device.ErrOutOfMemory before Go's
// allocator would end the process.
func (c *Backend) Alloc(dt device.DType, n int) (device.Buffer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, err := c.track.NewHeader(c.caps, dt, n, 0)
	if err != nil {
		return nil, err
	}
	if mem := physicalMemory(); mem > 0 && h.Bytes() > mem {
		return nil, fmt.Errorf("%w: %d bytes for %d %v, the machine has %d", device.ErrOutOfMemory, h.Bytes(), n, dt, mem)
	}
	b := &buffer{BufferHeader: h}
	switch dt {
	case device.Float32:
		b.f32 = make([]float32, n)
	case device.Float64:
		b.f64 = make([]float64, n)
	case device.Uint8:
		b.u8 = make([]uint8, n)
	default:
		b.u16 = make([]uint16, n)
	}
	c.track.Adopt(b)
	return b, nil
}

// own is device.Own for this backend's buffers; the caller holds c.mu.
func (c *Backend) own(bufs ...device.Buffer) ([]*buffer, error) {
	return device.Own[*buffer](&c.track, bufs...)
}

// Write copies src into dst at element off.
func (c *Backend) Write(dst device.Buffer, off int, src any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	bs, err := c.own(dst)
	if err != nil {
		return err
	}
	if _, err := device.CheckCopy(dst, off, src); err != nil {
		return err
	}
	switch s := src.(type) {
	case []float32:
		copy(bs[0].f32[off:], s)
	case []float64:
		copy(bs[0].f64[off:], s)
	case []uint16:
		copy(bs[0].u16[off:], s)
	case []uint8:
		copy(bs[0].u8[off:], s)
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
	n, err := device.CheckCopy(src, off, dst)
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
	case []uint8:
		copy(d, bs[0].u8[off:off+n])
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
	if dst == nil || src == nil {
		return fmt.Errorf("%w: nil buffer", device.ErrForeignBuffer)
	}
	if dst.DType() != src.DType() || dst.Len() != src.Len() {
		return fmt.Errorf("%w: copy of %d %v into %d %v", device.ErrDType, src.Len(), src.DType(), dst.Len(), dst.DType())
	}
	d, s := bs[0], bs[1]
	switch d.DType() {
	case device.Float32:
		parallelCopy(d.f32, s.f32)
	case device.Float64:
		parallelCopy(d.f64, s.f64)
	case device.Uint8:
		parallelCopy(d.u8, s.u8)
	default:
		parallelCopy(d.u16, s.u16)
	}
	return nil
}

// Sync returns at once: every CPU call has finished when it returns.
func (c *Backend) Sync() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.track.CheckOpen()
}

// Free releases one buffer.
func (c *Backend) Free(b device.Buffer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	bs, err := c.own(b)
	if err != nil {
		return err
	}
	if b == nil {
		return fmt.Errorf("%w: nil buffer", device.ErrForeignBuffer)
	}
	c.track.Forget(b)
	bs[0].release()
	return nil
}

// Close releases every buffer. Closing twice is not an error.
func (c *Backend) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	live, _ := c.track.Close()
	for _, b := range live {
		b.(*buffer).release()
	}
	return nil
}
