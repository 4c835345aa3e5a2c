//go:build cuda

package cuda

import (
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
		if err := vals.put(b, hostBytes(u.Values)); err != nil {
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
