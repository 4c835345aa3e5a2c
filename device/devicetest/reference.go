package devicetest

import (
	"math"
	"math/big"

	"github.com/adagrad-go/adagrad/optim"
)

// refTensor is one tensor of the single-threaded reference, kept apart from
// the backends' code on purpose: it is the numerics contract written out
// once more, element by element.
type refTensor[T float32 | float64] struct {
	p, s  []T
	hyper optim.Hyper
	step  int64
}

func newRefTensor[T float32 | float64](init []T, h optim.Hyper) *refTensor[T] {
	r := &refTensor[T]{p: append([]T(nil), init...), s: make([]T, len(init)), hyper: h}
	for i := range r.s {
		r.s[i] = T(h.InitialAccumulatorValue)
	}
	return r
}

// updateRows applies one step with a row-sparse gradient as PyTorch's
// sparse path computes it: duplicate rows are summed in the order given
// (rounding each sum to T), then only the touched rows are updated, with
// the square rounded before it is added and the division before the
// scaling by the learning rate.
func (r *refTensor[T]) updateRows(indices []int64, values []T, width int) {
	sums := map[int64][]T{}
	var order []int64
	for i, row := range indices {
		acc, ok := sums[row]
		if !ok {
			acc = make([]T, width)
			sums[row] = acc
			order = append(order, row)
		}
		for w := range width {
			acc[w] = T(acc[w] + values[i*width+w])
		}
	}
	r.step++
	h := r.hyper
	lr := T(h.LR / (1 + float64(r.step-1)*h.LRDecay))
	eps := T(h.Eps)
	for _, row := range order {
		lo := int(row) * width
		for w, gi := range sums[row] {
			i := lo + w
			if h.Maximize {
				gi = -gi
			}
			r.s[i] = T(r.s[i] + T(gi*gi))
			std := T(T(math.Sqrt(float64(r.s[i]))) + eps)
			r.p[i] = T(r.p[i] - T(lr*T(gi/std)))
		}
	}
}

// update applies one step with gradient g: the accumulator and the
// weight-decay term are fused multiply-adds rounded once to T (as PyTorch's
// kernels compute them), every other operation is rounded to T on its own.
func (r *refTensor[T]) update(g []T) {
	r.step++
	r.apply(0, len(r.p), g)
}

// apply updates elements [lo, hi) with gradient g[0:hi-lo] at the current
// step.
func (r *refTensor[T]) apply(lo, hi int, g []T) {
	h := r.hyper
	lr := T(h.LR / (1 + float64(r.step-1)*h.LRDecay))
	eps, wd := T(h.Eps), T(h.WeightDecay)
	for i := lo; i < hi; i++ {
		gi := g[i-lo]
		if h.Maximize {
			gi = -gi
		}
		if wd != 0 {
			gi = fma(wd, r.p[i], gi)
		}
		r.s[i] = fma(gi, gi, r.s[i])
		std := T(T(math.Sqrt(float64(r.s[i]))) + eps)
		r.p[i] = T(r.p[i] - T(T(lr*gi)/std))
	}
}

// wide64 is the float64 reference for a float32 run: the same update on
// float64 values, to check that float32 results stay close to the exact
// trajectory.
type wide64 = refTensor[float64]

// fma is a*b+c rounded once to T. For float32 it computes the exact value
// with math/big and rounds once, independently of the backends' tricks.
func fma[T float32 | float64](a, b, c T) T {
	if _, ok := any(a).(float64); ok {
		return T(math.FMA(float64(a), float64(b), float64(c)))
	}
	x, y, z := float64(a), float64(b), float64(c)
	if math.IsInf(x*y+z, 0) || math.IsNaN(x*y+z) {
		return T(x*y + z) // non-finite: no rounding question, and big.Float has no NaN
	}
	prod := new(big.Float).SetPrec(2000).Mul(big.NewFloat(x), big.NewFloat(y))
	sum := new(big.Float).SetPrec(2000).Add(prod, big.NewFloat(z))
	f, _ := sum.Float32()
	return T(f)
}
