//go:build cuda

package cuda

import (
	"unsafe"

	"gorgonia.org/cu"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/launch"
)

var _ device.RowSparse = (*Backend)(nil)

// AdagradRows uploads the row indices and values (never a dense gradient)
// and queues one launch of adagrad_rows.
func (b *Backend) AdagradRows(u device.RowUpdate) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return b.call([]device.Buffer{u.Param, u.Accum}, func(xs []*buffer) error {
		if len(u.Indices) == 0 || u.Width == 0 {
			return nil
		}
		dt := u.Param.DType()
		b.rowFlip ^= 1
		rows, vals := &b.rows[b.rowFlip], &b.vals[b.rowFlip]
		if err := rows.put(b, launch.Rows(u.Indices)); err != nil {
			return err
		}
		if err := vals.put(b, launch.HostBytes(u.Values)); err != nil {
			return err
		}
		perRow := launch.Units(u.Width)
		units := perRow * len(u.Indices)
		return b.launch(b.rowsFn[dt], units, []*usage{&xs[0].use, &xs[1].use, &rows.use, &vals.use},
			uint64(xs[0].ptr), uint64(xs[1].ptr), uint64(rows.ptr), uint64(vals.ptr),
			uint64(u.Off), uint64(u.Width), uint64(perRow), uint64(units),
			launch.RealBits(dt, u.LR), launch.RealBits(dt, u.Eps), launch.RealBits(dt, launch.Sign(u.Maximize)))
	})
}

var _ device.RowReader = (*Backend)(nil)

// ReadRows gathers the rows on the device (gather_rows) and reads them back
// in one copy.
func (b *Backend) ReadRows(dst any, src device.Buffer, off, width int, rows []int64) error {
	if err := device.CheckRows(dst, src, off, width, rows); err != nil {
		return err
	}
	return b.call([]device.Buffer{src}, func(xs []*buffer) error {
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
