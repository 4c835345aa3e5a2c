package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// TestSIMDMatchesScalar compares the vector kernels with the scalar loop
// bit for bit on random data with subnormals, zeros of both signs, huge
// values, infinities and NaNs, for every kind of coefficients.
func TestSIMDMatchesScalar(t *testing.T) {
	if SIMD() == "" {
		t.Skip("no vector kernels on this machine")
	}
	rng := rand.New(rand.NewPCG(8, 8))
	special := []float64{0, math.Copysign(0, -1), 1e-40, -1e-42, 1e-310, 3e38, -3e38, 1e300, math.Inf(1), math.Inf(-1), math.NaN()}
	value := func() float64 {
		if rng.IntN(10) == 0 {
			return special[rng.IntN(len(special))]
		}
		return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)-6))
	}
	ranges := [][device.MaxCoefs]float64{
		{0.01, 1e-8, 0, 1},
		{0.3, 0, 0.5, -1},
		{1.7, 1e-10, 1e-4, 1},
		{0, 1, 0, -1},
	}
	const n = 1<<14 + 7
	for _, r := range ranges {
		p32, g32, s32 := make([]float32, n), make([]float32, n), make([]float32, n)
		p64, g64, s64 := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range n {
			p64[i], g64[i], s64[i] = value(), value(), math.Abs(value())
			p32[i], g32[i], s32[i] = float32(p64[i]), float32(g64[i]), float32(s64[i])
		}
		wp32, ws32 := append([]float32(nil), p32...), append([]float32(nil), s32...)
		wp64, ws64 := append([]float64(nil), p64...), append([]float64(nil), s64...)
		c := device.Range{Coef: r}
		adagradDense(wp32, g32, &states[float32]{ws32}, round[float32](c))
		adagradDense32Fast(p32, g32, &states[float32]{s32}, round[float32](c))
		adagradDense(wp64, g64, &states[float64]{ws64}, round[float64](c))
		adagradDense64Fast(p64, g64, &states[float64]{s64}, round[float64](c))
		for i := range n {
			if !same32(p32[i], wp32[i]) || !same32(s32[i], ws32[i]) {
				t.Fatalf("float32 %+v element %d: simd p=%v s=%v, scalar p=%v s=%v", r, i, p32[i], s32[i], wp32[i], ws32[i])
			}
			if !same64(p64[i], wp64[i]) || !same64(s64[i], ws64[i]) {
				t.Fatalf("float64 %+v element %d: simd p=%v s=%v, scalar p=%v s=%v", r, i, p64[i], s64[i], wp64[i], ws64[i])
			}
		}
	}
}

func same32(a, b float32) bool { return a != a && b != b || math.Float32bits(a) == math.Float32bits(b) }
func same64(a, b float64) bool { return a != a && b != b || math.Float64bits(a) == math.Float64bits(b) }

// BenchmarkKernel compares the vector kernel with the scalar loop on one
// core, on data that fits in cache (2^12 float32: 48 KiB), in one run; the
// vector sub-benchmark reports its speed-up ("x-scalar").
func BenchmarkKernel(b *testing.B) {
	const n = 1 << 12
	p, g, s := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		g[i] = 1
	}
	c := round[float32](device.Range{Coef: [device.MaxCoefs]float64{0.01, 1e-8, 0, 1}})
	var scalarNs float64
	b.Run("scalar", func(b *testing.B) {
		b.SetBytes(20 * n)
		for b.Loop() {
			adagradDense(p, g, &states[float32]{s}, c)
		}
		scalarNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	if SIMD() == "" {
		return
	}
	b.Run(SIMD(), func(b *testing.B) {
		b.SetBytes(20 * n)
		for b.Loop() {
			adagradDense32Fast(p, g, &states[float32]{s}, c)
		}
		if scalarNs > 0 {
			b.ReportMetric(scalarNs/(float64(b.Elapsed().Nanoseconds())/float64(b.N)), "x-scalar")
		}
	})
}
