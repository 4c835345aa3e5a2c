//go:build opencl

package opencl

import (
	"unsafe"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/launch"
)

// UpdateRows uploads the row indices and values (never a dense gradient)
// and enqueues one launch of update_rows, waiting for nothing.
func (b *Backend) UpdateRows(u device.RowUpdate) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	xs, err := b.own(append([]device.Buffer{u.Param}, u.State[:]...)...)
	if err != nil {
		return err
	}
	if err := u.Validate(); err != nil {
		return err
	}
	dt := u.Param.DType()
	if err := b.caps.CheckRules(dt, true, u.Range); err != nil {
		return err
	}
	r := u.Range
	if len(u.Indices) == 0 || r.Width == 0 {
		return nil
	}
	if err := b.put(&b.rowIdx, launch.RowBytes(u.Indices)); err != nil {
		return err
	}
	if err := b.put(&b.vals, launch.HostBytes(u.Values)); err != nil {
		return err
	}
	pr, err := b.program(dt, dt.Compute())
	if err != nil {
		return err
	}
	spec, _ := r.Rule.Spec()
	perRow := launch.Units(r.Width)
	if spec.Work == device.ByRow {
		perRow = 1
	}
	units := perRow * len(u.Indices)
	real, bytes := b.stateMems(xs[1:])
	st := launch.StateOffsets(r)
	k := pr.rows
	if err := k.SetArgs(xs[0].mem, real, bytes, b.rowIdx.mem, b.vals.mem, uint64(r.Off), uint64(r.Width), uint64(perRow), uint64(units),
		uint64(r.Rule), uint64(spec.Work), st[0], st[1], r.Key); err != nil {
		return wrap("clSetKernelArg", err)
	}
	const firstCoef = 14 // the kernel's argument index of c0
	for i, c := range r.Coef {
		bits := launch.RealBits(dt, c)
		if err := k.SetArgUnsafe(firstCoef+i, dt.Compute().Size(), unsafe.Pointer(&bits)); err != nil {
			return wrap("clSetKernelArg", err)
		}
	}
	return b.enqueue(k, units)
}

// ReadRows gathers the rows on the device (gather_rows) and reads them back
// in one copy, the only wait of the call.
func (b *Backend) ReadRows(dst any, src device.Buffer, off, width int, rows []int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	xs, err := b.own(src)
	if err != nil {
		return err
	}
	if src == nil {
		return device.ErrForeignBuffer
	}
	if err := device.CheckRows(dst, src, off, width, rows); err != nil {
		return err
	}
	host := launch.HostBytes(dst)
	if len(host) == 0 {
		return nil
	}
	if err := b.put(&b.gatherRows, launch.RowBytes(rows)); err != nil {
		return err
	}
	if err := b.grow(&b.gathered, len(host)); err != nil {
		return err
	}
	pr, err := b.program(src.DType(), src.DType().Compute())
	if err != nil {
		return err
	}
	total := len(rows) * width
	k := pr.gather
	if err := k.SetArgs(b.gathered.mem, xs[0].mem, b.gatherRows.mem, uint64(off), uint64(width), uint64(total)); err != nil {
		return wrap("clSetKernelArg", err)
	}
	if err := b.enqueue(k, total); err != nil {
		return err
	}
	return b.read(host, b.gathered.mem, 0)
}
