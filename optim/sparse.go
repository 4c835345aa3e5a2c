package optim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/adagrad-go/adagrad/device"
)

var (
	// ErrIndex: a row index of a sparse gradient is negative or past the
	// last row.
	ErrIndex = errors.New("optim: row index out of range")
	// ErrSparseWeightDecay: weight decay is not defined for row-sparse
	// gradients of the tensor's rule (PyTorch refuses it too; FBGEMM's
	// row-wise Adagrad, device.AdagradRowwise, takes it).
	ErrSparseWeightDecay = errors.New("optim: weight decay with a sparse gradient")
	// ErrNoSparse: the backend cannot apply row-sparse gradients with the
	// tensor's rule (its Capabilities do not list it).
	ErrNoSparse = fmt.Errorf("optim: backend has no row-sparse update: %w", device.ErrRule)
)

// sparseGrad is a tensor's pending row-sparse gradient, copied from the
// caller.
type sparseGrad struct {
	indices []int64
	values  any // []float32 or []float64
}

// rows returns the tensor's shape as rows × width (a 1-D tensor is rows of
// one element).
func (t *tensor) rows() (rows, width int) {
	if len(t.shape) == 0 {
		return 1, t.n
	}
	width = 1
	for _, d := range t.shape[1:] {
		width *= d
	}
	return t.shape[0], width
}

// SetSparseGrad gives the named tensor a row-sparse gradient for the next
// Step: indices name rows of the tensor viewed as shape[0] × (the rest),
// duplicates allowed (they are summed, in the order given), and values
// holds one row per index ([]float32 or []float64 of the tensor's dtype).
// Step then changes only those rows, parameters and accumulators both, as
// PyTorch's sparse Adagrad does, and sends only the rows to the device.
//
// The last gradient given for a tensor before Step is the one applied:
// SetSparseGrad replaces a dense one and SetGrad or Grad32 a sparse one.
// Bad input changes nothing.
func (a *Adagrad) SetSparseGrad(name string, indices []int64, values any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := a.lookup(name)
	if err != nil {
		return err
	}
	if err := a.checkRowsSupported(t); err != nil {
		return err
	}
	if err := t.checkSparseDecay(); err != nil {
		return err
	}
	_, width := t.rows()
	if err := t.checkRowValues(values, len(indices), width); err != nil {
		return err
	}
	if err := t.checkRows(indices); err != nil {
		return err
	}
	sg := &sparseGrad{indices: slices.Clone(indices)}
	switch v := values.(type) {
	case []float32:
		sg.values = slices.Clone(v)
	case []float64:
		sg.values = slices.Clone(v)
	}
	t.sparse, t.pending = sg, false
	return nil
}

// checkSparseDecay returns an ErrSparseWeightDecay error when t has weight
// decay and its rule has no row-sparse form with it.
func (t *tensor) checkSparseDecay() error {
	for _, c := range t.spec.Coefs {
		if c.Name == "weight_decay" && c.DenseOnly && t.hyper.WeightDecay != 0 {
			return fmt.Errorf("%w: tensor %q has WeightDecay %v", ErrSparseWeightDecay, t.name, t.hyper.WeightDecay)
		}
	}
	return nil
}

// checkRowValues reports whether values is a slice of t's compute dtype
// (device.ErrDType) holding rows rows of width elements (ErrShape).
func (t *tensor) checkRowValues(values any, rows, width int) error {
	dt, n, err := device.DTypeOf(values)
	if err != nil {
		return err
	}
	if dt != t.dt.Compute() {
		return fmt.Errorf("%w: tensor %q takes %v rows, got %v", device.ErrDType, t.name, t.dt.Compute(), dt)
	}
	if width > 0 && rows > math.MaxInt/width || n != rows*width {
		return fmt.Errorf("%w: %d rows of tensor %q take %d × %d elements, got %d", ErrShape, rows, t.name, rows, width, n)
	}
	return nil
}

// checkRows returns an ErrIndex error for the first index that is not a
// row of t.
func (t *tensor) checkRows(indices []int64) error {
	rows, _ := t.rows()
	for i, r := range indices {
		if r < 0 || r >= int64(rows) {
			return fmt.Errorf("%w: index %d is row %d of tensor %q's %d", ErrIndex, i, r, t.name, rows)
		}
	}
	return nil
}

// sparsePlan is a tensor's row-sparse part of a step: its backend call,
// with duplicate rows summed and checked, or no call when no row is
// touched.
type sparsePlan struct {
	t      *tensor
	call   bool
	update device.RowUpdate
}

// planSparse builds and checks t's row update. Duplicate rows are summed
// here, once: the finiteness check sees, and the backend receives, the
// same sums.
func (a *Adagrad) planSparse(t *tensor) (sparsePlan, error) {
	p := sparsePlan{t: t}
	if err := a.checkRowsSupported(t); err != nil {
		return p, err
	}
	if err := t.checkSparseDecay(); err != nil { // set by SetHyper after SetSparseGrad
		return p, err
	}
	if len(t.sparse.indices) == 0 {
		return p, nil
	}
	rows, width := t.rows()
	r := t.nextRange()
	r.Width = width
	u := device.RowUpdate{Param: t.arena.param, State: t.arena.state, Range: r, Rows: rows}
	bad := -1
	switch v := t.sparse.values.(type) {
	case []float32:
		idx, vals := coalesce(t.sparse.indices, v, width)
		u.Indices, u.Values, bad = idx, vals, firstNonFinite(vals)
	case []float64:
		idx, vals := coalesce(t.sparse.indices, v, width)
		u.Indices, u.Values, bad = idx, vals, firstNonFinite(vals)
	}
	if t.hyper.SkipNonFinite && bad >= 0 {
		return p, fmt.Errorf("%w: tensor %q, row %d, element %d (after summing duplicate rows)", ErrNonFinite, t.name, u.Indices[bad/width], bad%width)
	}
	if err := u.Validate(); err != nil {
		return p, fmt.Errorf("optim: sparse step of %q: %w", t.name, err)
	}
	if err := a.caps.CheckRules(t.dt, true, u.Range); err != nil {
		return p, fmt.Errorf("optim: sparse step of %q: %w", t.name, err)
	}
	p.call, p.update = true, u
	return p, nil
}

// checkRowsSupported returns an ErrNoSparse error when the backend cannot
// run t's rule with row-sparse gradients.
func (a *Adagrad) checkRowsSupported(t *tensor) error {
	if !a.caps.Supports(t.rule, t.dt, true) {
		return fmt.Errorf("%w: %v has no row-sparse %v for %v (tensor %q)", ErrNoSparse, a.dev, t.rule, t.dt, t.name)
	}
	return nil
}

// runSparse sends a checked row update.
func (a *Adagrad) runSparse(p sparsePlan) error {
	if !p.call {
		return nil
	}
	u := p.update
	start := time.Now()
	if err := a.upd.UpdateRows(u); err != nil {
		return fmt.Errorf("optim: sparse step of %q: %w", p.t.name, err)
	}
	// Indices and values cross to the device inside the call.
	a.stats.compute(8*int64(len(u.Indices))+int64(len(u.Indices))*int64(u.Range.Width)*int64(p.t.dt.Compute().Size()), start)
	return nil
}

// ReadRows reads the current parameters of the named rows of a tensor
// (viewed as shape[0] × the rest) into dst, row i at dst[i*width:]: the
// gather a sparse model needs, moving only those rows. A half-precision
// tensor reads into []uint16 codes, or into []float32, widened exactly.
// Backends without device.RowReader are read row by row.
func (a *Adagrad) ReadRows(name string, rows []int64, dst any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := a.lookup(name)
	if err != nil {
		return err
	}
	_, width := t.rows()
	if width > 0 && len(rows) > math.MaxInt/width {
		return fmt.Errorf("%w: %d rows of %d", ErrShape, len(rows), width)
	}
	n := len(rows) * width
	what := fmt.Sprintf("%d rows of tensor %q", len(rows), name)
	wide, widen := dst.([]float32)
	widen = widen && t.dt.Half()
	if widen {
		if len(wide) != n {
			return fmt.Errorf("%w: %s take %d elements, got %d", ErrShape, what, n, len(wide))
		}
		dst = make([]uint16, n)
	} else if err := checkSlice(dst, t.dt, n, what); err != nil {
		return err
	}
	if err := t.checkRows(rows); err != nil {
		return err
	}
	defer a.stats.transfer(0, int64(n)*int64(t.dt.Size()), time.Now())
	if err := a.gatherRows(t, width, rows, dst); err != nil {
		return fmt.Errorf("optim: reading rows of %q: %w", name, err)
	}
	if widen {
		widenHalf(wide, dst.([]uint16), t.dt)
	}
	return nil
}

// gatherRows reads rows of t into dst (a host slice of t's dtype): one
// gather where the backend has one, else row by row.
func (a *Adagrad) gatherRows(t *tensor, width int, rows []int64, dst any) error {
	if rr, ok := a.dev.(device.RowReader); ok && a.caps.Gather {
		return rr.ReadRows(dst, t.arena.param, t.off, width, rows)
	}
	for i, r := range rows {
		var part any
		switch d := dst.(type) {
		case []float32:
			part = d[i*width : (i+1)*width]
		case []float64:
			part = d[i*width : (i+1)*width]
		case []uint16:
			part = d[i*width : (i+1)*width]
		}
		if err := a.dev.Read(part, t.arena.param, t.off+int(r)*width); err != nil {
			return err
		}
	}
	return nil
}
