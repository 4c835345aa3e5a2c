//go:build cuda

package cuda

import (
	"unsafe"

	"gorgonia.org/cu"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/launch"
)

// UpdateRows uploads the row indices and values (never a dense gradient)
// and queues one launch of update_rows.
func (b *Backend) UpdateRows(u device.RowUpdate) error {
	return b.call(append([]device.Buffer{u.Param}, u.State[:]...), func(xs []*buffer) error {
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
		b.rowFlip ^= 1
		rows, vals := &b.rows[b.rowFlip], &b.vals[b.rowFlip]
		if err := rows.put(b, launch.Rows(u.Indices)); err != nil {
			return err
		}
		if err := vals.put(b, launch.HostBytes(u.Values)); err != nil {
			return err
		}
		perRow := launch.Units(r.Width)
		units := perRow * len(u.Indices)
		s0, s1 := states(xs[0], xs[1:])
		args := []uint64{uint64(xs[0].ptr), uint64(s0.ptr), uint64(s1.ptr), uint64(rows.ptr), uint64(vals.ptr),
			uint64(r.Off), uint64(r.Width), uint64(perRow), uint64(units),
			uint64(r.Rule), uint64(r.StateOff[0]), uint64(r.StateOff[1])}
		for _, c := range r.Coef {
			args = append(args, launch.RealBits(dt, c))
		}
		return b.launch(b.rowsFn[dt], units, []*usage{&xs[0].use, &s0.use, &s1.use, &rows.use, &vals.use}, args...)
	})
}

// ReadRows gathers the rows on the device (gather_rows) and reads them back
// in one copy.
func (b *Backend) ReadRows(dst any, src device.Buffer, off, width int, rows []int64) error {
	return b.call([]device.Buffer{src}, func(xs []*buffer) error {
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
		if err := b.gatherRows.put(b, launch.Rows(rows)); err != nil {
			return err
		}
		if err := b.gathered.grow(b, len(host)); err != nil {
			return err
		}
		total := len(rows) * width
		if err := b.launch(b.gather[src.DType()], total, []*usage{&xs[0].use, &b.gatherRows.use, &b.gathered.use},
			uint64(b.gathered.ptr), uint64(xs[0].ptr), uint64(b.gatherRows.ptr),
			uint64(off), uint64(width), uint64(total)); err != nil {
			return err
		}
		if err := b.drain(); err != nil {
			return err
		}
		return wrap("cuMemcpyDtoH", cu.MemcpyDtoH(unsafe.Pointer(&host[0]), b.gathered.ptr, int64(len(host))))
	})
}
