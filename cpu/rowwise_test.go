package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// TestRowwiseSIMDMatchesScalar compares device.AdagradRowwise's vector
// kernel with the scalar loop bit for bit, on rows of every width from 1 to
// 41 (whole vectors and every tail) and a wide one, with special values,
// without and with weight decay of both modes.
func TestRowwiseSIMDMatchesScalar(t *testing.T) {
	if SIMD() == "" {
		t.Skip("no vector kernels on this machine")
	}
	rng := rand.New(rand.NewPCG(3, 9))
	special := []float64{0, math.Copysign(0, -1), 1e-40, -1e-42, 3e38, -3e38, math.Inf(1), math.NaN()}
	value := func() float32 {
		if rng.IntN(40) == 0 {
			return float32(special[rng.IntN(len(special))])
		}
		return float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(8)-4)))
	}
	coefs := [][device.MaxCoefs]float64{
		{0.01, 1e-8, 0, 1, 0},
		{0.3, 0, 0.5, -1, 0},
		{1.7, 1e-10, 1e-2, 1, 1},
		{0.05, 1e-6, 0.1, -1, 1},
	}
	widths := []int{300}
	for w := 1; w <= 41; w++ {
		widths = append(widths, w)
	}
	for _, cf := range coefs {
		c := round[float32](device.Range{Coef: cf})
		for _, w := range widths {
			const rows = 5
			p, g, m := make([]float32, rows*w), make([]float32, rows*w), make([]float32, rows)
			for i := range p {
				p[i], g[i] = value(), value()
			}
			for i := range m {
				m[i] = float32(math.Abs(float64(value())))
			}
			wp, wm := append([]float32(nil), p...), append([]float32(nil), m...)
			adagradRowwise(wp, g, &states[float32]{wm}, c)
			adagradRowwise32Fast(p, g, &states[float32]{m}, c)
			for i := range p {
				if !same32(p[i], wp[i]) {
					t.Fatalf("%v width %d element %d: simd %v, scalar %v", cf, w, i, p[i], wp[i])
				}
			}
			for i := range m {
				if !same32(m[i], wm[i]) {
					t.Fatalf("%v width %d row %d: simd sum %v, scalar %v", cf, w, i, m[i], wm[i])
				}
			}
		}
	}
}
