//go:build cuda

package cuda

import (
	"fmt"
	"sync"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/launch"
	"github.com/adagrad-go/adagrad/internal/nvrtc"
	"github.com/adagrad-go/adagrad/kernels"
)

// Backend runs Adagrad on one CUDA device. Make it with Open. Every driver
// call runs on the backend's own locked thread (see worker).
type Backend struct {
	mu      sync.Mutex
	track   device.Tracker
	caps    device.Capabilities
	w       *worker
	ordinal int
	name    string
	cc      int // compute capability, 10*major+minor
	sms     int // multiprocessors
	image   nvrtc.Image
	ctx     cu.CUContext
	stream  cu.Stream // compute: kernels, memsets, device copies
	copies  cu.Stream // host→device copies (see order.go)
	copied  cu.Event  // the latest copy queued on copies
	// copiedSet: a copy was queued since compute work last waited for one.
	copiedSet bool
	mod       cu.Module
	update    map[device.DType]cu.Function // update_*, by gradient dtype (half ones for float32 parameters)
	rowsFn    map[device.DType]cu.Function // update_rows_f32, update_rows_f64
	gather    map[device.DType]cu.Function // gather_rows_f32, gather_rows_f64
	stage     *stager
	// Device scratch, two of each used in turn so that the next launch's
	// upload overlaps the current launch: range tables, and the rows and
	// values of row-sparse launches.
	tables, rows, vals   [2]scratch
	gatherRows, gathered scratch // ReadRows: the row indices in, the rows out
	tableFlip, rowFlip   int
}

var (
	_ device.Backend   = (*Backend)(nil)
	_ device.Updater   = (*Backend)(nil)
	_ device.RowReader = (*Backend)(nil)
	_ device.Freer     = (*Backend)(nil)
	_ device.Copier    = (*Backend)(nil)
)

// Capabilities: float32, float64, half gradients, every rule of
// kernels/adagrad.cu in both forms, gather, copy and free; host→device
// writes run beside kernels (on a stream of their own), so the optimizer
// double-buffers gradients.
func (b *Backend) Capabilities() device.Capabilities { return b.caps }

func capabilities() device.Capabilities {
	real := []device.DType{device.Float32, device.Float64}
	caps := device.Capabilities{
		DTypes: []device.DType{device.Float32, device.Float64, device.BFloat16, device.Float16},
		Gather: true, Copy: true, Free: true, OverlapsWrites: true,
	}
	for _, r := range device.Rules() {
		caps.Rules = append(caps.Rules, device.RuleSupport{Rule: r, DTypes: real, Rows: true})
	}
	return caps
}

// Open opens CUDA device ordinal: it makes a context on a thread of its
// own, compiles kernels/adagrad.cu with NVRTC for the device (or takes it
// from the on-disk cache, see nvrtc.CacheEnv) and loads it.
func Open(ordinal int) (*Backend, error) {
	n, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", device.ErrUnavailable, wrap("cuDeviceGetCount", err))
	}
	if ordinal < 0 || ordinal >= n {
		return nil, fmt.Errorf("%w: no CUDA device %d (%d present)", device.ErrUnavailable, ordinal, n)
	}
	b := &Backend{ordinal: ordinal, caps: capabilities(), update: map[device.DType]cu.Function{},
		rowsFn: map[device.DType]cu.Function{}, gather: map[device.DType]cu.Function{}}
	w, err := startWorker(b.setup)
	if err != nil {
		return nil, err
	}
	b.w = w
	return b, nil
}

// setup runs on the worker thread; on failure it releases what it made.
func (b *Backend) setup() (err error) {
	defer func() {
		if err != nil {
			b.release()
		}
	}()
	dev, err := cu.GetDevice(b.ordinal)
	if err != nil {
		return wrap("cuDeviceGet", err)
	}
	if b.name, err = dev.Name(); err != nil {
		return wrap("cuDeviceGetName", err)
	}
	attrs, err := dev.Attributes(cu.ComputeCapabilityMajor, cu.ComputeCapabilityMinor, cu.MultiprocessorCount)
	if err != nil {
		return wrap("cuDeviceGetAttribute", err)
	}
	b.cc, b.sms = 10*attrs[0]+attrs[1], attrs[2]
	// cuCtxCreate makes the context current on this thread, which stays
	// locked to the worker for the backend's life.
	if b.ctx, err = dev.MakeContext(cu.SchedAuto); err != nil {
		return wrap("cuCtxCreate", err)
	}
	if b.stream, err = cu.MakeStream(cu.NonBlocking); err != nil {
		return wrap("cuStreamCreate", err)
	}
	if b.copies, err = cu.MakeStream(cu.NonBlocking); err != nil {
		return wrap("cuStreamCreate", err)
	}
	if b.copied, err = cu.MakeEvent(cu.DisableTiming); err != nil {
		return wrap("cuEventCreate", err)
	}
	if err := b.load(); err != nil {
		return err
	}
	b.stage, err = newStager()
	return err
}

// load compiles (or finds in the cache) and loads the kernels.
func (b *Backend) load() error {
	archs, err := nvrtc.SupportedArchs()
	if err != nil {
		return err
	}
	arch, ptx, err := nvrtc.Target(b.cc, archs)
	if err != nil {
		return err
	}
	img, cached, err := nvrtc.CompileCached(kernels.CUDA, "kernels/adagrad.cu", arch, ptx)
	if err != nil {
		return err
	}
	b.mod, err = cu.LoadData(string(img.Data))
	if err != nil && cached {
		// A cache entry the driver refuses is dropped and rebuilt once.
		_ = nvrtc.Forget(kernels.CUDA, arch, ptx)
		if img, err = nvrtc.Compile(kernels.CUDA, "kernels/adagrad.cu", arch, ptx); err == nil {
			b.mod, err = cu.LoadData(string(img.Data))
		}
	}
	if err != nil {
		return wrap(fmt.Sprintf("cuModuleLoadData(%s)", imageName(img)), err)
	}
	b.image = img
	for _, k := range []struct {
		name string
		dt   device.DType
		into map[device.DType]cu.Function
	}{
		{"update_f32", device.Float32, b.update}, {"update_f64", device.Float64, b.update},
		{"update_f32_bf16", device.BFloat16, b.update}, {"update_f32_f16", device.Float16, b.update},
		{"update_rows_f32", device.Float32, b.rowsFn}, {"update_rows_f64", device.Float64, b.rowsFn},
		{"gather_rows_f32", device.Float32, b.gather}, {"gather_rows_f64", device.Float64, b.gather},
	} {
		f, err := b.mod.Function(k.name)
		if err != nil {
			return wrap("cuModuleGetFunction("+k.name+")", err)
		}
		k.into[k.dt] = f
	}
	return nil
}

func imageName(img nvrtc.Image) string {
	if img.PTX {
		return fmt.Sprintf("PTX compute_%d", img.Arch)
	}
	return fmt.Sprintf("CUBIN sm_%d", img.Arch)
}

func (b *Backend) String() string {
	return fmt.Sprintf("cuda:%d %s (sm_%d, %d SMs, kernels as %s)", b.ordinal, b.name, b.cc, b.sms, imageName(b.image))
}

type buffer struct {
	device.BufferHeader
	ptr cu.DevicePtr // 0 for an empty buffer
	use usage
}

func (x *buffer) bytes() int64 { return x.Bytes() }

// call runs f on the worker thread while holding the backend's lock, after
// checking that the backend is open and owns bufs (nil ones stay nil).
func (b *Backend) call(bufs []device.Buffer, f func(xs []*buffer) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	xs, err := device.Own[*buffer](&b.track, bufs...)
	if err != nil {
		return err
	}
	return b.w.do(func() error { return f(xs) })
}

// Alloc returns a zeroed buffer of n elements. Out of device memory is an
// error that errors.Is matches with device.ErrOutOfMemory and
// cu.OutOfMemory.
func (b *Backend) Alloc(dt device.DType, n int) (device.Buffer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h, err := b.track.NewHeader(b.caps, dt, n, 0)
	if err != nil {
		return nil, err
	}
	x := &buffer{BufferHeader: h}
	err = b.w.do(func() error {
		if n == 0 {
			return nil
		}
		ptr, err := cu.MemAlloc(x.bytes())
		if err != nil {
			return wrap(fmt.Sprintf("cuMemAlloc(%d bytes)", x.bytes()), err)
		}
		if err := cu.MemsetD8Async(ptr, 0, x.bytes(), b.stream); err != nil {
			cu.MemFree(ptr)
			return wrap("cuMemsetD8Async", err)
		}
		x.ptr = ptr
		if err := b.touched(&x.use); err != nil {
			x.release()
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.track.Adopt(x)
	return x, nil
}

// Write copies src into dst at element off through page-locked staging
// buffers and asynchronous copies on the backend's stream: it returns once
// src has been copied to staging, so src may be reused at once.
func (b *Backend) Write(dst device.Buffer, off int, src any) error {
	return b.call([]device.Buffer{dst}, func(xs []*buffer) error {
		if _, err := device.CheckCopy(dst, off, src); err != nil {
			return err
		}
		host := launch.HostBytes(src)
		if len(host) == 0 {
			return nil
		}
		return b.copyInto(xs[0].ptr+cu.DevicePtr(off*dst.DType().Size()), host, &xs[0].use)
	})
}

// Read copies len(dst) elements of src from element off into dst, after
// all queued work.
func (b *Backend) Read(dst any, src device.Buffer, off int) error {
	return b.call([]device.Buffer{src}, func(xs []*buffer) error {
		if _, err := device.CheckCopy(src, off, dst); err != nil {
			return err
		}
		host := launch.HostBytes(dst)
		if len(host) == 0 {
			return nil
		}
		if err := b.drain(); err != nil {
			return err
		}
		at := xs[0].ptr + cu.DevicePtr(off*src.DType().Size())
		return wrap("cuMemcpyDtoH", cu.MemcpyDtoH(unsafe.Pointer(&host[0]), at, int64(len(host))))
	})
}

// Copy copies all of src into dst on the device.
func (b *Backend) Copy(dst, src device.Buffer) error {
	return b.call([]device.Buffer{dst, src}, func(xs []*buffer) error {
		if dst == nil || src == nil {
			return fmt.Errorf("%w: nil buffer", device.ErrForeignBuffer)
		}
		if dst.DType() != src.DType() || dst.Len() != src.Len() {
			return fmt.Errorf("%w: copy of %d %v into %d %v", device.ErrDType, src.Len(), src.DType(), dst.Len(), dst.DType())
		}
		if xs[1].Len() == 0 {
			return nil
		}
		if err := b.beforeCompute(); err != nil {
			return err
		}
		if err := cu.MemcpyDtoDAsync(xs[0].ptr, xs[1].ptr, xs[1].bytes(), b.stream); err != nil {
			return wrap("cuMemcpyDtoDAsync", err)
		}
		return b.touched(&xs[0].use, &xs[1].use)
	})
}

// Sync waits for every queued copy and kernel and reports their errors.
func (b *Backend) Sync() error {
	return b.call(nil, func([]*buffer) error { return b.drain() })
}

// Free releases one buffer, after the work queued on it.
func (b *Backend) Free(x device.Buffer) error {
	return b.call([]device.Buffer{x}, func(xs []*buffer) error {
		if x == nil {
			return fmt.Errorf("%w: nil buffer", device.ErrForeignBuffer)
		}
		if err := b.drain(); err != nil {
			return err
		}
		b.track.Forget(x) // call holds b.mu
		return xs[0].release()
	})
}

func (x *buffer) release() error {
	var err error
	if x.ptr != 0 {
		err = wrap("cuMemFree", cu.MemFree(x.ptr))
	}
	if uerr := x.use.destroy(); err == nil {
		err = uerr
	}
	x.ptr = 0
	return err
}

// Close waits for queued work, then frees every buffer, the staging
// memory, the module, the stream and the context, and ends the thread.
// Closing twice is not an error.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.track.CheckOpen() != nil {
		return nil
	}
	err := b.w.do(func() error {
		err := b.drain()
		if rerr := b.release(); err == nil {
			err = rerr
		}
		return err
	})
	b.w.stop()
	return err
}

// release frees every driver object; it runs on the worker thread.
func (b *Backend) release() error {
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	live, _ := b.track.Close()
	for _, x := range live {
		keep(x.(*buffer).release())
	}
	for i := range b.tables {
		for _, sc := range []*scratch{&b.tables[i], &b.rows[i], &b.vals[i]} {
			keep(sc.free())
		}
	}
	keep(b.gatherRows.free())
	keep(b.gathered.free())
	if b.stage != nil {
		keep(b.stage.free())
		b.stage = nil
	}
	if len(b.update) > 0 {
		keep(wrap("cuModuleUnload", b.mod.Unload()))
		b.update, b.rowsFn, b.gather = nil, nil, nil
	}
	if b.copied != (cu.Event{}) {
		keep(wrap("cuEventDestroy", cu.DestroyEvent(&b.copied)))
	}
	for _, st := range []*cu.Stream{&b.copies, &b.stream} {
		if *st != (cu.Stream{}) {
			keep(wrap("cuStreamDestroy", st.Destroy()))
		}
	}
	if b.ctx != (cu.CUContext{}) {
		keep(wrap("cuCtxDestroy", b.ctx.Destroy()))
	}
	return first
}
