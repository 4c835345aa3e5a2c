package devicetest

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// The family's references (reference_family.go) against steps worked out
// by hand, exact in binary, and against a third reading of each library's
// source in math/big: every operation rounded to the dtype's precision by
// big.Float, apart from both the references' and the backends' Go
// arithmetic.

// handCase is one step of a rule on one element, worked out by hand.
type handCase struct {
	name       string
	rule       device.Rule
	rows       bool
	coef       []float64
	p, g       float64
	state      []float64
	wantP      float64
	wantState  []float64
	negativeP0 bool // wantP is -0
}

func TestFamilyByHand(t *testing.T) {
	cases := []handCase{
		// TF ApplyAdagradV2: 7+9 = 16, sqrt 4, +0.5; 0.75·3/4.5 = 0.5.
		{"tf", device.AdagradTF, false, []float64{0.75, 0.5, 0, 1}, 2, 3, []float64{7}, 1.5, []float64{16}, false},
		// Keras 3: sqrt(16+9) = 5; 1.25·3/5 = 0.75.
		{"keras3", device.AdagradEpsInside, false, []float64{1.25, 9, 0, 1}, 2, 3, []float64{7}, 1.25, []float64{16}, false},
		{"keras3 rows", device.AdagradEpsInside, true, []float64{1.25, 9, 0, 1}, 2, 3, []float64{7}, 1.25, []float64{16}, false},
		// TF ApplyAdagrad: (3·0.5)·rsqrt(16) = 0.375.
		{"no eps", device.AdagradNoEps, false, []float64{0.5, 0, 1}, 2, 3, []float64{7}, 1.625, []float64{16}, false},
		// Optax: rsqrt(16+0)·3 = 0.75, ·0.5 = 0.375.
		{"optax", device.AdagradOptax, false, []float64{0.5, 0, 0, 1}, 2, 3, []float64{7}, 1.625, []float64{16}, false},
		// Optax's guard: a zero sum makes the update 0 whatever eps.
		{"optax guard", device.AdagradOptax, false, []float64{0.5, 1e-7, 0, 1}, 2, 0, []float64{0}, 2, []float64{0}, false},
		// GloVe: t = 0.5·3 = 1.5 over sqrt(4) (the old sum); 4 + 1.5² = 6.25.
		{"glove", device.AdagradGloVe, false, []float64{0.5, 0, 1}, 2, 3, []float64{4}, 1.25, []float64{6.25}, false},
		// Proximal: η = 2·rsqrt(16) = 0.5, v = 2 - 1.5 = 0.5; l1 0.5:
		// 0.5 - 0.25 = 0.25; l2 2: / (1 + 1) = 0.125.
		{"proximal", device.ProximalAdagrad, false, []float64{2, 0.5, 2, 1}, 2, 3, []float64{7}, 0.125, []float64{16}, false},
		{"proximal l1=0", device.ProximalAdagrad, false, []float64{2, 0, 2, 1}, 2, 3, []float64{7}, 0.25, []float64{16}, false},
		// l1 2: 0.5 - 1 < 0: exactly zero.
		{"proximal zero", device.ProximalAdagrad, true, []float64{2, 2, 2, 1}, 2, 3, []float64{7}, 0, []float64{16}, false},
		// DA dense: ĝ 1+3 = 4, G 7+9 = 16, t 2, lr 0.5, l1 1, l2 4:
		// d = 4·(2·0.5) + 4 = 8; -0.5·1·(4 - 2) / 8 = -0.125.
		{"da", device.AdagradDA, false, []float64{0.5, 1, 4, 1, 2}, 9, 3, []float64{1, 7}, -0.125, []float64{4, 16}, false},
		// DA rows: d = 4 + 4/(2·0.5) = 8; -1·(4/2 - 1) / 8 = -0.125.
		{"da rows", device.AdagradDA, true, []float64{0.5, 1, 4, 1, 2}, 9, 3, []float64{1, 7}, -0.125, []float64{4, 16}, false},
		// l1 = 0: -(0.5·4)/8 and -(4/2)/8.
		{"da l1=0", device.AdagradDA, false, []float64{0.5, 0, 4, 1, 2}, 9, 3, []float64{1, 7}, -0.25, []float64{4, 16}, false},
		{"da rows l1=0", device.AdagradDA, true, []float64{0.5, 0, 4, 1, 2}, 9, 3, []float64{1, 7}, -0.25, []float64{4, 16}, false},
		// l1 3: 4 - 6 < 0: TensorFlow's -lr·sgn·0 is -0.
		{"da zero", device.AdagradDA, false, []float64{0.5, 3, 4, 1, 2}, 9, 3, []float64{1, 7}, 0, []float64{4, 16}, true},
		// JAX: r = 0.25, m = 0.5·0.75 + 0.5·1 = 0.875, p = 2 - 2·0.875.
		{"jax", device.AdagradJAX, false, []float64{2, 0.5, 0.5, 1}, 2, 3, []float64{7, 1}, 0.25, []float64{16, 0.875}, false},
	}
	for _, c := range cases {
		for _, dt := range dtypes {
			var coef [device.MaxCoefs]float64
			copy(coef[:], c.coef)
			gotP, gotS, err := oneElement(dt, c.rule, c.rows, coef, c.p, c.g, c.state)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if gotP != c.wantP || math.Signbit(gotP) != c.negativeP0 && gotP == 0 {
				t.Errorf("%s %v: p = %v, want %v", c.name, dt, gotP, c.wantP)
			}
			for k, w := range c.wantState {
				if gotS[k] != w {
					t.Errorf("%s %v: state %d = %v, want %v", c.name, dt, k, gotS[k], w)
				}
			}
		}
	}
}

// oneElement runs a rule's reference on one element in dtype dt.
func oneElement(dt device.DType, rule device.Rule, rows bool, coef [device.MaxCoefs]float64, p, g float64, state []float64) (float64, []float64, error) {
	if dt == device.Float32 {
		return oneElementIn[float32](rule, rows, coef, p, g, state)
	}
	return oneElementIn[float64](rule, rows, coef, p, g, state)
}

func oneElementIn[T Float](rule device.Rule, rows bool, coef [device.MaxCoefs]float64, p, g float64, state []float64) (float64, []float64, error) {
	ps, gs := []T{T(p)}, []T{T(g)}
	var st [device.MaxStates][]T
	for k, v := range state {
		st[k] = []T{T(v)}
	}
	var err error
	if rows {
		err = ReferenceRows(rule, coef, 1, ps, st, []int64{0}, gs)
	} else {
		err = ReferenceStep(rule, coef, 1, ps, gs, st)
	}
	out := make([]float64, len(state))
	for k := range state {
		out[k] = float64(st[k][0])
	}
	return float64(ps[0]), out, err
}

// bigOps rounds every operation to a binary format of prec bits with
// math/big (normal numbers only: the test keeps to them).
type bigOps struct{ prec uint }

func (o bigOps) f(x float64) *big.Float { return new(big.Float).SetPrec(o.prec).SetFloat64(x) }
func (o bigOps) z() *big.Float          { return new(big.Float).SetPrec(o.prec) }
func (o bigOps) add(a, b *big.Float) *big.Float {
	return o.z().Add(a, b)
}
func (o bigOps) sub(a, b *big.Float) *big.Float { return o.z().Sub(a, b) }
func (o bigOps) mul(a, b *big.Float) *big.Float { return o.z().Mul(a, b) }
func (o bigOps) quo(a, b *big.Float) *big.Float { return o.z().Quo(a, b) }
func (o bigOps) sqrt(a *big.Float) *big.Float   { return o.z().Sqrt(a) }
func (o bigOps) rsqrt(a *big.Float) *big.Float  { return o.quo(o.f(1), o.sqrt(a)) }
func (o bigOps) abs(a *big.Float) *big.Float    { return o.z().Abs(a) }
func (o bigOps) neg(a *big.Float) *big.Float    { return o.z().Neg(a) }

// fma is a·b+c rounded once: the exact product, then one rounding.
func (o bigOps) fma(a, b, c *big.Float) *big.Float {
	exact := new(big.Float).SetPrec(2*o.prec+2).Mul(a, b)
	return o.z().Add(exact, c)
}

// sgn and max0 are TensorFlow's (see sgnTF, max0TF).
func (o bigOps) sgn(a *big.Float) *big.Float { return o.f(float64(a.Sign())) }
func (o bigOps) max0(a *big.Float) *big.Float {
	if a.Sign() < 0 {
		return o.f(0)
	}
	return a
}

// bigStep is a library's update of one element, written with bigOps as
// its source reads: p, g and the states in, p and the states out.
type bigStep func(o bigOps, c []*big.Float, p, g *big.Float, s []*big.Float) (*big.Float, []*big.Float)

// bigRules are the library formulas, each from the source its rule cites.
var bigRules = []struct {
	rule device.Rule
	rows bool
	coef []float64 // the coefficients (sign 1, weight decay 0)
	step bigStep
}{
	// tensorflow/core/kernels/training_ops.cc, ApplyAdagradV2:
	// accum += grad.square(); var -= grad * lr() / (accum.sqrt() + epsilon()).
	{device.AdagradTF, false, []float64{0.05, 1e-7, 0, 1}, func(o bigOps, c []*big.Float, p, g *big.Float, s []*big.Float) (*big.Float, []*big.Float) {
		a := o.add(s[0], o.mul(g, g))
		return o.sub(p, o.quo(o.mul(g, c[0]), o.add(o.sqrt(a), c[1]))), []*big.Float{a}
	}},
	// keras/src/optimizers/adagrad.py, update_step.
	{device.AdagradEpsInside, false, []float64{0.001, 1e-7, 0, 1}, func(o bigOps, c []*big.Float, p, g *big.Float, s []*big.Float) (*big.Float, []*big.Float) {
		a := o.add(s[0], o.mul(g, g))
		return o.sub(p, o.quo(o.mul(c[0], g), o.sqrt(o.add(a, c[1])))), []*big.Float{a}
	}},
	// training_ops.cc, ApplyAdagrad: var -= grad * lr() * accum.rsqrt().
	{device.AdagradNoEps, false, []float64{0.1, 0, 1}, func(o bigOps, c []*big.Float, p, g *big.Float, s []*big.Float) (*big.Float, []*big.Float) {
		a := o.add(s[0], o.mul(g, g))
		return o.sub(p, o.mul(o.mul(g, c[0]), o.rsqrt(a))), []*big.Float{a}
	}},
	// optax/_src/transform.py scale_by_rss, then scale(-lr), then p + u.
	{device.AdagradOptax, false, []float64{0.3, 1e-7, 0, 1}, func(o bigOps, c []*big.Float, p, g *big.Float, s []*big.Float) (*big.Float, []*big.Float) {
		a := o.add(o.mul(g, g), s[0])
		inv := o.f(0)
		if a.Sign() > 0 {
			inv = o.rsqrt(o.add(a, c[1]))
		}
		u := o.mul(o.neg(c[0]), o.mul(inv, g))
		return o.add(p, u), []*big.Float{a}
	}},
	// src/glove.c: temp = g·eta; W -= temp / sqrt(gradsq); gradsq += temp·temp (fused).
	{device.AdagradGloVe, false, []float64{0.05, 0, 1}, func(o bigOps, c []*big.Float, p, g *big.Float, s []*big.Float) (*big.Float, []*big.Float) {
		temp := o.mul(g, c[0])
		return o.sub(p, o.quo(temp, o.sqrt(s[0]))), []*big.Float{o.fma(temp, temp, s[0])}
	}},
	// training_ops.cc, ApplyProximalAdagrad (l1 > 0).
	{device.ProximalAdagrad, false, []float64{0.2, 0.01, 0.1, 1}, func(o bigOps, c []*big.Float, p, g *big.Float, s []*big.Float) (*big.Float, []*big.Float) {
		a := o.add(s[0], o.mul(g, g))
		eta := o.mul(c[0], o.rsqrt(a))
		v := o.sub(p, o.mul(g, eta))
		w := o.quo(o.mul(o.sgn(v), o.max0(o.sub(o.abs(v), o.mul(eta, c[1])))), o.add(o.f(1), o.mul(c[2], eta)))
		return w, []*big.Float{a}
	}},
	// training_ops.cc, ApplyAdagradDA (l1 > 0), global step 3.
	{device.AdagradDA, false, []float64{0.2, 0.05, 0.1, 1, 3}, func(o bigOps, c []*big.Float, p, g *big.Float, s []*big.Float) (*big.Float, []*big.Float) {
		ga, gg := o.add(s[0], g), o.add(s[1], o.mul(g, g))
		denom := o.add(o.mul(c[2], o.mul(c[4], c[0])), o.sqrt(gg))
		w := o.quo(o.mul(o.mul(o.mul(c[0], o.f(-1)), o.sgn(ga)), o.max0(o.sub(o.abs(ga), o.mul(c[4], c[1])))), denom)
		return w, []*big.Float{ga, gg}
	}},
	// training_ops.cc, SparseApplyAdagradDA, rows of more than one element (l1 > 0).
	{device.AdagradDA, true, []float64{0.2, 0.05, 0.1, 1, 3}, func(o bigOps, c []*big.Float, p, g *big.Float, s []*big.Float) (*big.Float, []*big.Float) {
		ga, gg := o.add(s[0], g), o.add(s[1], o.mul(g, g))
		denom := o.add(c[2], o.quo(o.sqrt(gg), o.mul(c[4], c[0])))
		w := o.quo(o.mul(o.mul(o.f(-1), o.sgn(ga)), o.max0(o.sub(o.quo(o.abs(ga), c[4]), c[1]))), denom)
		return w, []*big.Float{ga, gg}
	}},
	// jax/example_libraries/optimizers.py, adagrad(step_size, momentum=0.9).
	{device.AdagradJAX, false, []float64{0.1, 0.9, 1 - 0.9, 1}, func(o bigOps, c []*big.Float, p, g *big.Float, s []*big.Float) (*big.Float, []*big.Float) {
		gsq := o.add(s[0], o.mul(g, g))
		inv := o.f(0)
		if gsq.Sign() > 0 {
			inv = o.quo(o.f(1), o.sqrt(gsq))
		}
		m := o.add(o.mul(c[2], o.mul(g, inv)), o.mul(c[1], s[1]))
		return o.sub(p, o.mul(c[0], m)), []*big.Float{gsq, m}
	}},
}

// TestFamilyBigFloat runs every library formula of bigRules in math/big,
// rounded to float32 and to float64, for a few steps on random elements,
// and requires the references to give the same bits.
func TestFamilyBigFloat(t *testing.T) {
	for _, br := range bigRules {
		for _, dt := range dtypes {
			o := bigOps{prec: 24}
			if dt == device.Float64 {
				o.prec = 53
			}
			rng := rand.New(rand.NewPCG(uint64(br.rule), uint64(dt)))
			var coef [device.MaxCoefs]float64
			copy(coef[:], br.coef)
			spec, _ := br.rule.Spec()
			for e := range 200 {
				p := narrowTo(dt, rng.NormFloat64())
				state := make([]float64, len(spec.State))
				for k := range state {
					state[k] = narrowTo(dt, 0.1+rng.Float64())
				}
				bc := make([]*big.Float, len(br.coef))
				for i, v := range br.coef {
					bc[i] = o.f(narrowTo(dt, v))
				}
				bp, bs := o.f(p), make([]*big.Float, len(state))
				for k, v := range state {
					bs[k] = o.f(v)
				}
				for step := range 4 {
					g := narrowTo(dt, rng.NormFloat64()*(1+float64(step)))
					var err error
					p, state, err = oneElement(dt, br.rule, br.rows, coef, p, g, state)
					if err != nil {
						t.Fatal(err)
					}
					bp, bs = br.step(o, bc, bp, o.f(g), bs)
					if want, _ := bp.Float64(); want != p {
						t.Fatalf("%v %v (rows %v) element %d step %d: reference p = %v, math/big %v", br.rule, dt, br.rows, e, step, p, want)
					}
					for k := range state {
						if want, _ := bs[k].Float64(); want != state[k] {
							t.Fatalf("%v %v element %d step %d: reference state %d = %v, math/big %v", br.rule, dt, e, step, k, state[k], want)
						}
					}
				}
			}
		}
	}
}

func narrowTo(dt device.DType, v float64) float64 {
	if dt == device.Float32 {
		return float64(float32(v))
	}
	return v
}
