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
// its tests. Nothing else changes: ranges, range tables, arenas, layouts
// of state (per element, per row, per block; of the compute type or 8-bit)
// and launches are generic over rules, and follow the unit of work the
// RuleSpec states (elements, rows, blocks).
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

	// AdagradRowwise is FBGEMM's EXACT_ROWWISE_ADAGRAD (fbgemm_gpu,
	// codegen/genscript/optimizers.py, rowwise_adagrad): one accumulator per
	// row (state "row_sum", PerRow), for embedding tables. For each row of
	// Range.Width elements, with g = sign·grad:
	//
	//	g'   = fma(wd, p, g)   (L2 mode: wd != 0 and decoupled = 0; else g' = g)
	//	a[l] = fma(g'[j], g'[j], a[l])  for j = l, l+8, l+16, …  (8 lanes, from 0)
	//	mean = (((a0+a1)+(a2+a3))+((a4+a5)+(a6+a7))) / width
	//	m    = m + mean
	//	mult = lr / (sqrt(m) + eps)
	//	corr = 1 - mult·wd     (L2 mode)
	//	       1 - lr·wd       (decoupled: FBGEMM's weight_decay_mode 2)
	//	       1               (wd = 0)
	//	p    = fma(corr, p, -(mult·g))
	//
	// every operation rounded on its own. The order of the row's sum is
	// part of the rule (8 lanes, each left to right, then a fixed tree), so
	// that every backend adds in the same order; FBGEMM's own order (a warp
	// reduction whose shape depends on the row width and the GPU) cannot be
	// matched bitwise, so results agree with FBGEMM to rounding, not bit for
	// bit. The row-sparse form is the same arithmetic on the touched rows
	// (weight decay included, as FBGEMM applies it to the rows it updates).
	AdagradRowwise Rule = 20
	// Adagrad8Bit is Adagrad (dense) with its accumulator kept in 8 bits, in
	// the manner of bitsandbytes' Adagrad8bit (bitsandbytes/optim/adagrad.py;
	// the kernel kOptimizerStatic8bit1StateBlockwise in csrc/kernels.cu):
	// blocks of Block8Bit elements from the range's start, each with one
	// scale (state "sum_absmax", PerBlock, the compute dtype) and one code
	// per element (state "sum_codes", Uint8) into Code8Bit, bitsandbytes'
	// unsigned dynamic map (create_dynamic_map(signed=False)). For each
	// block, with a its scale:
	//
	//	sum  = Code8Bit[code]·a                          (rounded)
	//	g    = sign·grad;  g = fma(wd, p, g) when wd != 0
	//	sum  = fma(g, g, sum)
	//	p    = p - (lr·g) / (sqrt(sum) + eps)             (Adagrad's dense step)
	//	a'   = the largest sum of the block (left to right; 0 to start; NaN skipped)
	//	code = Quantize8Bit(sum / a')   (0 when a' is 0)
	//
	// Unlike bitsandbytes it takes any initial accumulator (a block of equal
	// values is exact: code 255, scale the value) and any learning-rate
	// decay, divides and takes roots correctly rounded, and uses g (with
	// weight decay) in the parameter step as PyTorch does. It has no
	// row-sparse form.
	Adagrad8Bit Rule = 21
)

// MaxCoefs is the most coefficients a rule has per range, and MaxStates the
// most states (accumulators) a rule keeps beside the parameter.
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
	// State are the rule's states beside the parameter, in the order of
	// Range.StateOff, and how each is sized and typed.
	State []StateSpec
	// Work is how kernels cut the rule's ranges into independent units
	// (ByElement when zero), and Block the elements of a ByBlock unit and
	// of a PerBlock state's block.
	Work  Work
	Block int
	// DenseOnly: the rule has no row-sparse form (no backend runs it with
	// UpdateRows).
	DenseOnly bool
}

// Work says how a rule's ranges are cut into units of work that kernels
// run independently of each other: one thread (or one fixed group of
// threads) per unit, and on the CPU pieces made of whole units. A unit's
// arithmetic, reductions included, is part of the rule, so every backend
// computes it in the same order.
type Work uint8

const (
	// ByElement: every element on its own; a range may be split anywhere
	// (GPU kernels take 4 elements per unit).
	ByElement Work = iota
	// ByRow: whole rows of Range.Width elements, which depend on each other
	// (a sum over the row).
	ByRow
	// ByBlock: whole blocks of RuleSpec.Block elements counted from the
	// range's start (the last one may be short).
	ByBlock
)

// UnitLen is the number of elements of one unit of the rule's work in a
// range of row width width: width for ByRow, Block for ByBlock, 1 for
// ByElement (which kernels group as they like).
func (s RuleSpec) UnitLen(width int) int {
	switch s.Work {
	case ByRow:
		return width
	case ByBlock:
		return s.Block
	}
	return 1
}

// CoefSpec is one coefficient of a rule. A coefficient is finite and not
// negative in the parameters' compute dtype; a Sign coefficient is 1 or
// -1; a Flag coefficient is 0 or 1.
type CoefSpec struct {
	Name string
	Sign bool
	Flag bool
	// DenseOnly: the rule has no row-sparse form with this coefficient set;
	// UpdateRows refuses it unless it is 0.
	DenseOnly bool
}

// Per says how a state is sized against its tensor.
type Per uint8

const (
	PerElement Per = iota + 1 // one value per parameter element
	PerRow                    // one value per row of Range.Width elements
	PerBlock                  // one value per block of RuleSpec.Block elements (the last may be short)
)

// StateSpec is one state of a rule: its name (PyTorch's key, where PyTorch
// has one), its size and its element type: DType 0 is the parameters'
// compute type (DType.Compute: float32 for float32 and half parameters,
// float64 for float64 ones); Uint8 holds 8-bit codes.
type StateSpec struct {
	Name  string
	Per   Per
	DType DType
}

// StateBuffers is the number of state buffers of an update: one holds every
// state of the parameters' compute type (StateReal), one every 8-bit state
// (StateBytes). A rule's state k lies in the buffer of its type at
// Range.StateOff[k], so that ranges of rules with different states share
// one launch.
const (
	StateBuffers = 2
	StateReal    = 0
	StateBytes   = 1
)

// Buffer is the index in Update.State of the buffer that holds the state.
func (s StateSpec) Buffer() int {
	if s.DType == Uint8 {
		return StateBytes
	}
	return StateReal
}

// DTypeFor is the state's element type for parameters of dtype param.
func (s StateSpec) DTypeFor(param DType) DType {
	if s.DType != 0 {
		return s.DType
	}
	return param.Compute()
}

// StateLen is the length of state k of the rule for n parameter elements
// in rows of width elements.
func (s RuleSpec) StateLen(k, n, width int) int {
	switch s.State[k].Per {
	case PerRow:
		if width <= 0 {
			return 0
		}
		return n / width
	case PerBlock:
		return (n + s.Block - 1) / s.Block
	}
	return n
}

// adagradCoefs are the coefficients of the ε rules: Adagrad,
// AdagradEpsInside, AdagradTF, AdagradOptax, Adagrad8Bit.
var adagradCoefs = []CoefSpec{{Name: "lr"}, {Name: "eps"}, {Name: "weight_decay", DenseOnly: true}, {Name: "sign", Sign: true}}

// rowwiseCoefs are AdagradRowwise's: Adagrad's, weight decay in the
// row-sparse form too, and whether it is decoupled.
var rowwiseCoefs = []CoefSpec{{Name: "lr"}, {Name: "eps"}, {Name: "weight_decay"}, {Name: "sign", Sign: true},
	{Name: "decoupled", Flag: true}}

// Adagrad's coefficient positions in Range.Coef (CoefDecoupled:
// AdagradRowwise's fifth).
const (
	CoefLR = iota
	CoefEps
	CoefWeightDecay
	CoefSign
	CoefDecoupled
)

// Block8Bit is the block of Adagrad8Bit's scales, as bitsandbytes' 8-bit
// blockwise optimizers of one state have it.
const Block8Bit = 256

var ruleSpecs = withSpecs(map[Rule]RuleSpec{
	Adagrad: {Rule: Adagrad, Name: "adagrad", Coefs: adagradCoefs,
		State: []StateSpec{{Name: "sum", Per: PerElement}}},
	AdagradEpsInside: {Rule: AdagradEpsInside, Name: "adagrad-eps-inside", Coefs: adagradCoefs,
		State: []StateSpec{{Name: "accumulator", Per: PerElement}}},
	AdagradRowwise: {Rule: AdagradRowwise, Name: "adagrad-rowwise", Coefs: rowwiseCoefs,
		State: []StateSpec{{Name: "row_sum", Per: PerRow}}, Work: ByRow},
	Adagrad8Bit: {Rule: Adagrad8Bit, Name: "adagrad-8bit", Coefs: adagradCoefs,
		State: []StateSpec{{Name: "sum_absmax", Per: PerBlock}, {Name: "sum_codes", Per: PerElement, DType: Uint8}},
		Work:  ByBlock, Block: Block8Bit, DenseOnly: true},
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
