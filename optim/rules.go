package optim

import (
	"fmt"

	"github.com/adagrad-go/adagrad/device"
)

// ruleDef is the optimizer's side of an update rule (device.Rule): how a
// tensor's hyperparameters become the rule's coefficients at a step, and
// what its state holds at the start. Adding a rule adds its entry here.
type ruleDef struct {
	// coefs returns the coefficients of step t (1-based), in the order of
	// the rule's device.RuleSpec.Coefs, computed in float64 so that every
	// backend rounds the same numbers.
	coefs func(h Hyper, t int64) [device.MaxCoefs]float64
	// initial is the starting value of state k.
	initial func(h Hyper, k int) float64
}

var ruleDefs = map[device.Rule]ruleDef{
	device.Adagrad:          {coefs: adagradCoefs, initial: accumulatorStart},
	device.AdagradEpsInside: {coefs: adagradCoefs, initial: accumulatorStart},
}

// adagradCoefs: lr after decay, eps, weight decay, sign.
func adagradCoefs(h Hyper, t int64) [device.MaxCoefs]float64 {
	sign := 1.0
	if h.Maximize {
		sign = -1
	}
	return [device.MaxCoefs]float64{h.stepLR(t), h.Eps, h.WeightDecay, sign}
}

func accumulatorStart(h Hyper, _ int) float64 { return h.InitialAccumulatorValue }

// rule returns the tensor's rule (Adagrad when the hyperparameters name
// none) and its definitions.
func (h Hyper) rule() (device.Rule, device.RuleSpec, ruleDef, error) {
	r := h.Rule
	if r == 0 {
		r = device.Adagrad
	}
	spec, ok := r.Spec()
	def, known := ruleDefs[r]
	if !ok || !known {
		return 0, device.RuleSpec{}, ruleDef{}, fmt.Errorf("%w: %v", device.ErrRule, r)
	}
	return r, spec, def, nil
}
