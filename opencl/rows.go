//go:build opencl

package opencl

import (
	"unsafe"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/launch"
)

var _ device.RowSparse = (*Backend)(nil)

// AdagradRows uploads the row indices and values (never a dense gradient)
// and enqueues one launch of adagrad_rows.
func (b *Backend) AdagradRows(u device.RowUpdate) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	xs, err := b.own(u.Param, u.Accum)
	if err != nil {
		return err
	}
	if err := u.Validate(); err != nil {
		return err
	}
	if len(u.Indices) == 0 || u.Width == 0 {
		return nil
	}
	dt := u.Param.DType()
	ptr, n := hostBytes(u.Values)
	if err := b.upload(&b.rows, &b.rowsN, launch.Rows(u.Indices)); err != nil {
		return err
	}
	if err := b.upload(&b.vals, &b.valsN, unsafe.Slice((*byte)(ptr), n)); err != nil {
		return err
	}
	perRow := launch.Units(u.Width)
	units := perRow * len(u.Indices)
	k := b.rowsK[dt]
	if err := k.SetArgs(xs[0].mem, xs[1].mem, b.rows, b.vals, uint64(u.Off), uint64(u.Width), uint64(perRow), uint64(units)); err != nil {
		return wrap("clSetKernelArg", err)
	}
	for i, c := range []float64{u.LR, u.Eps, launch.Sign(u.Maximize)} {
		bits := launch.RealBits(dt, c)
		if err := k.SetArgUnsafe(8+i, dt.Size(), unsafe.Pointer(&bits)); err != nil {
			return wrap("clSetKernelArg", err)
		}
	}
	return b.enqueue(k, units)
}

var _ device.RowReader = (*Backend)(nil)

// ReadRows gathers the rows on the device (gather_rows) and reads them back
// in one copy.
func (b *Backend) ReadRows(dst any, src device.Buffer, off, width int, rows []int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	xs, err := b.own(src)
	if err != nil {
		return err
	}
	if err := device.CheckRows(dst, src, off, width, rows); err != nil {
		return err
	}
	ptr, n := hostBytes(dst)
	if n == 0 {
		return nil
	}
	if err := b.upload(&b.rows, &b.rowsN, launch.Rows(rows)); err != nil {
		return err
	}
	if err := b.grow(&b.gathered, &b.gatheredN, n); err != nil {
		return err
	}
	total := len(rows) * width
	k := b.gather[src.DType()]
	if err := k.SetArgs(b.gathered, xs[0].mem, b.rows, uint64(off), uint64(width), uint64(total)); err != nil {
		return wrap("clSetKernelArg", err)
	}
	if err := b.enqueue(k, total); err != nil {
		return err
	}
	ev, err := b.queue.EnqueueReadBuffer(b.gathered, true, 0, n, ptr, nil)
	if err != nil {
		return wrap("clEnqueueReadBuffer", err)
	}
	ev.Release()
	return nil
}
