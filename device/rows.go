package device

import "fmt"

// RowUpdate asks for one row-sparse Adagrad step on one tensor, viewed as
// Rows × Width elements stored row-major at [Off, Off+Rows*Width) of the
// parameter and accumulator buffers. Only the rows named change: for row
// Indices[i], element w takes gradient Values[i*Width+w] and the update of
// device.Update (weight decay is not defined for row-sparse gradients, as
// in PyTorch). The host sends only indices and values, never a dense
// gradient.
//
// Indices must be strictly increasing: the optimizer sums duplicate rows on
// the host, in the order given, before it calls the backend, so every
// backend gets the same sums and no two device threads write one row.
type RowUpdate struct {
	Param, Accum Buffer
	Off          int
	Rows, Width  int
	Indices      []int64
	Values       any // []float32 or []float64 of the buffers' dtype
	LR, Eps      float64
	Maximize     bool
}

// RowSparse is an optional capability: a backend that runs RowUpdate.
type RowSparse interface {
	AdagradRows(u RowUpdate) error
}

// Validate checks what every backend must check before it touches memory.
func (u RowUpdate) Validate() error {
	if u.Param == nil || u.Accum == nil {
		return fmt.Errorf("device: row update needs param and accum buffers")
	}
	dt := u.Param.DType()
	if dt.Half() || u.Accum.DType() != dt {
		return fmt.Errorf("%w: param %v, accum %v", ErrDType, dt, u.Accum.DType())
	}
	vdt, nv, err := DTypeOf(u.Values)
	if err != nil {
		return err
	}
	if vdt != dt {
		return fmt.Errorf("%w: buffers are %v, values %v", ErrDType, dt, vdt)
	}
	if u.Rows < 0 || u.Width < 0 || u.Off < 0 {
		return fmt.Errorf("%w: %d rows of %d at %d", ErrRange, u.Rows, u.Width, u.Off)
	}
	n := min(u.Param.Len(), u.Accum.Len())
	if u.Width > 0 && (u.Rows > (n-u.Off)/u.Width || u.Off > n) {
		return fmt.Errorf("%w: %d rows of %d at %d in %d elements", ErrRange, u.Rows, u.Width, u.Off, n)
	}
	if nv != len(u.Indices)*u.Width {
		return fmt.Errorf("%w: %d values for %d rows of %d", ErrRange, nv, len(u.Indices), u.Width)
	}
	prev := int64(-1)
	for i, r := range u.Indices {
		if r < 0 || r >= int64(u.Rows) {
			return fmt.Errorf("%w: index %d is row %d of %d", ErrRange, i, r, u.Rows)
		}
		if r <= prev {
			return fmt.Errorf("%w: index %d (row %d) after row %d: indices must be strictly increasing", ErrRange, i, r, prev)
		}
		prev = r
	}
	return Range{LR: u.LR, Eps: u.Eps}.validHyper()
}

// RowReader is an optional capability: a backend that gathers rows of a
// tensor (viewed as rows of width elements at off) into one host slice,
// dst[i*width:(i+1)*width] = row rows[i]. Without it, callers read row by
// row.
type RowReader interface {
	ReadRows(dst any, src Buffer, off, width int, rows []int64) error
}

// CheckRows validates a ReadRows call: dst has src's dtype and room for
// every row, and every row lies inside src.
func CheckRows(dst any, src Buffer, off, width int, rows []int64) error {
	dt, n, err := DTypeOf(dst)
	if err != nil {
		return err
	}
	if dt != src.DType() {
		return fmt.Errorf("%w: buffer is %v, host slice is %v", ErrDType, src.DType(), dt)
	}
	if width < 0 || off < 0 || n != len(rows)*width {
		return fmt.Errorf("%w: %d elements for %d rows of %d", ErrRange, n, len(rows), width)
	}
	for _, r := range rows {
		if r < 0 || off+int(r+1)*width > src.Len() {
			return fmt.Errorf("%w: row %d of width %d at %d in %d elements", ErrRange, r, width, off, src.Len())
		}
	}
	return nil
}
