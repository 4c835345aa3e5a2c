package device

import (
	"fmt"
	"math"
)

// RowReader is an optional capability: a backend that gathers rows of a
// tensor (viewed as rows of width elements at off) into one host slice,
// dst[i*width:(i+1)*width] = row rows[i], in one copy. Without it, callers
// read row by row.
type RowReader interface {
	ReadRows(dst any, src Buffer, off, width int, rows []int64) error
}

// CheckRows validates a ReadRows call: dst has src's dtype (as Read takes
// it: []uint16 for half parameters) and room for every row, and every row
// lies inside src (rows of width 0 are empty, but are still not negative).
func CheckRows(dst any, src Buffer, off, width int, rows []int64) error {
	if src == nil {
		return fmt.Errorf("%w: nil buffer", ErrForeignBuffer)
	}
	dt, n, err := hostType(dst, src.DType())
	if err != nil {
		return err
	}
	if dt != src.DType() {
		return fmt.Errorf("%w: buffer is %v, host slice is %v", ErrDType, src.DType(), dt)
	}
	if width < 0 || off < 0 || off > src.Len() || (width > 0 && len(rows) > math.MaxInt/width) || n != len(rows)*width {
		return fmt.Errorf("%w: %d elements for %d rows of %d at %d", ErrRange, n, len(rows), width, off)
	}
	last := int64(math.MaxInt64) // rows of no elements all fit
	if width > 0 {
		last = int64((src.Len() - off) / width) // rows that fit after off
	}
	for _, r := range rows {
		if r < 0 || r >= last {
			return fmt.Errorf("%w: row %d of width %d at %d in %d elements", ErrRange, r, width, off, src.Len())
		}
	}
	return nil
}
