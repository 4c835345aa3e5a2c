package device

import (
	"math"

	"github.com/adagrad-go/adagrad/internal/half"
)

// Half-precision parameters (BFloat16, Float16) are computed in float32 and
// written back rounded stochastically: up or down to a neighbouring half
// value, up with the probability of the distance from the lower one, so
// that updates smaller than half a unit still move the parameter on
// average. The random bits are a counter-based hash of the step's key
// (Range.Key, which the optimizer draws from its seed, the tensor and the
// step) and the element's index in its range, so that one seed gives the
// same bits on every backend, in any order of threads.

// golden is SplitMix64's increment, 2^64 divided by the golden ratio.
const golden = 0x9e3779b97f4a7c15

// Mix64 is SplitMix64's finalizer (Steele, Lea and Flood, 2014; the mixer
// of java.util.SplittableRandom).
func Mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// StochasticBits returns the 32 random bits of element i of a range whose
// key is key: the high half of output i+1 of SplitMix64 seeded with key,
// Mix64(key + (i+1)·0x9e3779b97f4a7c15).
func StochasticBits(key uint64, i uint64) uint32 {
	return uint32(Mix64(key+(i+1)*golden) >> 32)
}

// RoundBF16 rounds x to bfloat16 stochastically with random bits r: the
// top 16 bits of r are added to x's bits below bfloat16's, which are then
// dropped. That rounds away from zero with probability (dropped bits)/2^16,
// past the largest finite value to ±Inf. NaN and ±Inf round to nearest.
func RoundBF16(x float32, r uint32) uint16 {
	b := math.Float32bits(x)
	if b&0x7f800000 == 0x7f800000 {
		return half.FromFloat32BF16(x)
	}
	return uint16((b + r>>16) >> 16)
}

// RoundF16 rounds x to binary16 stochastically with random bits r. For
// |x| >= 2^-14 (binary16's normal range and beyond) the top 13 bits of r
// are added to x's 13 bits below binary16's mantissa, which are then
// dropped: away from zero with probability (dropped bits)/2^13, to ±Inf
// from 2^16 (or a carry past 65504). Smaller values, binary16's subnormal
// range, and NaN round to nearest (ties to even): there a unit is 2^-24,
// finer than any step Adagrad takes.
func RoundF16(x float32, r uint32) uint16 {
	b := math.Float32bits(x)
	sign := uint16(b>>16) & 0x8000
	a := b & 0x7fffffff
	if a < 0x38800000 || a > 0x7f800000 { // below 2^-14, or NaN
		return half.FromFloat32F16(x)
	}
	a += r >> 19
	e := int(a>>23) - 127
	if e > 15 {
		return sign | 0x7c00
	}
	return sign | uint16(e+15)<<10 | uint16(a>>13)&0x3ff
}
