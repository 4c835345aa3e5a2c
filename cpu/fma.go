package cpu

import "math"

// fma32 returns a*b+c rounded once to float32, as fmaf in C, CUDA and
// OpenCL does. Go has no float32 FMA, so it is built from float64: a*b is
// exact in float64 (24+24 bits), and the float64 sum x = a*b+c rounded to
// float32 is the right answer unless that second rounding meets a tie that
// the first rounding made. That needs x exactly halfway between two
// float32 values, which the fast path tests with one mask (for normal
// float32 results: the low 29 of float64's 52 mantissa bits are 1000…0).
func fma32(a, b, c float32) float32 {
	q := float64(a) * float64(b)
	x := q + float64(c)
	const low = 1<<29 - 1
	if math.Float64bits(x)&low != 1<<28 && math.Abs(x) >= 0x1p-126 {
		return float32(x)
	}
	return fma32Slow(q, float64(c), x)
}

// fma32Slow redoes the sum q+c with round-to-odd: rounding a round-to-odd
// float64 to float32 is correctly rounded (53 >= 2*24+2 bits), also for
// subnormal results.
func fma32Slow(q, c, x float64) float32 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return float32(x)
	}
	// TwoSum: e is the exact error of the rounded sum x.
	bv := x - q
	e := (q - (x - bv)) + (c - bv)
	if bits := math.Float64bits(x); e != 0 && bits&1 == 0 {
		// Step one ulp from x towards the exact sum, which makes it odd.
		if (e > 0) == (x > 0) {
			bits++
		} else {
			bits--
		}
		x = math.Float64frombits(bits)
	}
	return float32(x)
}
