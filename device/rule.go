package device

import (
	"fmt"
	"slices"
)

// Rule names an update rule: the arithmetic an Updater applies to every
// element of a range, with its coefficients and its state. Each rule is
// defined once here (what kernels read: coefficients and state buffers) and
// implemented by every backend's kernels; the conformance suite
// (device/devicetest) holds each implementation to the rule's reference.
//
// Adding a rule means: its entry here, its kernels (cpu, kernels/*.cu,
// kernels/*.cl, keyed by the rule's number), the optimizer's mapping from
// hyperparameters to its coefficients (package optim), its reference and
// its tests. Nothing else changes: ranges, range tables, arenas and
// launches are generic over rules.
type Rule uint8

const (
	// Adagrad is PyTorch's torch.optim.Adagrad with ε outside the root
	// (also TF's ApplyAdagradV2, Keras 2, FBGEMM), per element:
	//
	//	g   = sign·grad                   (sign = -1 to maximize)
	//	g   = fma(wd, p, g)               (when wd != 0)
	//	sum = fma(g, g, sum)
	//	p   = p - (lr·g) / (sqrt(sum) + eps)
	//
	// as PyTorch's dense CUDA (foreach) path computes it. With row-sparse
	// gradients it follows PyTorch's sparse path instead, which rounds
	// differently (weight decay is refused there, as in PyTorch):
	//
	//	sum = sum + g·g                   (the square rounded, then the add)
	//	p   = p - lr·(g / (sqrt(sum) + eps))
	Adagrad Rule = 1
	// AdagradEpsInside puts ε inside the root as Keras 3 computes it
	// (keras/src/optimizers/adagrad.py, update_step; also Keras 2.11+'s
	// default tf.keras optimizer, keras/optimizers/adagrad.py, and
	// gorgonia): the square rounded before it is added, the learning rate
	// applied before the division,
	//
	//	sum = sum + round(g·g)
	//	p   = p - round(lr·g) / sqrt(sum + eps)
	//
	// dense and row-sparse alike (the row-sparse form without weight
	// decay). Keras's own weight decay is decoupled (p -= p·wd·lr, apart
	// from the rule); WeightDecay here is the optimizer's L2 term, fused as
	// in Adagrad. Optax's ε-inside arithmetic is AdagradOptax. The other
	// members of the family are in rule_family.go.
	AdagradEpsInside Rule = 2
)

// MaxCoefs is the most coefficients a rule has per range, and MaxStates the
// most state buffers (accumulators) beside the parameter.
const (
	MaxCoefs  = 6
	MaxStates = 2
)

// RuleSpec is what kernels and arenas need to know of a rule.
type RuleSpec struct {
	Rule Rule
	// Name is the rule's name in messages and checkpoints.
	Name string
	// Coefs are the per-range coefficients, in the order kernels read them
	// from Range.Coef.
	Coefs []CoefSpec
	// State are the rule's state buffers beside the parameter, in the order
	// of Update.State, and how each is sized.
	State []StateSpec
}

// CoefSpec is one coefficient of a rule. A coefficient is finite and not
// negative in the parameters' dtype; a Sign coefficient is 1 or -1.
type CoefSpec struct {
	Name string
	Sign bool
	// DenseOnly: the rule has no row-sparse form with this coefficient set;
	// UpdateRows refuses it unless it is 0.
	DenseOnly bool
}

// Per says how a state buffer is sized against its tensor.
type Per uint8

const (
	PerElement Per = iota + 1 // one value per parameter element
	PerRow                    // one value per row of Range.Width elements
)

// StateSpec is one state buffer of a rule: its name (PyTorch's key, where
// PyTorch has one) and its size.
type StateSpec struct {
	Name string
	Per  Per
}

// adagradCoefs are the coefficients of the ε rules: Adagrad,
// AdagradEpsInside, AdagradTF, AdagradOptax.
var adagradCoefs = []CoefSpec{{Name: "lr"}, {Name: "eps"}, {Name: "weight_decay", DenseOnly: true}, {Name: "sign", Sign: true}}

// Adagrad's coefficient positions in Range.Coef.
const (
	CoefLR = iota
	CoefEps
	CoefWeightDecay
	CoefSign
)

var ruleSpecs = withSpecs(map[Rule]RuleSpec{
	Adagrad: {Rule: Adagrad, Name: "adagrad", Coefs: adagradCoefs,
		State: []StateSpec{{Name: "sum", Per: PerElement}}},
	AdagradEpsInside: {Rule: AdagradEpsInside, Name: "adagrad-eps-inside", Coefs: adagradCoefs,
		State: []StateSpec{{Name: "accumulator", Per: PerElement}}},
}, elementFamily)

// Spec returns the rule's definition.
func (r Rule) Spec() (RuleSpec, bool) {
	s, ok := ruleSpecs[r]
	return s, ok
}

// String is the rule's name, as RuleSpec.Name and RuleNamed have it.
func (r Rule) String() string {
	if s, ok := ruleSpecs[r]; ok {
		return s.Name
	}
	return fmt.Sprintf("Rule(%d)", int(r))
}

// Rules lists every defined rule, in order.
func Rules() []Rule {
	out := make([]Rule, 0, len(ruleSpecs))
	for r := range ruleSpecs {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// RuleNamed returns the rule of a name, as Rule.String gives it.
func RuleNamed(name string) (Rule, bool) {
	for r, s := range ruleSpecs {
		if s.Name == name {
			return r, true
		}
	}
	return 0, false
}
