package sharded

import (
	"fmt"
	"slices"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// tensor is one parameter tensor as the whole group sees it, with this
// rank's gradient for it.
type tensor struct {
	index       int
	name        string
	shape       []int
	dt          device.DType
	n           int
	rows, width int
	bounds      []int       // rank r owns rows [bounds[r], bounds[r+1])
	hyper       optim.Hyper // as the local optimizer has it

	pending kind
	grad32  []float32 // full size, made on first use: a sparse-only
	grad64  []float64 // embedding never holds a dense gradient
	sparse  *sparseGrad
}

// kind is how a rank gave a tensor its gradient for the next step.
type kind int8

const (
	none kind = iota
	dense
	rowSparse
)

type sparseGrad struct {
	indices []int64
	values  any // []float32 or []float64
}

// rowsOf views a tensor of shape as rows × width, as optim does: shape[0]
// rows of the rest, a scalar one row of one.
func rowsOf(shape []int, n int) (rows, width int) {
	if len(shape) == 0 {
		return 1, n
	}
	width = 1
	for _, d := range shape[1:] {
		width *= d
	}
	return shape[0], width
}

// newTensor checks p (as optim.New would, so that bad input fails here on
// every rank alike) and splits its rows over size ranks.
func newTensor(i int, p optim.Param, size int) (*tensor, error) {
	dt, n, err := device.DTypeOf(p.Init)
	if err != nil {
		return nil, fmt.Errorf("sharded: param %d (%q): %w", i, p.Name, err)
	}
	if p.DType != 0 && p.DType != dt {
		// A rank's stochastic rounding would count elements from its own
		// rows, not from the tensor's start as one process does.
		return nil, fmt.Errorf("sharded: param %d (%q): %w: %v parameters are not sharded", i, p.Name, device.ErrDType, p.DType)
	}
	shape := p.Shape
	if shape == nil {
		shape = []int{n}
	}
	count := 1
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("sharded: param %d (%q): %w: negative dimension in %v", i, p.Name, optim.ErrShape, shape)
		}
		count *= d
	}
	if count != n {
		return nil, fmt.Errorf("sharded: param %d (%q): %w: shape %v holds %d elements, Init has %d", i, p.Name, optim.ErrShape, shape, count, n)
	}
	t := &tensor{index: i, name: p.Name, shape: slices.Clone(shape), dt: dt, n: n, bounds: make([]int, size+1)}
	t.rows, t.width = rowsOf(shape, n)
	for r := range t.bounds {
		t.bounds[r] = collective.Bound(t.rows, size, r)
	}
	return t, nil
}

// owned returns the first row and the number of rows rank r owns.
func (t *tensor) owned(r int) (first, rows int) { return t.bounds[r], t.bounds[r+1] - t.bounds[r] }

// owner returns the rank that owns row.
func (t *tensor) owner(row int64) int {
	// The last rank whose first row is at or before row (ranks owning no
	// rows share their first row with the next rank).
	r, _ := slices.BinarySearch(t.bounds, int(row)+1)
	return r - 1
}

// localParam is rank r's part of p: its rows, in a tensor of their own.
func (t *tensor) localParam(p optim.Param, r int) optim.Param {
	first, rows := t.owned(r)
	lp := optim.Param{Name: p.Name, Options: p.Options, Init: sliceRows(p.Init, first*t.width, rows*t.width)}
	if len(t.shape) == 0 {
		lp.Shape = []int{rows} // a scalar: one row of one, or none
	} else {
		lp.Shape = append([]int{rows}, t.shape[1:]...)
	}
	return lp
}

// sliceRows returns s[off : off+n] for a []float32 or []float64.
func sliceRows(s any, off, n int) any {
	switch v := s.(type) {
	case []float32:
		return v[off : off+n : off+n]
	case []float64:
		return v[off : off+n : off+n]
	}
	return s
}

// spec is t's rule's specification.
func (t *tensor) spec() device.RuleSpec {
	r := t.hyper.Rule
	if r == 0 {
		r = device.Adagrad
	}
	spec, _ := r.Spec() // optim checked the rule
	return spec
}

// stateWidth is the elements per row of state k of t's rule: the row's
// width for per-element state, 1 for per-row state.
func (t *tensor) stateWidth(k int) int {
	if t.spec().State[k].Per == device.PerRow {
		return 1
	}
	return t.width
}

// states is the number of state buffers of t's rule.
func (t *tensor) states() int { return len(t.spec().State) }
