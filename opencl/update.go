//go:build opencl

package opencl

import (
	"fmt"
	"unsafe"

	"github.com/jgillich/go-opencl/cl"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/launch"
)

// Update enqueues one launch of kernels/adagrad.cl over every range of u,
// whatever their rules. It returns before the device has finished; Sync or
// Read wait for it.
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
	meta, coef, units := launch.Table(dt, u.Ranges)
	if units == 0 {
		return nil
	}
	if err := b.upload(&b.meta, &b.metaN, meta); err != nil {
		return err
	}
	if err := b.upload(&b.coef, &b.coefN, coef); err != nil {
		return err
	}
	s0, s1 := stateMems(xs[0], xs[2:])
	k := b.update[u.Grad.DType()] // the half-gradient builds are for float parameters
	if err := k.SetArgs(xs[0].mem, xs[1].mem, s0, s1, b.meta, b.coef, uint32(len(u.Ranges)), uint64(units)); err != nil {
		return wrap("clSetKernelArg", err)
	}
	return b.enqueue(k, units)
}

// stateMems returns the memory of state buffers 0 and 1, with the
// parameters standing in for a state the rules do not have (kernels never
// touch it).
func stateMems(param *buffer, state []*buffer) (s0, s1 *cl.MemObject) {
	mems := [device.MaxStates]*cl.MemObject{}
	for k := range mems {
		mems[k] = param.mem
		if k < len(state) && state[k] != nil && state[k].mem != nil {
			mems[k] = state[k].mem
		}
	}
	return mems[0], mems[1]
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

// upload writes a small table into *mem, growing it when too small. The
// write blocks, so the host slice is free again on return.
func (b *Backend) upload(mem **cl.MemObject, capacity *int, data []byte) error {
	if err := b.grow(mem, capacity, len(data)); err != nil {
		return err
	}
	ev, err := b.queue.EnqueueWriteBuffer(*mem, true, 0, len(data), unsafe.Pointer(&data[0]), nil)
	if err != nil {
		return wrap("clEnqueueWriteBuffer", err)
	}
	ev.Release()
	return nil
}

// grow makes *mem a buffer of at least size bytes. Commands queued on the
// old one still run: OpenCL frees a buffer only once they are done.
func (b *Backend) grow(mem **cl.MemObject, capacity *int, size int) error {
	if *mem != nil && *capacity >= size {
		return nil
	}
	if *mem != nil {
		(*mem).Release()
		*mem = nil
	}
	size = max(size, 256)
	m, err := b.ctx.CreateEmptyBuffer(cl.MemReadWrite, size)
	if err != nil {
		return wrap(fmt.Sprintf("clCreateBuffer(%d bytes)", size), err)
	}
	*mem, *capacity = m, size
	return nil
}
