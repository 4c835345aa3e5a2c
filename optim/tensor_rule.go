package optim

import (
	"fmt"

	"github.com/adagrad-go/adagrad/device"
)

// setHyper gives t hyperparameters h, checked in t's compute dtype, and
// the rule they name.
func (t *tensor) setHyper(h Hyper) error {
	if err := h.validateIn(t.dt.Compute()); err != nil {
		return err
	}
	rule, spec, def, err := h.rule()
	if err != nil {
		return err
	}
	if t.rule != 0 && rule != t.rule {
		// The state buffers are laid out for the rule given to New.
		return fmt.Errorf("%w: tensor %q runs %v; its rule cannot change to %v", device.ErrRule, t.name, t.rule, rule)
	}
	t.hyper, t.rule, t.spec, t.def = h, rule, spec, def
	return nil
}

// stateLen is the length of t's state k: per element, per row or per
// block.
func (t *tensor) stateLen(k int) int {
	_, width := t.rows()
	return t.spec.StateLen(k, t.n, width)
}

// nextRange is t's whole range at its next step: rule, coefficients,
// placement in the arena's buffers, and for half-precision parameters the
// step's stochastic-rounding key.
func (t *tensor) nextRange() device.Range {
	r := device.Range{Off: t.off, Len: t.n, Rule: t.rule, Coef: t.def.coefs(t.hyper, t.step+1), StateOff: t.stateOff}
	_, width := t.rows()
	if t.spec.Work == device.ByRow {
		r.Width = width
	}
	for _, s := range t.spec.State {
		if s.Per == device.PerRow {
			r.Width = width
		}
	}
	if t.dt.Half() {
		r.Key = stochasticKey(t.hyper.Seed, t.name, t.step+1)
	}
	return r
}

// StateShape is the shape of state k of a rule for a tensor of shape
// shape: the tensor's shape for per-element state, [rows] for per-row
// state (rows the first dimension, 1 for a scalar; none for a tensor
// without elements), [blocks] for per-block state. Checkpoints store each
// state with this shape.
func StateShape(spec device.RuleSpec, k int, shape []int) []int {
	n, width := 1, 1
	for i, d := range shape {
		n *= d
		if i > 0 {
			width *= d
		}
	}
	if len(shape) == 0 {
		width = 1
	}
	if spec.State[k].Per == device.PerElement {
		return append([]int{}, shape...)
	}
	return []int{spec.StateLen(k, n, width)}
}
