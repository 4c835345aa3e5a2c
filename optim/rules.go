package optim

import (
	"fmt"
	"slices"

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
	// uses names the optional hyperparameters the rule reads (of Eps,
	// WeightDecay, L1, L2, Momentum); the others must be 0. Every rule
	// reads LR, LRDecay, InitialAccumulatorValue and Maximize.
	uses []string
}

var (
	epsRule   = ruleDef{coefs: adagradCoefs, initial: accumulatorStart, uses: []string{"Eps", "WeightDecay"}}
	noEpsRule = ruleDef{coefs: noEpsCoefs, initial: accumulatorStart, uses: []string{"WeightDecay"}}
)

var ruleDefs = map[device.Rule]ruleDef{
	device.Adagrad:          epsRule,
	device.AdagradEpsInside: epsRule,
	device.AdagradTF:        epsRule,
	device.AdagradOptax:     epsRule,
	device.AdagradNoEps:     noEpsRule,
	device.AdagradGloVe:     noEpsRule,
	device.ProximalAdagrad:  {coefs: proximalCoefs, initial: accumulatorStart, uses: []string{"L1", "L2"}},
	device.AdagradDA:        {coefs: daCoefs, initial: squaredAccumulatorStart, uses: []string{"L1", "L2"}},
	device.AdagradJAX:       {coefs: jaxCoefs, initial: accumulatorStart, uses: []string{"Momentum"}},
	device.AdagradRowwise:   {coefs: rowwiseCoefs, initial: accumulatorStart, uses: epsRule.uses},
	device.Adagrad8Bit:      {coefs: adagradCoefs, initial: start8Bit, uses: epsRule.uses},
}

func sign(h Hyper) float64 {
	if h.Maximize {
		return -1
	}
	return 1
}

// adagradCoefs: lr after decay, eps, weight decay, sign.
func adagradCoefs(h Hyper, t int64) [device.MaxCoefs]float64 {
	return [device.MaxCoefs]float64{h.stepLR(t), h.Eps, h.WeightDecay, sign(h)}
}

// noEpsCoefs: lr after decay, weight decay, sign.
func noEpsCoefs(h Hyper, t int64) [device.MaxCoefs]float64 {
	return [device.MaxCoefs]float64{h.stepLR(t), h.WeightDecay, sign(h)}
}

// proximalCoefs: lr after decay, l1, l2, sign.
func proximalCoefs(h Hyper, t int64) [device.MaxCoefs]float64 {
	return [device.MaxCoefs]float64{h.stepLR(t), h.L1, h.L2, sign(h)}
}

// daCoefs: as proximalCoefs, then the step t. TensorFlow's AdagradDA
// passes its global step + 1 (adagrad_da.py, _prepare): the number of the
// apply call, from 1. Here t is the tensor's own step count from 1, which
// is the same number while the tensor takes every step; a tensor that sits
// a step out (no gradient) does not advance it, as PyTorch's per-parameter
// step does not.
func daCoefs(h Hyper, t int64) [device.MaxCoefs]float64 {
	c := proximalCoefs(h, t)
	c[device.CoefStep] = float64(t)
	return c
}

// jaxCoefs: lr after decay, momentum, 1 - momentum (in float64, as
// Python computes it, then rounded to the dtype, as JAX casts a Python
// float), sign.
func jaxCoefs(h Hyper, t int64) [device.MaxCoefs]float64 {
	return [device.MaxCoefs]float64{h.stepLR(t), h.Momentum, 1 - h.Momentum, sign(h)}
}

func accumulatorStart(h Hyper, k int) float64 {
	if k == 0 {
		return h.InitialAccumulatorValue
	}
	return 0
}

// squaredAccumulatorStart: AdagradDA's gradient accumulator starts at 0,
// its squared accumulator at InitialAccumulatorValue (TensorFlow's
// initial_gradient_squared_accumulator_value).
func squaredAccumulatorStart(h Hyper, k int) float64 {
	if k == 1 {
		return h.InitialAccumulatorValue
	}
	return 0
}

// check refuses hyperparameters the rule does not read (they would be
// silently ignored) and a momentum past 1.
func (d ruleDef) check(r device.Rule, h Hyper) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"Eps", h.Eps}, {"WeightDecay", h.WeightDecay}, {"L1", h.L1}, {"L2", h.L2}, {"Momentum", h.Momentum}} {
		if f.v != 0 && !slices.Contains(d.uses, f.name) {
			return fmt.Errorf("%w: %s = %v, but %v has no %s (set it to 0, or use the rule's preset)", device.ErrHyper, f.name, f.v, r, f.name)
		}
	}
	if h.Momentum > 1 {
		return fmt.Errorf("%w: Momentum = %v (want it in [0, 1])", device.ErrHyper, h.Momentum)
	}
	return nil
}

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
