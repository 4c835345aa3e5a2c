//go:build cuda

package cuda

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/launch"
	"github.com/adagrad-go/adagrad/internal/nvrtc"
	"github.com/adagrad-go/adagrad/kernels"
)

// Backend runs Adagrad on one CUDA device. Make it with Open. Every call
// runs on the calling goroutine, locked to its OS thread for the call with
// the backend's context current (see bound).
type Backend struct {
	mu      sync.Mutex
	track   device.Tracker
	caps    device.Capabilities
	ordinal int
	name    string
	cc      int // compute capability, 10*major+minor
	sms     int // multiprocessors
	image   nvrtc.Image
	ctx     cu.CUContext
	stream  cu.Stream // compute: kernels, memsets, device copies, reads, row uploads
	copies  cu.Stream // Writes (see order.go)
	copied  cu.Event  // the latest copy queued on copies
	// copiedSet: a copy was queued since compute work last waited for one.
	copiedSet bool
	log       launchLog
	mod       cu.Module
	update    map[dtypes]cu.Function       // update_*, by parameter and gradient dtype
	inline    map[dtypes]cu.Function       // update_*_inline, likewise
	units     map[dtypes]cu.Function       // update_units_*, likewise
	rowsFn    map[device.DType]cu.Function // update_rows_*, by parameter dtype
	gather    map[device.DType]cu.Function // gather_rows_*, by parameter dtype
	// tables is device.Adagrad8Bit's code table and thresholds
	// (launch.Tables8Bit), uploaded once.
	tables scratch
	// none stands in for a state buffer no range of an update uses.
	none  buffer
	stage *stager
	args  *args
	// rangeTables caches the last range table of each parameter dtype
	// (see update.go).
	rangeTables map[device.DType]*tableCache
	// Device scratch for row-sparse work too large to read from staging
	// memory directly: the rows and values of UpdateRows, the row indices
	// and the gathered rows of ReadRows. Only the compute stream uses them,
	// so stream order protects them.
	rows, vals, gatherRows, gathered scratch
}

var (
	_ device.Backend   = (*Backend)(nil)
	_ device.Updater   = (*Backend)(nil)
	_ device.RowReader = (*Backend)(nil)
	_ device.Freer     = (*Backend)(nil)
	_ device.Copier    = (*Backend)(nil)
)

// Capabilities: float32, float64, half gradients and half parameters
// (computed in float32), 8-bit state, every rule of kernels/adagrad.cu on
// every parameter dtype, row-sparse where the rule has that form, gather,
// copy and free; host→device writes run beside kernels (on a stream of
// their own), so the optimizer double-buffers gradients.
func (b *Backend) Capabilities() device.Capabilities { return b.caps }

func capabilities() device.Capabilities {
	params := []device.DType{device.Float32, device.Float64, device.BFloat16, device.Float16}
	caps := device.Capabilities{
		DTypes: append(append([]device.DType(nil), params...), device.Uint8),
		Gather: true, Copy: true, Free: true, OverlapsWrites: true,
	}
	for _, r := range device.Rules() {
		spec, _ := r.Spec()
		caps.Rules = append(caps.Rules, device.RuleSupport{Rule: r, DTypes: params, Rows: !spec.DenseOnly})
	}
	return caps
}

// dtypes is a pair of parameter and gradient dtypes.
type dtypes struct{ param, grad device.DType }

// Open opens CUDA device ordinal: it makes a context, compiles
// kernels/adagrad.cu with NVRTC for the device (or takes it from the
// on-disk cache, see nvrtc.CacheEnv) and loads it.
func Open(ordinal int) (*Backend, error) {
	n, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", device.ErrUnavailable, wrap("cuDeviceGetCount", err))
	}
	if ordinal < 0 || ordinal >= n {
		return nil, fmt.Errorf("%w: no CUDA device %d (%d present)", device.ErrUnavailable, ordinal, n)
	}
	b := &Backend{ordinal: ordinal, caps: capabilities(), update: map[dtypes]cu.Function{},
		inline: map[dtypes]cu.Function{}, units: map[dtypes]cu.Function{}, rowsFn: map[device.DType]cu.Function{},
		gather: map[device.DType]cu.Function{}, rangeTables: map[device.DType]*tableCache{}}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	prev, err := cu.CurrentContext()
	if err != nil {
		return nil, wrap("cuCtxGetCurrent", err)
	}
	if err := guard(b.setup); err != nil {
		b.release() // destroying the context pops it off this thread
		return nil, err
	}
	// cuCtxCreate pushed the context on this thread: pop it, so that the
	// thread has its previous context (usually none) again. Calls make it
	// current for their own duration (bound).
	if _, err := cu.PopCurrentCtx(); err != nil {
		b.release()
		return nil, wrap("cuCtxPopCurrent", err)
	}
	if cur, err := cu.CurrentContext(); err == nil && cur != prev {
		cu.SetCurrentContext(prev)
	}
	return b, nil
}

// setup makes the context (current on the calling thread, which Open has
// locked) and everything the backend keeps. On failure Open releases what
// it made.
func (b *Backend) setup() (err error) {
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
	// MapHost: kernels read and write mapped staging memory (always on
	// since CUDA 11, stated for older drivers). SchedAuto spins while
	// waiting on a machine with more cores than contexts, which keeps a
	// synchronous round trip short.
	if b.ctx, err = dev.MakeContext(cu.SchedAuto | cu.MapHost); err != nil {
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
	if b.args, err = newArgs(); err != nil {
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
	function := func(name string) (cu.Function, error) {
		f, err := b.mod.Function(name)
		return f, wrap("cuModuleGetFunction("+name+")", err)
	}
	f32, f64, bf16, f16 := device.Float32, device.Float64, device.BFloat16, device.Float16
	for name, key := range map[string]dtypes{
		"f32": {f32, f32}, "f64": {f64, f64}, "f32_bf16": {f32, bf16}, "f32_f16": {f32, f16},
		"bf16_f32": {bf16, f32}, "bf16_bf16": {bf16, bf16}, "f16_f32": {f16, f32}, "f16_f16": {f16, f16},
	} {
		if b.update[key], err = function("update_" + name); err != nil {
			return err
		}
		if b.inline[key], err = function("update_" + name + "_inline"); err != nil {
			return err
		}
		if b.units[key], err = function("update_units_" + name); err != nil {
			return err
		}
	}
	for name, dt := range map[string]device.DType{"f32": f32, "f64": f64, "bf16": bf16, "f16": f16} {
		if b.rowsFn[dt], err = function("update_rows_" + name); err != nil {
			return err
		}
	}
	for name, dts := range map[string][]device.DType{"f32": {f32}, "f64": {f64}, "u16": {bf16, f16}} {
		f, err := function("gather_rows_" + name)
		if err != nil {
			return err
		}
		for _, dt := range dts {
			b.gather[dt] = f
		}
	}
	tb := launch.Tables8Bit()
	if err := b.tables.grow(b, len(tb)); err != nil {
		return err
	}
	return wrap("cuMemcpyHtoD", cu.MemcpyHtoD(b.tables.ptr, unsafe.Pointer(&tb[0]), int64(len(tb))))
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

// call runs f on the calling goroutine's thread with the context current
// (bound), while holding the backend's lock, after checking that the
// backend is open and owns bufs (nil ones stay nil).
func (b *Backend) call(bufs []device.Buffer, f func(xs []*buffer) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	xs, err := device.Own[*buffer](&b.track, bufs...)
	if err != nil {
		return err
	}
	return b.bound(func() error { return f(xs) })
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
	err = b.bound(func() error {
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
		if err := b.touched(&x.use); err != nil {
			b.drain() // the memset is queued
			cu.MemFree(ptr)
			return err
		}
		x.ptr = ptr
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.track.Adopt(x)
	return x, nil
}

// Write copies src into dst at element off through page-locked staging
// memory and asynchronous copies on the copy stream: it returns once src
// has been copied to staging, so src may be reused at once.
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
// all queued work, through page-locked staging memory.
func (b *Backend) Read(dst any, src device.Buffer, off int) error {
	return b.call([]device.Buffer{src}, func(xs []*buffer) error {
		if _, err := device.CheckCopy(src, off, dst); err != nil {
			return err
		}
		host := launch.HostBytes(dst)
		if len(host) == 0 {
			return nil
		}
		if err := b.beforeCompute(); err != nil {
			return err
		}
		at := xs[0].ptr + cu.DevicePtr(off*src.DType().Size())
		if err := b.stage.download(host, at, b.stream); err != nil {
			return err
		}
		b.finished()
		return nil
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
	x.ptr = 0
	return err
}

// Close waits for queued work, then frees every buffer, the staging
// memory, the module, the streams and the context. Closing twice is not an
// error.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.track.CheckOpen() != nil {
		return nil
	}
	return b.bound(func() error {
		err := b.drain()
		if rerr := b.release(); err == nil {
			err = rerr
		}
		return err
	})
}

// release frees every driver object, with the context current; it may run
// more than once (each handle is cleared once freed).
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
	for _, t := range b.rangeTables {
		keep(t.dev.free())
	}
	for _, sc := range []*scratch{&b.rows, &b.vals, &b.gatherRows, &b.gathered, &b.tables} {
		keep(sc.free())
	}
	if b.stage != nil {
		keep(b.stage.free())
		b.stage = nil
	}
	b.args.free()
	b.args = nil
	keep(b.log.destroy())
	if b.mod != (cu.Module{}) {
		keep(wrap("cuModuleUnload", b.mod.Unload()))
		b.mod = cu.Module{}
	}
	b.update, b.inline, b.units, b.rowsFn, b.gather = nil, nil, nil, nil, nil
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
