package devicetest

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"slices"

	"github.com/adagrad-go/adagrad/device"
)

// The references: every rule of device.Rules written out once more, one
// element at a time, single-threaded and apart from every backend's code,
// as device/rule.go states it. Each operation is rounded to the dtype on
// its own (explicit conversions keep Go from fusing), and a fused
// multiply-add appears only where the rule has one; the float32 one is
// computed exactly with math/big and rounded once, not with the backends'
// tricks. A backend agrees bitwise with the reference or it is wrong; two
// backends then agree bitwise with each other.
//
// Adding a rule adds its entry to references (TestReferences fails
// without one, and the Capabilities layer fails for a backend that
// declares a rule without one).

// Float is a parameter element type.
type Float interface{ float32 | float64 }

// refKernel updates one span of a range: p and g are the span's
// parameters and gradients, st[k] its part of state k (one value per
// element, per row of width elements or per block; 8-bit codes as values
// of T), c the coefficients rounded to T.
type refKernel[T Float] func(p, g []T, st [device.MaxStates][]T, c [device.MaxCoefs]T, width int)

// ruleReference is one rule's reference, dense and row-sparse, per dtype.
type ruleReference struct {
	dense32, rows32 refKernel[float32]
	dense64, rows64 refKernel[float64]
}

var references = withFamily(map[device.Rule]ruleReference{
	device.Adagrad: {
		dense32: adagradDenseRef[float32], rows32: adagradRowsRef[float32],
		dense64: adagradDenseRef[float64], rows64: adagradRowsRef[float64],
	},
	device.AdagradEpsInside: sameForms(lrOverRootRef[float32](true), lrOverRootRef[float64](true)),
	device.AdagradRowwise: {
		dense32: rowwiseRef[float32], rows32: rowwiseRef[float32],
		dense64: rowwiseRef[float64], rows64: rowwiseRef[float64],
	},
	device.Adagrad8Bit: {dense32: adagrad8BitRef[float32], dense64: adagrad8BitRef[float64]},
})

// hasReference reports whether rule r has a reference here.
func hasReference(r device.Rule) bool { _, ok := references[r]; return ok }

// adagradDenseRef is device.Adagrad, dense (PyTorch's CUDA foreach path):
// g = sign·grad; g = fma(wd, p, g) when wd != 0; sum = fma(g, g, sum);
// p = p - (lr·g) / (sqrt(sum) + eps).
func adagradDenseRef[T Float](p, g []T, st [device.MaxStates][]T, c [device.MaxCoefs]T, _ int) {
	lr, eps, wd, sign := c[device.CoefLR], c[device.CoefEps], c[device.CoefWeightDecay], c[device.CoefSign]
	sum := st[0]
	for i := range p {
		gi := decayedSquare(&sum[i], p[i], g[i], sign, wd)
		denom := T(T(math.Sqrt(float64(sum[i]))) + eps)
		step := T(T(lr*gi) / denom)
		p[i] = T(p[i] - step)
	}
}

// decayedSquare is the dense Adagrad family's gradient and accumulator:
// g = sign·grad; g = fma(wd, p, g) when wd != 0; sum = fma(g, g, sum). It
// returns g.
func decayedSquare[T Float](sum *T, p, grad, sign, wd T) T {
	g := gradient(p, grad, sign, wd)
	*sum = fmaExact(g, g, *sum)
	return g
}

// adagradRowsRef is device.Adagrad, row-sparse (PyTorch's sparse path):
// sum = sum + round(g·g), no fused multiply-add; the division before the
// scaling: p = p - lr·(g / (sqrt(sum) + eps)).
func adagradRowsRef[T Float](p, g []T, st [device.MaxStates][]T, c [device.MaxCoefs]T, _ int) {
	lr, eps, sign := c[device.CoefLR], c[device.CoefEps], c[device.CoefSign]
	sum := st[0]
	for i := range p {
		gi := T(sign * g[i])
		square := T(gi * gi)
		sum[i] = T(sum[i] + square)
		denom := T(T(math.Sqrt(float64(sum[i]))) + eps)
		ratio := T(gi / denom)
		p[i] = T(p[i] - T(lr*ratio))
	}
}

// fmaExact is a*b+c rounded once to T: math.FMA for float64; for float32
// the exact value from math/big, rounded once.
func fmaExact[T Float](a, b, c T) T {
	if _, ok := any(a).(float64); ok {
		return T(math.FMA(float64(a), float64(b), float64(c)))
	}
	x, y, z := float64(a), float64(b), float64(c)
	p := float64(x * y) // exact: 24+24 bits
	v := p + z
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return T(v) // non-finite: no rounding question, and big.Float has no NaN
	}
	// Knuth's TwoSum: when the float64 sum has no error, v is a*b+c
	// itself and rounding it to float32 is the one rounding.
	bv := v - p
	if (p-(v-bv))+(z-bv) == 0 {
		return T(float32(v))
	}
	// a*b lies within [2^-298, 2^256] in magnitude and c within
	// [2^-149, 2^128], so 600 bits hold a*b+c exactly: one rounding only.
	prod := new(big.Float).SetPrec(600).Mul(big.NewFloat(x), big.NewFloat(y))
	sum := new(big.Float).SetPrec(600).Add(prod, big.NewFloat(z))
	f, _ := sum.Float32()
	return T(f)
}

func kernelsFor[T Float](r device.Rule) (dense, rows refKernel[T], err error) {
	ref, ok := references[r]
	if !ok {
		return nil, nil, fmt.Errorf("devicetest: rule %v has no reference", r)
	}
	switch any(T(0)).(type) {
	case float32:
		return any(ref.dense32).(refKernel[T]), any(ref.rows32).(refKernel[T]), nil
	default:
		return any(ref.dense64).(refKernel[T]), any(ref.rows64).(refKernel[T]), nil
	}
}

func roundCoefs[T Float](coef [device.MaxCoefs]float64) (c [device.MaxCoefs]T) {
	for i, v := range coef {
		c[i] = T(v)
	}
	return c
}

// stateSpan slices each of the rule's states to the span [lo, hi) of a
// tensor whose state k starts at st[k][0] (lo and hi on row or block
// boundaries for per-row and per-block state).
func stateSpan[T Float](spec device.RuleSpec, st [device.MaxStates][]T, lo, hi, width int) (out [device.MaxStates][]T) {
	for k, s := range spec.State {
		a, b := lo, hi
		switch s.Per {
		case device.PerRow:
			a, b = 0, 0 // rows of no element: a tensor without elements
			if width > 0 {
				a, b = lo/width, hi/width
			}
		case device.PerBlock:
			a, b = lo/spec.Block, (hi+spec.Block-1)/spec.Block
		}
		out[k] = st[k][a:b]
	}
	return out
}

// ReferenceStep applies one dense step of a rule to one tensor held in
// host slices, by the rule's reference: p and g are the tensor's
// parameters and gradients, state[k] its state k (device.RuleSpec.State:
// one value per element, per row of width elements or per block; 8-bit
// codes as values of T), coef the step's coefficients
// (device.Range.Coef), rounded to T here as backends round them. It is the result every backend must give bitwise; layers above
// the device (optim/optimtest) build their expectations from it.
func ReferenceStep[T Float](rule device.Rule, coef [device.MaxCoefs]float64, width int, p, g []T, state [device.MaxStates][]T) error {
	spec, ok := rule.Spec()
	if !ok {
		return fmt.Errorf("%w: %v", device.ErrRule, rule)
	}
	dense, _, err := kernelsFor[T](rule)
	if err != nil {
		return err
	}
	if len(g) != len(p) {
		return fmt.Errorf("devicetest: %d gradients for %d parameters", len(g), len(p))
	}
	dense(p, g, stateSpan(spec, state, 0, len(p), width), roundCoefs[T](coef), width)
	return nil
}

// ReferenceRows applies one row-sparse step of a rule to one tensor of
// rows of width elements held in host slices: row indices[i] (strictly
// increasing, as device.RowUpdate takes them: see Coalesce) takes
// values[i*width:(i+1)*width]; no other row changes.
func ReferenceRows[T Float](rule device.Rule, coef [device.MaxCoefs]float64, width int, p []T, state [device.MaxStates][]T, indices []int64, values []T) error {
	spec, ok := rule.Spec()
	if !ok {
		return fmt.Errorf("%w: %v", device.ErrRule, rule)
	}
	_, rows, err := kernelsFor[T](rule)
	if err != nil {
		return err
	}
	if rows == nil {
		return fmt.Errorf("%w: %v has no row-sparse form", device.ErrRule, rule)
	}
	if width <= 0 || len(values) != len(indices)*width {
		return fmt.Errorf("devicetest: %d values for %d rows of %d", len(values), len(indices), width)
	}
	c := roundCoefs[T](coef)
	for i, row := range indices {
		lo := int(row) * width
		if row < 0 || lo+width > len(p) || i > 0 && row <= indices[i-1] {
			return fmt.Errorf("devicetest: row %d (index %d) of %d rows, or not increasing", row, i, len(p)/width)
		}
		rows(p[lo:lo+width], values[i*width:(i+1)*width], stateSpan(spec, state, lo, lo+width, width), c, width)
	}
	return nil
}

// Coalesce sums the values of duplicate row indices as PyTorch's
// coalesce does and as the optimizer must before device.RowUpdate: a
// stable sort by index, then a left-to-right sum of each row's values in
// the order given, every addition rounded to T. It returns strictly
// increasing indices and their summed rows.
func Coalesce[T Float](indices []int64, values []T, width int) ([]int64, []T) {
	order := make([]int, len(indices))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(indices[x], indices[y]) })
	var outIdx []int64
	var outVal []T
	for _, i := range order {
		row := values[i*width : (i+1)*width]
		if n := len(outIdx); n > 0 && outIdx[n-1] == indices[i] {
			acc := outVal[(n-1)*width:]
			for w, v := range row {
				acc[w] = T(acc[w] + v)
			}
			continue
		}
		outIdx = append(outIdx, indices[i])
		outVal = append(outVal, row...)
	}
	return outIdx, outVal
}
