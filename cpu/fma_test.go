package cpu

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exactFMA32 rounds the exact a*b+c once to float32.
func exactFMA32(a, b, c float32) float32 {
	prod := new(big.Float).SetPrec(2000).Mul(big.NewFloat(float64(a)), big.NewFloat(float64(b)))
	f, _ := new(big.Float).SetPrec(2000).Add(prod, big.NewFloat(float64(c))).Float32()
	return f
}

func TestFMA32(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(a, b, c float32) {
		t.Helper()
		want := exactFMA32(a, b, c)
		if got := fma32(a, b, c); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fma32(%v, %v, %v) = %v (%#x), want %v (%#x)", a, b, c, got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
	// Ties: a*b sits exactly half a float32 ulp from c, plus or minus a
	// tiny c-side perturbation that float64 rounding would lose.
	for i := 0; i < 200000; i++ {
		a := float32(rng.NormFloat64())
		b := float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(60)-30)))
		c := float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(80)-40)))
		check(a, b, c)
		check(a, a, c)
	}
	hard := [][3]float32{
		{1 + 0x1p-23, 1 - 0x1p-23, -1},
		{0x1p-12 + 0x1p-35, 0x1p-12, 1},       // product just above half an ulp of 1
		{1 + 0x1p-12, 1 + 0x1p-12, 0x1p-60},   // tie broken by a far smaller c
		{1 + 0x1p-12, 1 + 0x1p-12, -0x1p-60},  // and the other way
		{0x1p-75, 0x1p-75, 0x1p-149},          // subnormal result
		{3.4e38, 3.4e38, 1},                   // overflow
		{1e-30, 1e-30, 0},                     // underflow to zero
		{0, 0, float32(math.Copysign(0, -1))}, // signed zeros
		{float32(math.Inf(1)), 0, 1},          // NaN
		{float32(math.NaN()), 1, 1},
	}
	for _, h := range hard {
		if math.IsNaN(float64(h[0])) || (math.IsInf(float64(h[0]), 0) && h[1] == 0) {
			if got := fma32(h[0], h[1], h[2]); !math.IsNaN(float64(got)) {
				t.Errorf("fma32(%v, %v, %v) = %v, want NaN", h[0], h[1], h[2], got)
			}
			continue
		}
		check(h[0], h[1], h[2])
	}
}
