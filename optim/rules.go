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
	device.AdagradRowwise:   {coefs: rowwiseCoefs, initial: accumulatorStart},
	device.Adagrad8Bit:      {coefs: adagradCoefs, initial: start8Bit},
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

// rowwiseCoefs: Adagrad's, and whether weight decay is decoupled.
func rowwiseCoefs(h Hyper, t int64) [device.MaxCoefs]float64 {
	c := adagradCoefs(h, t)
	if h.DecoupledWeightDecay {
		c[device.CoefDecoupled] = 1
	}
	return c
}

// start8Bit is an 8-bit accumulator starting at InitialAccumulatorValue:
// every block's scale the value (state 0) and every code 255, the code of
// 1 (state 1), which dequantize to the value exactly.
func start8Bit(h Hyper, k int) float64 {
	if k == 0 {
		return h.InitialAccumulatorValue
	}
	return 255
}

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
