//go:build cuda

package cuda

import (
	"fmt"

	"gorgonia.org/cu"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/launch"
)

const (
	blockSize = 256 // threads per block
	// maxGrid is CUDA's limit on blocks in x; the kernels loop over the
	// rest (never, in practice: 2^31 blocks of 256 units of 4).
	maxGrid = 1<<31 - 1
	// inlineRanges and inlineBytes are kernels/adagrad.cu's INLINE_RANGES
	// and sizeof(InlineTable): a table of up to inlineRanges ranges goes
	// to the kernel by value.
	inlineRanges = 16
	inlineBytes  = inlineRanges * (launch.MetaWords + device.MaxCoefs) * 8
)

// grid is the number of blocks that give each of n work items a thread.
func grid(n int) int { return min((n+blockSize-1)/blockSize, maxGrid) }

// tableCache is the encoded range table of the last dense update of one
// parameter dtype: a trainer's steps send the same ranges every time (or
// the same but for a decayed learning rate), so the table is encoded only
// when the ranges change, and a device copy (for tables too large to pass
// by value) uploaded only then.
type tableCache struct {
	ranges  []device.Range
	table   []byte // meta, then coef
	metaLen int
	units   int
	dev     scratch
	onDev   bool // dev holds table
	// work: some range's rule works on rows or blocks (kernels
	// update_units_*, table in device memory), not only on elements.
	work bool
}

// table returns the cache of dtype dt holding ranges' table.
func (b *Backend) table(dt device.DType, ranges []device.Range) *tableCache {
	t := b.rangeTables[dt]
	if t == nil {
		t = &tableCache{}
		b.rangeTables[dt] = t
	}
	if t.table == nil || !launch.SameRanges(t.ranges, ranges) {
		meta, coef, units := launch.Table(dt, ranges)
		t.ranges = append(t.ranges[:0], ranges...)
		t.table, t.metaLen, t.units, t.onDev = append(meta, coef...), len(meta), units, false
		t.work = launch.UnitWork(ranges)
	}
	return t
}

// Update queues one launch of kernels/adagrad.cu over every range of u,
// whatever their rules, with the range table as a kernel parameter (or,
// beyond inlineRanges ranges, or with ranges of row or block work, in
// device memory, uploaded when it changes).
// It returns before the device is done, having called nothing that waits.
func (b *Backend) Update(u device.Update) error {
	return b.call(append([]device.Buffer{u.Param, u.Grad}, u.State[:]...), func(xs []*buffer) error {
		if err := u.Validate(); err != nil {
			return err
		}
		dt := u.Param.DType()
		if err := b.caps.CheckRules(dt, false, u.Ranges...); err != nil {
			return err
		}
		t := b.table(dt, u.Ranges)
		if t.units == 0 {
			return nil
		}
		real, bytes := b.states(xs[2:])
		a := b.args
		a.reset()
		a.u64(uint64(xs[0].ptr), uint64(xs[1].ptr), uint64(real.ptr), uint64(bytes.ptr), uint64(b.tables.ptr))
		key := dtypes{dt, u.Grad.DType()}
		fn := b.inline[key]
		if len(u.Ranges) <= inlineRanges && !t.work {
			a.block(t.table, inlineBytes)
		} else {
			if !t.onDev {
				if err := t.dev.grow(b, len(t.table)); err != nil {
					return err
				}
				// On the compute stream: the launch after it reads it, and
				// the launches before it are done with it by then.
				if err := b.stage.upload(t.dev.ptr, t.table, b.stream); err != nil {
					return err
				}
				t.onDev = true
			}
			fn = b.update[key]
			if t.work {
				fn = b.units[key]
			}
			a.u64(uint64(t.dev.ptr), uint64(t.dev.ptr)+uint64(t.metaLen))
		}
		a.u64(uint64(len(u.Ranges)), uint64(t.units))
		return b.launch(fn, t.units, &xs[0].use, &xs[1].use, &real.use, &bytes.use)
	})
}

// states returns the state buffers of the compute dtype and of 8-bit
// codes, with an empty buffer (b.none) standing in for one the ranges'
// rules do not use (kernels never touch it).
func (b *Backend) states(state []*buffer) (real, bytes *buffer) {
	out := [device.StateBuffers]*buffer{}
	for k := range out {
		out[k] = &b.none
		if k < len(state) && state[k] != nil {
			out[k] = state[k]
		}
	}
	return out[device.StateReal], out[device.StateBytes]
}

// launch starts fn with b.args over n work items, one thread each, on the
// compute stream once the queued copies are done, and records that it
// uses the buffers of uses.
func (b *Backend) launch(fn cu.Function, n int, uses ...*usage) error {
	if err := b.beforeCompute(); err != nil {
		return err
	}
	if err := b.args.launch(fn, grid(n), blockSize, b.stream); err != nil {
		return err
	}
	return b.touched(uses...)
}

// scratch is device memory the backend reuses across launches, grown as
// needed.
type scratch struct {
	ptr cu.DevicePtr
	n   int
}

// grow makes the scratch hold at least n bytes, doubling. The old memory
// is freed after all queued work, since a queued launch may still use it.
func (sc *scratch) grow(b *Backend, n int) error {
	if n <= sc.n {
		return nil
	}
	size := max(n, 2*sc.n, 4096)
	if sc.ptr != 0 {
		if err := b.drain(); err != nil {
			return err
		}
		if err := sc.free(); err != nil {
			return err
		}
	}
	ptr, err := cu.MemAlloc(int64(size))
	if err != nil {
		return wrap(fmt.Sprintf("cuMemAlloc(%d bytes)", size), err)
	}
	sc.ptr, sc.n = ptr, size
	return nil
}

func (sc *scratch) free() error {
	if sc.ptr == 0 {
		return nil
	}
	err := wrap("cuMemFree", cu.MemFree(sc.ptr))
	sc.ptr, sc.n = 0, 0
	return err
}
