//go:build opencl

package opencl

import (
	"fmt"

	"github.com/jgillich/go-opencl/cl"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/launch"
)

// tableCache is the range table of the last dense update of one parameter
// dtype, on the device: a trainer's steps send the same ranges every time,
// so the table is encoded and uploaded only when they change (a decayed
// learning rate changes it every step: then the upload is queued without
// waiting, like every transfer).
type tableCache struct {
	ranges     []device.Range
	units      int
	meta, coef scratch
	// work: some range's rule works on rows or blocks (kernel
	// update_units), not only on elements (update).
	work bool
}

// table returns dt's table holding ranges, uploaded.
func (b *Backend) table(dt device.DType, ranges []device.Range) (*tableCache, error) {
	t := b.rangeTables[dt]
	if t == nil {
		t = &tableCache{}
		b.rangeTables[dt] = t
	}
	if t.ranges != nil && launch.SameRanges(t.ranges, ranges) {
		return t, nil
	}
	t.ranges = nil // until uploaded
	meta, coef, units := launch.Table(dt, ranges)
	if units > 0 {
		if err := b.put(&t.meta, meta); err != nil {
			return nil, err
		}
		if err := b.put(&t.coef, coef); err != nil {
			return nil, err
		}
	}
	t.ranges, t.units = append(make([]device.Range, 0, len(ranges)), ranges...), units
	t.work = launch.UnitWork(ranges)
	return t, nil
}

// Update enqueues one launch of kernels/adagrad.cl over every range of u,
// whatever their rules. It returns before the device has finished, having
// waited for nothing; Sync or Read wait for it.
func (b *Backend) Update(u device.Update) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	xs, err := b.own(append([]device.Buffer{u.Param, u.Grad}, u.State[:]...)...)
	if err != nil {
		return err
	}
	if err := u.Validate(); err != nil {
		return err
	}
	dt := u.Param.DType()
	if err := b.caps.CheckRules(dt, false, u.Ranges...); err != nil {
		return err
	}
	pr, err := b.program(dt, u.Grad.DType())
	if err != nil {
		return err
	}
	t, err := b.table(dt, u.Ranges)
	if err != nil || t.units == 0 {
		return err
	}
	real, bytes := b.stateMems(xs[2:])
	k := pr.update
	if t.work {
		k = pr.units
	}
	if err := k.SetArgs(xs[0].mem, xs[1].mem, real, bytes, b.tables, t.meta.mem, t.coef.mem, uint32(len(u.Ranges)), uint64(t.units)); err != nil {
		return wrap("clSetKernelArg", err)
	}
	return b.enqueue(k, t.units)
}

// stateMems returns the memory of the state buffers of the compute dtype
// and of 8-bit codes, with the tables standing in for a buffer the ranges'
// rules do not use (or an empty one: OpenCL has no empty buffers); kernels
// never touch it.
func (b *Backend) stateMems(state []*buffer) (real, bytes *cl.MemObject) {
	mems := [device.StateBuffers]*cl.MemObject{}
	for k := range mems {
		mems[k] = b.tables
		if k < len(state) && state[k] != nil && state[k].mem != nil {
			mems[k] = state[k].mem
		}
	}
	return mems[device.StateReal], mems[device.StateBytes]
}

// enqueue launches k with one work-item per unit: PoCL vectorises across
// work-items only when each runs the body once (a grid-stride loop made it
// 5 times slower), and GPUs are as well served.
func (b *Backend) enqueue(k *cl.Kernel, units int) error {
	global := (units + b.local - 1) / b.local * b.local
	ev, err := b.queue.EnqueueNDRangeKernel(k, nil, []int{global}, []int{b.local}, nil)
	if err != nil {
		return wrap("clEnqueueNDRangeKernel", err)
	}
	ev.Release()
	return nil
}

// scratch is device memory the backend reuses across launches, grown as
// needed.
type scratch struct {
	mem *cl.MemObject
	n   int // capacity in bytes
}

// put queues an upload of data into sc, growing it first when too small.
func (b *Backend) put(sc *scratch, data []byte) error {
	if err := b.grow(sc, len(data)); err != nil {
		return err
	}
	return b.write(sc.mem, 0, data)
}

// grow makes sc hold at least size bytes, doubling. Commands queued on the
// old buffer still run: OpenCL frees a buffer only once they are done.
func (b *Backend) grow(sc *scratch, size int) error {
	if sc.mem != nil && sc.n >= size {
		return nil
	}
	size = max(size, 2*sc.n, 256)
	sc.release()
	m, err := b.ctx.CreateEmptyBuffer(cl.MemReadWrite, size)
	if err != nil {
		return wrap(fmt.Sprintf("clCreateBuffer(%d bytes)", size), err)
	}
	sc.mem, sc.n = m, size
	return nil
}

func (sc *scratch) release() {
	if sc.mem != nil {
		sc.mem.Release()
	}
	sc.mem, sc.n = nil, 0
}
