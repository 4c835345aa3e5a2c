package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// familyScalar are the scalar kernels of the family's rules, dense and
// row-sparse, that the vector kernels must match.
var familyScalar = map[device.Rule][2]struct {
	k32 kernel[float32]
	k64 kernel[float64]
}{
	device.Adagrad:          {{adagradDense[float32], adagradDense[float64]}, {adagradRows[float32], adagradRows[float64]}},
	device.AdagradEpsInside: {{lrOverRoot[float32](true), lrOverRoot[float64](true)}, {lrOverRoot[float32](true), lrOverRoot[float64](true)}},
	device.AdagradTF:        {{lrOverRoot[float32](false), lrOverRoot[float64](false)}, {lrOverRoot[float32](false), lrOverRoot[float64](false)}},
	device.AdagradNoEps:     {{noEps[float32], noEps[float64]}, {noEps[float32], noEps[float64]}},
	device.AdagradOptax:     {{optax[float32], optax[float64]}, {optax[float32], optax[float64]}},
	device.AdagradGloVe:     {{glove[float32], glove[float64]}, {glove[float32], glove[float64]}},
	device.ProximalAdagrad:  {{proximal[float32], proximal[float64]}, {proximal[float32], proximal[float64]}},
	device.AdagradDA:        {{daDense[float32], daDense[float64]}, {daRows[float32], daRows[float64]}},
	device.AdagradJAX:       {{jax[float32], jax[float64]}, {jax[float32], jax[float64]}},
}

// TestFamilySIMDMatchesScalar holds each rule's kernels (the vector ones
// where this machine has them) to the scalar loops bit for bit, on data
// with subnormals, signed zeros, huge values, infinities and NaNs, and
// coefficients that take every branch (l1 zero and not, a weight decay
// that sends the whole range to the scalar loop).
func TestFamilySIMDMatchesScalar(t *testing.T) {
	if SIMD() == "" {
		t.Skip("no vector kernels on this machine")
	}
	rng := rand.New(rand.NewPCG(9, 9))
	special := []float64{0, math.Copysign(0, -1), 1e-40, -1e-42, 1e-310, 3e38, -3e38, 1e300, math.Inf(1), math.Inf(-1), math.NaN()}
	value := func() float64 {
		if rng.IntN(10) == 0 {
			return special[rng.IntN(len(special))]
		}
		return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(8)-4))
	}
	const n = 1<<12 + 7
	for rule, forms := range familyScalar {
		spec, _ := rule.Spec()
		for form, scalar := range forms {
			kinds := ruleKernels[rule]
			fast32, fast64 := kinds.dense32, kinds.dense64
			if form == 1 {
				fast32, fast64 = kinds.rows32, kinds.rows64
			}
			for trial := range 6 {
				var c [device.MaxCoefs]float64
				for i, cs := range spec.Coefs {
					switch {
					case cs.Sign:
						c[i] = []float64{1, -1}[trial%2]
					case cs.Name == "step":
						c[i] = []float64{1, 3, 1<<24 + 1}[trial%3]
					case cs.Name == "weight_decay" || cs.Name == "l1" || cs.Name == "l2":
						c[i] = []float64{0, 0.01, 0.5}[(trial+i)%3]
					default:
						c[i] = []float64{0.01, 0.3, 1e-7, 0.9}[(trial+i)%4]
					}
				}
				r := device.Range{Coef: c}
				var st32, want32 [device.MaxStates][]float32
				var st64, want64 [device.MaxStates][]float64
				p64, g64 := make([]float64, n), make([]float64, n)
				for i := range n {
					p64[i], g64[i] = value(), value()
				}
				for k := range spec.State {
					st64[k] = make([]float64, n)
					for i := range n {
						st64[k][i] = value()
						if k == 0 && spec.Rule != device.AdagradDA || k == 1 {
							st64[k][i] = math.Abs(st64[k][i]) // sums of squares
						}
					}
					want64[k] = append([]float64(nil), st64[k]...)
					st32[k], want32[k] = narrow32(st64[k]), narrow32(st64[k])
				}
				p32, g32 := narrow32(p64), narrow32(g64)
				wp32, wp64 := append([]float32(nil), p32...), append([]float64(nil), p64...)
				scalar.k32(wp32, g32, (*states[float32])(&want32), round[float32](r))
				fast32(p32, g32, (*states[float32])(&st32), round[float32](r))
				scalar.k64(wp64, g64, (*states[float64])(&want64), round[float64](r))
				fast64(p64, g64, (*states[float64])(&st64), round[float64](r))
				for i := range n {
					ok := same32(p32[i], wp32[i]) && same64(p64[i], wp64[i])
					for k := range spec.State {
						ok = ok && same32(st32[k][i], want32[k][i]) && same64(st64[k][i], want64[k][i])
					}
					if !ok {
						t.Fatalf("%v form %d coefs %v element %d: vector p %v/%v, scalar %v/%v", rule, form, c, i, p32[i], p64[i], wp32[i], wp64[i])
					}
				}
			}
		}
	}
}

func narrow32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
