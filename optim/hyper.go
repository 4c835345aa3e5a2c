package optim

import (
	"fmt"

	"github.com/adagrad-go/adagrad/device"
)

// Hyper holds the hyperparameters of one tensor (PyTorch's param group).
type Hyper struct {
	LR                      float64 // learning rate; default 0.01
	Eps                     float64 // added to sqrt(sum); default 1e-8 (PyTorch: 1e-10)
	LRDecay                 float64 // lr / (1 + (t-1)*LRDecay)
	WeightDecay             float64 // L2 penalty added to the gradient
	InitialAccumulatorValue float64 // starting value of the accumulator
	Maximize                bool    // ascend instead of descend
	// SkipNonFinite makes Step refuse, with ErrNonFinite and no change, a
	// gradient that holds NaN or ±Inf as the device would receive it:
	// after rounding to the transfer precision (SetGradPrecision: 1e5 is
	// +Inf in float16) and, for row-sparse gradients, after duplicate rows
	// are summed (3e38 + 3e38 is +Inf in float32). Off by default: like
	// PyTorch, the update then propagates them.
	SkipNonFinite bool
	// Rule is the update rule (device.Adagrad when zero). It is fixed when
	// the optimizer is made: its state is laid out for it.
	Rule device.Rule
	// L1 and L2 are the regularisation strengths of the rules that have
	// them (device.ProximalAdagrad, device.AdagradDA: TensorFlow's
	// l1_regularization_strength and l2_regularization_strength); 0 for
	// every other rule.
	L1, L2 float64
	// Momentum is device.AdagradJAX's momentum, in [0, 1]; 0 for every
	// other rule.
	Momentum float64
	// DecoupledWeightDecay applies WeightDecay to the weights directly,
	// w ← (1 - lr·WeightDecay)·w - step, instead of adding it to the
	// gradient (FBGEMM's weight_decay_mode 2). Only rules with a
	// "decoupled" coefficient take it (device.AdagradRowwise).
	DecoupledWeightDecay bool
	// Seed seeds the stochastic rounding of half-precision parameters
	// (Param.DType BFloat16 or Float16): each tensor's step draws its key
	// from the seed, the tensor's name and its step count, so that a seed
	// gives the same bits on every backend and after a resume. Ignored for
	// float32 and float64 tensors.
	Seed uint64
}

// DefaultHyper returns LR 0.01, Eps 1e-8, the Adagrad rule and everything
// else zero.
func DefaultHyper() Hyper { return Hyper{LR: 0.01, Eps: 1e-8, Rule: device.Adagrad} }

// Validate returns a device.ErrHyper error naming the first hyperparameter
// that is NaN, infinite or negative.
func (h Hyper) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"LR", h.LR}, {"Eps", h.Eps}, {"LRDecay", h.LRDecay},
		{"WeightDecay", h.WeightDecay}, {"InitialAccumulatorValue", h.InitialAccumulatorValue},
		{"L1", h.L1}, {"L2", h.L2}, {"Momentum", h.Momentum},
	} {
		if err := device.CheckHyper(f.name, f.v); err != nil {
			return err
		}
	}
	return nil
}

// validateIn is Validate for a tensor of dtype dt: the values the device
// uses must also stay finite when rounded to dt (1e39 is +Inf in float32).
// Every path that sets a tensor's hyperparameters (New, a Param's options,
// SetHyper, LoadState) goes through it; the learning rate after decay is
// checked at each Step, with the rest of the step's coefficients.
func (h Hyper) validateIn(dt device.DType) error {
	if err := h.Validate(); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"LR", h.LR}, {"Eps", h.Eps}, {"WeightDecay", h.WeightDecay}, {"InitialAccumulatorValue", h.InitialAccumulatorValue},
		{"L1", h.L1}, {"L2", h.L2}, {"Momentum", h.Momentum}} {
		if err := device.CheckHyperIn(dt, f.name, f.v); err != nil {
			return err
		}
	}
	rule, spec, def, err := h.rule()
	if err != nil {
		return err
	}
	if h.DecoupledWeightDecay && !hasCoef(spec, "decoupled") {
		return fmt.Errorf("%w: DecoupledWeightDecay: %v has no decoupled weight decay", device.ErrHyper, spec.Rule)
	}
	return def.check(rule, h)
}

// hasCoef reports whether the rule has a coefficient of that name.
func hasCoef(spec device.RuleSpec, name string) bool {
	for _, c := range spec.Coefs {
		if c.Name == name {
			return true
		}
	}
	return false
}

// stepLR is the learning rate of step t (1-based), computed in float64 so
// that every backend rounds the same number.
func (h Hyper) stepLR(t int64) float64 {
	return h.LR / (1 + float64(t-1)*h.LRDecay)
}

// Option changes one hyperparameter; options apply in order on top of the
// defaults (for New) or of the optimizer's settings (for a Param).
type Option func(*Hyper)

// LR sets the learning rate (default 0.01; PyTorch's lr). It must be
// finite and not negative, also in the tensor's dtype.
func LR(v float64) Option { return func(h *Hyper) { h.LR = v } }

// Eps sets the term that keeps the denominator from zero (default 1e-8;
// PyTorch's eps defaults to 1e-10). Where it goes depends on the rule:
// outside the square root for device.Adagrad and device.AdagradTF, inside
// for device.AdagradEpsInside and device.AdagradOptax. The rules without
// ε (device.AdagradNoEps, AdagradGloVe, ProximalAdagrad, AdagradDA,
// AdagradJAX) refuse any Eps but 0: give Eps(0), or use their preset.
func Eps(v float64) Option { return func(h *Hyper) { h.Eps = v } }

// LRDecay makes step t use lr / (1 + (t-1)·LRDecay), t counted per tensor
// from 1 (PyTorch's lr_decay; default 0).
func LRDecay(v float64) Option { return func(h *Hyper) { h.LRDecay = v } }

// WeightDecay adds WeightDecay·param to the gradient before the update, an
// L2 penalty (PyTorch's weight_decay; default 0). Row-sparse gradients
// refuse it, as PyTorch does.
func WeightDecay(v float64) Option { return func(h *Hyper) { h.WeightDecay = v } }

// InitialAccumulatorValue is the accumulator's starting value (PyTorch's
// initial_accumulator_value; default 0).
func InitialAccumulatorValue(v float64) Option {
	return func(h *Hyper) { h.InitialAccumulatorValue = v }
}

// Maximize ascends the objective instead of descending it: the gradient's
// sign is flipped first (PyTorch's maximize).
func Maximize(v bool) Option { return func(h *Hyper) { h.Maximize = v } }

// SkipNonFinite makes Step refuse, with ErrNonFinite and no change at all,
// a gradient that holds NaN or ±Inf as the device would receive it (after
// narrowing to half precision, after summing duplicate rows). Off by
// default: as in PyTorch, they then propagate into the parameters.
func SkipNonFinite(v bool) Option { return func(h *Hyper) { h.SkipNonFinite = v } }

// UpdateRule chooses the update rule (see device.Rule), for example
// device.AdagradEpsInside for ε inside the square root,
// device.AdagradRowwise for one accumulator per row of an embedding table,
// device.Adagrad8Bit for an accumulator kept in 8 bits. The presets
// (presets.go) choose a rule and its library's defaults in one call.
func UpdateRule(r device.Rule) Option { return func(h *Hyper) { h.Rule = r } }

// L1 sets the L1 regularisation strength of device.ProximalAdagrad and
// device.AdagradDA (TensorFlow's l1_regularization_strength; default 0):
// with it, weights become exactly zero. Finite and not negative, also in
// the tensor's dtype; other rules refuse any but 0.
func L1(v float64) Option { return func(h *Hyper) { h.L1 = v } }

// L2 sets the L2 regularisation strength of device.ProximalAdagrad and
// device.AdagradDA (TensorFlow's l2_regularization_strength; default 0).
// Other rules refuse any but 0 (their L2 term is WeightDecay).
func L2(v float64) Option { return func(h *Hyper) { h.L2 = v } }

// Momentum sets device.AdagradJAX's momentum, in [0, 1] (JAX's default is
// 0.9; see JAXDefaults). Other rules refuse any but 0.
func Momentum(v float64) Option { return func(h *Hyper) { h.Momentum = v } }

// DecoupledWeightDecay applies WeightDecay to the weights directly instead
// of adding it to the gradient, for rules that have the choice
// (device.AdagradRowwise; FBGEMM's weight_decay_mode 2).
func DecoupledWeightDecay(v bool) Option { return func(h *Hyper) { h.DecoupledWeightDecay = v } }

// Seed seeds the stochastic rounding of half-precision parameters (see
// Hyper.Seed; default 0).
func Seed(v uint64) Option { return func(h *Hyper) { h.Seed = v } }

// WithHyper replaces every hyperparameter at once.
func WithHyper(x Hyper) Option { return func(h *Hyper) { *h = x } }

func apply(h Hyper, opts []Option) (Hyper, error) {
	for _, o := range opts {
		if o == nil {
			return h, fmt.Errorf("%w: nil Option", device.ErrHyper)
		}
		o(&h)
	}
	return h, h.Validate()
}
