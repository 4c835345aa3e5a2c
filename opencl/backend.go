//go:build opencl

package opencl

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/jgillich/go-opencl/cl"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/launch"
	"github.com/adagrad-go/adagrad/kernels"
)

// Backend runs Adagrad on one OpenCL device. Make it with Open.
type Backend struct {
	mu    sync.Mutex
	track device.Tracker
	caps  device.Capabilities
	info  deviceInfo
	dev   *cl.Device
	ctx   *cl.Context
	queue *cl.CommandQueue
	progs []*cl.Program
	// programs holds the kernels built for each pair of parameter and
	// gradient dtypes (see program).
	programs map[dtypes]*program
	local    int // work-group size
	// tables is device.Adagrad8Bit's code table and thresholds
	// (launch.Tables8Bit), uploaded once.
	tables *cl.MemObject
	stage  stager
	// rangeTables caches the range table of the last dense update of each
	// parameter dtype, on the device (see update.go).
	rangeTables map[device.DType]*tableCache
	// The rows and values of the last row-sparse launch, and the rows and
	// result of the last gather, grown as needed. The in-order queue runs
	// an upload into them after the kernels queued before it.
	rowIdx, vals, gatherRows, gathered scratch
}

var (
	_ device.Backend   = (*Backend)(nil)
	_ device.Updater   = (*Backend)(nil)
	_ device.RowReader = (*Backend)(nil)
	_ device.Freer     = (*Backend)(nil)
	_ device.Copier    = (*Backend)(nil)
)

// Capabilities: float32, float64 where the device has cl_khr_fp64, half
// gradients and half parameters (computed in float32), 8-bit state, every
// rule of kernels/adagrad.cl on every parameter dtype, row-sparse where the
// rule has that form, gather, copy and free. Transfers and kernels share
// one in-order queue, so a write never overlaps a kernel.
func (b *Backend) Capabilities() device.Capabilities { return b.caps }

func capabilities(fp64 bool) device.Capabilities {
	params := []device.DType{device.Float32, device.BFloat16, device.Float16}
	if fp64 {
		params = append(params, device.Float64)
	}
	caps := device.Capabilities{
		DTypes: append(append([]device.DType(nil), params...), device.Uint8),
		Gather: true, Copy: true, Free: true,
	}
	for _, r := range device.Rules() {
		spec, _ := r.Spec()
		caps.Rules = append(caps.Rules, device.RuleSupport{Rule: r, DTypes: params, Rows: !spec.DenseOnly})
	}
	return caps
}

// ErrRounding: the device cannot divide and take square roots correctly
// rounded in float32, so it cannot agree bitwise with the other backends.
var ErrRounding = errors.New("opencl: device lacks correctly rounded float32 divide and sqrt (CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT)")

// buildOptions are shared by both dtypes: IEEE division and square root,
// and no flag that would allow contraction or relaxed math.
const buildOptions = "-cl-fp32-correctly-rounded-divide-sqrt"

// Open opens device d of platform p, as listed by Devices.
func Open(platform, dev int) (*Backend, error) {
	infos, err := listDevices()
	if err != nil {
		return nil, err
	}
	var info *deviceInfo
	for i := range infos {
		if infos[i].platform == platform && infos[i].device == dev {
			info = &infos[i]
		}
	}
	if info == nil {
		return nil, fmt.Errorf("%w: no OpenCL device %d on platform %d (%d devices found)", device.ErrUnavailable, dev, platform, len(infos))
	}
	if !info.roundedDivSqrt {
		return nil, fmt.Errorf("%w: %s: %w", device.ErrUnavailable, info.name, ErrRounding)
	}
	b := &Backend{info: *info, caps: capabilities(info.fp64), programs: map[dtypes]*program{}, rangeTables: map[device.DType]*tableCache{}}
	if err := b.init(); err != nil {
		b.release()
		return nil, err
	}
	return b, nil
}

func (b *Backend) init() error {
	platforms, err := cl.GetPlatforms()
	if err != nil {
		return wrap("clGetPlatformIDs", err)
	}
	if b.info.platform >= len(platforms) {
		return fmt.Errorf("%w: platform %d vanished", device.ErrUnavailable, b.info.platform)
	}
	devs, err := platforms[b.info.platform].GetDevices(cl.DeviceTypeAll)
	if err != nil {
		return wrap("clGetDeviceIDs", err)
	}
	if b.info.device >= len(devs) {
		return fmt.Errorf("%w: device %d vanished", device.ErrUnavailable, b.info.device)
	}
	b.dev = devs[b.info.device]
	if b.ctx, err = cl.CreateContext([]*cl.Device{b.dev}); err != nil {
		return wrap("clCreateContext", err)
	}
	if b.queue, err = b.ctx.CreateCommandQueue(b.dev, 0); err != nil {
		return wrap("clCreateCommandQueue", err)
	}
	first, err := b.program(device.Float32, device.Float32)
	if err != nil {
		return err
	}
	if b.info.fp64 {
		if _, err := b.program(device.Float64, device.Float64); err != nil {
			return err
		}
	}
	wg, err := first.update.WorkGroupSize(b.dev)
	if err != nil {
		return wrap("clGetKernelWorkGroupInfo", err)
	}
	b.local = max(1, min(256, wg))
	tb := launch.Tables8Bit()
	if b.tables, err = b.ctx.CreateEmptyBuffer(cl.MemReadOnly, len(tb)); err != nil {
		return wrap("clCreateBuffer", err)
	}
	ev, err := b.queue.EnqueueWriteBuffer(b.tables, true, 0, len(tb), unsafe.Pointer(&tb[0]), nil)
	if err != nil {
		return wrap("clEnqueueWriteBuffer", err)
	}
	ev.Release()
	return nil
}

// dtypes is a pair of parameter and gradient dtypes.
type dtypes struct{ param, grad device.DType }

// program is kernels/adagrad.cl built for one pair of parameter and
// gradient dtypes: update and update_units, and for gradients of the
// compute dtype update_rows and gather_rows.
type program struct {
	update, units, rows, gather *cl.Kernel
}

// program returns the kernels for parameters of p and gradients of g,
// building them when first asked (half-precision ones are rare).
func (b *Backend) program(p, g device.DType) (*program, error) {
	if pr := b.programs[dtypes{p, g}]; pr != nil {
		return pr, nil
	}
	defines := "-DREAL=float"
	if p == device.Float64 {
		defines = "-DREAL=double -DADAGRAD_FP64"
	}
	defines += map[device.DType]string{device.BFloat16: " -DPARAM_BF16", device.Float16: " -DPARAM_F16"}[p]
	if g.Half() {
		defines += map[device.DType]string{device.BFloat16: " -DGRAD_BF16", device.Float16: " -DGRAD_F16"}[g]
	}
	pr, err := b.buildSource(kernels.OpenCL, fmt.Sprintf("%v parameters and %v gradients", p, g), defines, g == p.Compute())
	if err != nil {
		return nil, err
	}
	b.programs[dtypes{p, g}] = pr
	return pr, nil
}

// buildSource compiles src and returns its kernels (update and
// update_units, and with rows set update_rows and gather_rows); a compiler
// failure carries the build log.
func (b *Backend) buildSource(src, what, defines string, rows bool) (*program, error) {
	prog, err := b.ctx.CreateProgramWithSource([]string{src})
	if err != nil {
		return nil, wrap("clCreateProgramWithSource", err)
	}
	b.progs = append(b.progs, prog)
	if err := prog.BuildProgram([]*cl.Device{b.dev}, buildOptions+" "+defines); err != nil {
		return nil, fmt.Errorf("opencl: building kernels/adagrad.cl for %s on %s: %w", what, b.info.name, err)
	}
	pr := &program{}
	names := map[string]**cl.Kernel{"update": &pr.update, "update_units": &pr.units}
	if rows {
		names["update_rows"], names["gather_rows"] = &pr.rows, &pr.gather
	}
	for name, into := range names {
		k, err := prog.CreateKernel(name)
		if err != nil {
			pr.release()
			return nil, wrap("clCreateKernel("+name+")", err)
		}
		*into = k
	}
	return pr, nil
}

func (pr *program) release() {
	for _, k := range []*cl.Kernel{pr.update, pr.units, pr.rows, pr.gather} {
		if k != nil {
			k.Release()
		}
	}
}

func (b *Backend) String() string {
	return fmt.Sprintf("%s %s (%s)", b.info.spec(), b.info.name, b.info.platformName)
}

type buffer struct {
	device.BufferHeader
	mem *cl.MemObject // nil for an empty buffer: OpenCL has no zero-size buffers
}

// Alloc returns a zeroed buffer of n elements.
func (b *Backend) Alloc(dt device.DType, n int) (device.Buffer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h, err := b.track.NewHeader(b.caps, dt, n, 0)
	if err != nil {
		return nil, err
	}
	x := &buffer{BufferHeader: h}
	if n > 0 {
		size := int(h.Bytes())
		mem, err := b.ctx.CreateEmptyBuffer(cl.MemReadWrite, size)
		if err != nil {
			return nil, wrap(fmt.Sprintf("clCreateBuffer(%d bytes)", size), err)
		}
		x.mem = mem
		var zero [8]byte
		ev, err := b.queue.EnqueueFillBuffer(mem, unsafe.Pointer(&zero[0]), dt.Size(), 0, size, nil)
		if err == nil {
			ev.Release()
			err = b.queue.Finish()
		}
		if err != nil {
			mem.Release()
			return nil, wrap("clEnqueueFillBuffer", err)
		}
	}
	b.track.Adopt(x)
	return x, nil
}

// own is device.Own for this backend's buffers; the caller holds b.mu.
func (b *Backend) own(bufs ...device.Buffer) ([]*buffer, error) {
	return device.Own[*buffer](&b.track, bufs...)
}

// Write copies src into dst at element off through mapped staging memory,
// without waiting for the queue: it returns once src has been copied to
// staging, so src may be reused at once.
func (b *Backend) Write(dst device.Buffer, off int, src any) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	xs, err := b.own(dst)
	if err != nil {
		return err
	}
	if _, err := device.CheckCopy(dst, off, src); err != nil {
		return err
	}
	host := launch.HostBytes(src)
	if len(host) == 0 {
		return nil
	}
	return b.write(xs[0].mem, off*dst.DType().Size(), host)
}

// Read copies len(dst) elements of src from element off into dst, after
// all queued work, through mapped staging memory.
func (b *Backend) Read(dst any, src device.Buffer, off int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	xs, err := b.own(src)
	if err != nil {
		return err
	}
	if _, err := device.CheckCopy(src, off, dst); err != nil {
		return err
	}
	host := launch.HostBytes(dst)
	if len(host) == 0 {
		return nil
	}
	return b.read(host, xs[0].mem, off*src.DType().Size())
}

// Copy copies all of src into dst on the device (clEnqueueCopyBuffer).
func (b *Backend) Copy(dst, src device.Buffer) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	xs, err := b.own(dst, src)
	if err != nil {
		return err
	}
	if dst == nil || src == nil {
		return fmt.Errorf("%w: nil buffer", device.ErrForeignBuffer)
	}
	if dst.DType() != src.DType() || dst.Len() != src.Len() {
		return fmt.Errorf("%w: copy of %d %v into %d %v", device.ErrDType, src.Len(), src.DType(), dst.Len(), dst.DType())
	}
	if src.Len() == 0 {
		return nil
	}
	ev, err := b.queue.EnqueueCopyBuffer(xs[1].mem, xs[0].mem, 0, 0, src.Len()*src.DType().Size(), nil)
	if err != nil {
		return wrap("clEnqueueCopyBuffer", err)
	}
	ev.Release()
	return nil
}

// Sync waits for every queued command.
func (b *Backend) Sync() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.track.CheckOpen(); err != nil {
		return err
	}
	if err := b.queue.Finish(); err != nil {
		return wrap("clFinish", err)
	}
	b.stage.idle()
	return nil
}

// Free releases one buffer.
func (b *Backend) Free(x device.Buffer) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	xs, err := b.own(x)
	if err != nil {
		return err
	}
	if x == nil {
		return fmt.Errorf("%w: nil buffer", device.ErrForeignBuffer)
	}
	b.track.Forget(x)
	xs[0].release()
	return nil
}

func (x *buffer) release() {
	if x.mem != nil {
		x.mem.Release()
	}
	x.mem = nil
}

// Close waits for queued work, then releases every buffer, kernel, program,
// the queue and the context. Closing twice is not an error.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.track.CheckOpen() != nil {
		return nil
	}
	var err error
	if b.queue != nil {
		err = wrap("clFinish", b.queue.Finish())
	}
	b.release()
	return err
}

// release frees every OpenCL object the backend holds. The caller holds
// b.mu, or is Open cleaning up after a failure.
func (b *Backend) release() {
	live, _ := b.track.Close()
	for _, x := range live {
		x.(*buffer).release()
	}
	b.releaseStage()
	for _, t := range b.rangeTables {
		t.meta.release()
		t.coef.release()
	}
	for _, sc := range []*scratch{&b.rowIdx, &b.vals, &b.gatherRows, &b.gathered} {
		sc.release()
	}
	for key, pr := range b.programs {
		pr.release()
		delete(b.programs, key)
	}
	if b.tables != nil {
		b.tables.Release()
		b.tables = nil
	}
	for _, p := range b.progs {
		p.Release()
	}
	b.progs = nil
	if b.queue != nil {
		b.queue.Release()
		b.queue = nil
	}
	if b.ctx != nil {
		b.ctx.Release()
		b.ctx = nil
	}
}
