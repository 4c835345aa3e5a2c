package devicetest

import (
	"math"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// wideRun follows a float32 run in float64 by the same references: the
// float32 results must stay close to it. It checks what bitwise
// agreement with the float32 reference cannot: that the reference itself,
// and so every backend, computes the rule and not merely something
// consistent.
type wideRun struct {
	param []float64
	state []float64 // the state buffer of the compute type
	// peak holds the largest magnitude each element of param (peak[0])
	// and of the state buffer (peak[1]) has reached in the float64 run: a
	// float32 rounding error is relative to the values an element went
	// through, not only to its last one (a signed accumulator that
	// cancels, GloVe's step taken before its accumulator grows).
	peak [2][]float64
}

// newWideRun starts a float64 run from the mirrors' values (state may be
// nil), or returns nil for a float64 run.
func newWideRun[T Float](param, state *mirror[T]) *wideRun {
	if dtypeOf[T]() != device.Float32 {
		return nil
	}
	w := &wideRun{param: widened(param.want)}
	if state != nil {
		w.state = widened(state.want)
	}
	w.observe()
	return w
}

// observe records the magnitudes of the run's current values; call it
// after each step.
func (w *wideRun) observe() {
	for k, v := range [][]float64{w.param, w.state} {
		if w.peak[k] == nil && v != nil {
			w.peak[k] = make([]float64, len(v))
		}
		for i, x := range v {
			if a := math.Abs(x); a > w.peak[k][i] {
				w.peak[k][i] = a
			}
		}
	}
}

// host is the run as update tests' mirrors hold it.
func (w *wideRun) host() (*paramMirror[float64], *stateMirrors[float64]) {
	return &paramMirror[float64]{dt: device.Float64, want: w.param}, &stateMirrors[float64]{realWant: w.state}
}

// Tolerances of a float32 result against the float64 run after a few
// steps: relative to the largest magnitude the element reached (see
// wideRun.peak), with the smallest normal float32 as the absolute floor
// of states (float32 sums of squares underflow where float64 ones do not).
const (
	wideRel      = 1e-5
	minNormal32  = 0x1p-126
	wideParamAbs = 1e-5
)

// compare checks every element of the ranges except those skip names (and
// those whose float32 state overflowed to +Inf, where float32 and float64
// legitimately part ways).
func (w *wideRun) compare(t *testing.T, param, state *mirror[float32], ranges []device.Range, skip func(i int) bool) {
	t.Helper()
	for _, r := range ranges {
		spec, _ := r.Rule.Spec()
		for i := r.Off; i < r.Off+r.Len; i++ {
			if skip != nil && skip(i) {
				continue
			}
			overflow := false
			for k := range spec.State {
				j := r.StateOff[k] + stateIndex(spec, k, i-r.Off, r.Width)
				got, want := float64(state.want[j]), w.state[j]
				if math.IsInf(got, 1) {
					overflow = true
					continue
				}
				if !closeTo(got, want, wideRel*w.peak[1][j]+minNormal32) {
					t.Errorf("%v state %d element %d = %v, float64 run %v", r.Rule, k, j, got, want)
					return
				}
			}
			if got, want := float64(param.want[i]), w.param[i]; !overflow && !closeTo(got, want, wideParamAbs+wideRel*w.peak[0][i]) {
				t.Errorf("%v param element %d = %v, float64 run %v", r.Rule, i, got, want)
				return
			}
		}
	}
}

func closeTo(got, want, tol float64) bool {
	if math.IsNaN(got) || math.IsNaN(want) {
		return math.IsNaN(got) && math.IsNaN(want)
	}
	return got == want || math.Abs(got-want) <= tol
}

// stateIndex is the index, in its tensor's part of state k, of the state
// of element i of the tensor.
func stateIndex(spec device.RuleSpec, k, i, width int) int {
	switch spec.State[k].Per {
	case device.PerRow:
		return i / width
	case device.PerBlock:
		return i / spec.Block
	}
	return i
}
