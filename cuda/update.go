//go:build cuda

package cuda

import (
	"fmt"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/launch"
)

const (
	blockSize   = 256 // threads per block
	blocksPerSM = 8   // enough resident warps to hide memory latency
)

// Update queues one launch of kernels/adagrad.cu over every range of u,
// whatever their rules, after a copy of the range table. It returns before
// the device is done.
func (b *Backend) Update(u device.Update) error {
	return b.call(append([]device.Buffer{u.Param, u.Grad}, u.State[:]...), func(xs []*buffer) error {
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
		b.tableFlip ^= 1
		table := &b.tables[b.tableFlip]
		if err := table.put(b, append(meta, coef...)); err != nil {
			return err
		}
		s0, s1 := states(xs[0], xs[2:])
		uses := []*usage{&xs[0].use, &xs[1].use, &table.use, &s0.use, &s1.use}
		return b.launch(b.update[u.Grad.DType()], units, // the half-gradient kernels are for float32 parameters
			uses, uint64(xs[0].ptr), uint64(xs[1].ptr), uint64(s0.ptr), uint64(s1.ptr),
			uint64(table.ptr), uint64(table.ptr)+uint64(len(meta)),
			uint64(len(u.Ranges)), uint64(units))
	})
}

// states returns state buffers 0 and 1, with the parameters standing in
// for a state the rules do not have (kernels never touch it).
func states(param *buffer, state []*buffer) (s0, s1 *buffer) {
	out := [device.MaxStates]*buffer{}
	for k := range out {
		out[k] = param
		if k < len(state) && state[k] != nil {
			out[k] = state[k]
		}
	}
	return out[0], out[1]
}

// launch starts fn over units work items, grid-stride, on the compute
// stream once the queued copies are done, and records that it uses the
// buffers of uses. Every argument is passed in an 8-byte slot, as
// gorgonia.org/cu's Launch copies them; the kernel reads as many bytes as
// its parameter's type has (little-endian: a float32 or uint32 sits in the
// low half).
func (b *Backend) launch(fn cu.Function, units int, uses []*usage, args ...uint64) error {
	params := make([]unsafe.Pointer, len(args))
	for i := range args {
		params[i] = unsafe.Pointer(&args[i])
	}
	if err := b.beforeCompute(); err != nil {
		return err
	}
	blocks := min((units+blockSize-1)/blockSize, b.sms*blocksPerSM)
	if err := fn.Launch(blocks, 1, 1, blockSize, 1, 1, 0, b.stream, params); err != nil {
		return wrap(fmt.Sprintf("cuLaunchKernel(%d blocks)", blocks), err)
	}
	return b.touched(uses...)
}

// scratch is device memory the backend reuses across launches, grown as
// needed.
type scratch struct {
	ptr cu.DevicePtr
	n   int
	use usage
}

// put copies data into the scratch through the staging ring on the copy
// stream, growing it first when too small.
func (sc *scratch) put(b *Backend, data []byte) error {
	if err := sc.grow(b, len(data)); err != nil {
		return err
	}
	return b.copyInto(sc.ptr, data, &sc.use)
}

// grow makes the scratch hold at least n bytes. The old memory is freed
// after both streams drain, since a queued launch may still use it.
func (sc *scratch) grow(b *Backend, n int) error {
	if n <= sc.n {
		return nil
	}
	if sc.ptr != 0 {
		if err := b.drain(); err != nil {
			return err
		}
		if err := sc.free(); err != nil {
			return err
		}
	}
	size := max(n, 4096)
	ptr, err := cu.MemAlloc(int64(size))
	if err != nil {
		return wrap(fmt.Sprintf("cuMemAlloc(%d bytes)", size), err)
	}
	sc.ptr, sc.n = ptr, size
	return nil
}

func (sc *scratch) free() error {
	err := sc.use.destroy()
	if sc.ptr == 0 {
		return err
	}
	if ferr := wrap("cuMemFree", cu.MemFree(sc.ptr)); err == nil {
		err = ferr
	}
	sc.ptr, sc.n = 0, 0
	return err
}
