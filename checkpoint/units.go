package checkpoint

import (
	"math"

	"github.com/adagrad-go/adagrad/device"
)

// A state of a rule holds one element per unit of its tensor's elements
// (the tensor viewed flat): one per element (device.PerElement), one per
// row of the row width (PerRow), one per block counted from the tensor's
// first element (PerBlock, the last block short). A range of a tensor's
// elements that starts on a unit and ends on one (or at the tensor's end)
// holds whole units: its state is the units [lo/u, ⌈hi/u⌉). Parts and
// ranges are cut so.

// rowWidth is the elements of one row of a tensor of shape (1 for a
// scalar), as optim.StateShape counts rows.
func rowWidth(shape []int) int {
	w := 1
	for _, d := range shape[min(1, len(shape)):] {
		w *= d
	}
	return w
}

// stateUnit is the unit of state k of the rule for a tensor of the whole
// shape given: how many of its elements one element of the state stands
// for (never less than 1).
func stateUnit(spec device.RuleSpec, k int, shape []int) int {
	switch spec.State[k].Per {
	case device.PerRow:
		return max(rowWidth(shape), 1)
	case device.PerBlock:
		return max(spec.Block, 1)
	}
	return 1
}

// cutUnit is the unit at which a tensor of the rule may be cut into
// ranges: the largest of its states' units (1 for per-element state).
func cutUnit(spec device.RuleSpec, shape []int) int {
	u := 1
	for k := range spec.State {
		u = max(u, stateUnit(spec, k, shape))
	}
	return u
}

// unitsOf is the state elements of n tensor elements in units of u.
func unitsOf(n, u int) int { return (n + u - 1) / u }

// onUnits reports whether the elements [lo, hi) of a tensor of n elements
// start on a unit of u and end on one or at the tensor's end.
func onUnits(lo, hi, n, u int) bool {
	return lo%u == 0 && (hi%u == 0 || hi == n)
}

// stateSpan is the state elements of the tensor elements [lo, hi) in
// units of u (on units: see onUnits).
func stateSpan(lo, hi, u int) (int, int) { return lo / u, unitsOf(hi, u) }

// rangeBytes is the bytes that n elements of t (its parameters and their
// share of each state) take in memory, or an error when they overflow.
func rangeBytes(t fileTensor, n int64) (int64, error) {
	b := int64(t.dt.Size()) * n
	if n > math.MaxInt64/32 { // 8 bytes each of the parameters and of device.MaxStates states
		return 0, fail("%d elements", n)
	}
	for k, dt := range t.stateDT {
		b += int64(dt.Size()) * int64(unitsOf(int(n), t.unit[k]))
	}
	return b, nil
}
