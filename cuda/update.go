//go:build cuda

package cuda

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/adagrad-go/adagrad/device"
)

const (
	unitWidth   = 4   // elements per thread per unit; must match kernels/adagrad.cu
	blockSize   = 256 // threads per block
	blocksPerSM = 8   // enough resident warps to hide memory latency
)

// Adagrad queues one launch of kernels/adagrad.cu over every range of u,
// after a copy of the range table. It returns before the device is done.
func (b *Backend) Adagrad(u device.Update) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return b.call([]device.Buffer{u.Param, u.Grad, u.Accum}, func(xs []*buffer) error {
		dt := u.Param.DType()
		table, metaBytes, units := rangeTable(dt, u.Ranges)
		if units == 0 {
			return nil
		}
		if err := b.growTable(len(table)); err != nil {
			return err
		}
		if err := b.stage.upload(b.table, table, b.stream); err != nil {
			return err
		}
		args := [7]uint64{
			uint64(xs[0].ptr), uint64(xs[1].ptr), uint64(xs[2].ptr),
			uint64(b.table), uint64(b.table) + uint64(metaBytes),
			uint64(len(u.Ranges)), uint64(units),
		}
		params := make([]unsafe.Pointer, len(args))
		for i := range args {
			params[i] = unsafe.Pointer(&args[i])
		}
		blocks := min((units+blockSize-1)/blockSize, b.sms*blocksPerSM)
		err := b.fn[dt].Launch(blocks, 1, 1, blockSize, 1, 1, 0, b.stream, params)
		return wrap(fmt.Sprintf("cuLaunchKernel(%d blocks)", blocks), err)
	})
}

// rangeTable lays out the kernel's two tables in one buffer: three uint64
// per range (first unit, offset, length), then four coefficients of the
// dtype per range (lr, eps, weight decay, sign), rounded here exactly as the
// CPU backend rounds them. metaBytes is where the coefficients start.
func rangeTable(dt device.DType, ranges []device.Range) (table []byte, metaBytes, units int) {
	table = make([]byte, 0, (24+4*dt.Size())*len(ranges))
	for _, r := range ranges {
		table = binary.LittleEndian.AppendUint64(table, uint64(units))
		table = binary.LittleEndian.AppendUint64(table, uint64(r.Off))
		table = binary.LittleEndian.AppendUint64(table, uint64(r.Len))
		units += (r.Len + unitWidth - 1) / unitWidth
	}
	metaBytes = len(table)
	for _, r := range ranges {
		sign := 1.0
		if r.Maximize {
			sign = -1
		}
		for _, c := range []float64{r.LR, r.Eps, r.WeightDecay, sign} {
			if dt == device.Float32 {
				table = binary.LittleEndian.AppendUint32(table, math.Float32bits(float32(c)))
			} else {
				table = binary.LittleEndian.AppendUint64(table, math.Float64bits(c))
			}
		}
	}
	return table, metaBytes, units
}

// growTable makes the device table hold at least n bytes. The old table is
// freed after the stream drains, since a queued launch may still read it.
func (b *Backend) growTable(n int) error {
	if n <= b.tableN {
		return nil
	}
	if b.table != 0 {
		if err := b.stream.Synchronize(); err != nil {
			return wrap("cuStreamSynchronize", err)
		}
		if err := cu.MemFree(b.table); err != nil {
			return wrap("cuMemFree", err)
		}
		b.table, b.tableN = 0, 0
	}
	size := max(n, 4096)
	ptr, err := cu.MemAlloc(int64(size))
	if err != nil {
		return wrap(fmt.Sprintf("cuMemAlloc(%d bytes)", size), err)
	}
	b.table, b.tableN = ptr, size
	return nil
}
