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

// TestRoundSIMDMatchesScalar holds the vector stochastic rounding to
// device.RoundBF16 and device.RoundF16 with device.StochasticBits, bit for
// bit, on values of every magnitude (binary16's subnormals and overflow,
// bfloat16's subnormals), signed zeros, infinities and NaNs, under many
// keys and first indices.
func TestRoundSIMDMatchesScalar(t *testing.T) {
	if SIMD() == "" {
		t.Skip("no vector kernels on this machine")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		65504, 65519, 65520, -65535, 0x1p-14, 0x1.fffffep-15, 0x1p-24, 0x1p-25, 0x1p-126, 0x1p-149, 3.4e38}
	const n = 1<<12 + 5
	src := make([]float32, n)
	for trial := range 50 {
		for i := range src {
			switch rng.IntN(8) {
			case 0:
				src[i] = special[rng.IntN(len(special))]
			case 1:
				src[i] = math.Float32frombits(rng.Uint32())
			default:
				src[i] = float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(60)-30)))
			}
		}
		key, first := rng.Uint64(), uint64(rng.IntN(1<<40))
		if trial == 0 {
			first = 1<<64 - 100 // the index wraps
		}
		for _, dt := range []device.DType{device.BFloat16, device.Float16} {
			got := make([]uint16, n)
			roundInto(got, src, dt, key, first)
			for i, x := range src {
				r := device.StochasticBits(key, first+uint64(i))
				want := device.RoundBF16(x, r)
				if dt == device.Float16 {
					want = device.RoundF16(x, r)
				}
				if got[i] != want {
					t.Fatalf("%v: element %d (%v, %#x), key %#x: %#x, scalar %#x", dt, i, x, math.Float32bits(x), key, got[i], want)
				}
			}
		}
	}
}
