// Package half converts between float32 and the two 16-bit formats that
// gradients may travel in: bfloat16 (float32's exponent, 7 stored mantissa
// bits) and IEEE 754 binary16 (5 exponent bits, 10 mantissa bits). Rounding
// is to nearest, ties to even, as hardware does; widening is exact. Every
// backend widens with these semantics, so a half-precision gradient gives
// bitwise the same update everywhere.
package half

import "math"

// FromFloat32BF16 rounds f to bfloat16.
func FromFloat32BF16(f float32) uint16 {
	b := math.Float32bits(f)
	if f != f {
		return uint16(b>>16) | 0x40 // quiet NaN, sign kept
	}
	// Round to nearest even on the 16 bits dropped. An overflow carries
	// into the exponent and gives ±Inf, as it should.
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// BF16ToFloat32 widens a bfloat16 exactly.
func BF16ToFloat32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// FromFloat32F16 rounds f to binary16: values beyond the largest finite
// half (65504) round to ±Inf, small ones to subnormals or ±0.
func FromFloat32F16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13)
		}
		return sign | 0x7c00
	case exp > 127+15: // |f| >= 2^16: beyond every half
		return sign | 0x7c00
	}
	// The value is m × 2^(e-23) with the implicit bit in m; the half's unit
	// in the last place is 2^(he-10) for a normal half of exponent he, and
	// 2^-24 for subnormals. Shift m right to that unit, rounding to even.
	m := mant
	e := exp - 127
	if exp != 0 {
		m |= 0x800000
	} else {
		e = -126
	}
	// unit exponent of the result: e-10 for normals, -24 for subnormals
	unit := max(e-10, -24)
	shift := unit - (e - 23)
	if shift > 31 {
		return sign // rounds to zero
	}
	q := m >> shift
	rem := m & (1<<shift - 1)
	halfway := uint32(1) << (shift - 1)
	if shift > 0 && (rem > halfway || rem == halfway && q&1 == 1) {
		q++
	}
	// q counts units of 2^unit. Rebuild the half: subnormal while unit is
	// -24 and q < 2^10; otherwise normal with q's leading bit implicit.
	if unit == -24 && q < 1<<10 {
		return sign | uint16(q)
	}
	he := unit + 10 // the exponent of q's leading bit, before any carry
	if q >= 1<<11 { // rounding carried into a new bit
		q >>= 1
		he++
	}
	if he > 15 {
		return sign | 0x7c00
	}
	return sign | uint16(he+15)<<10 | uint16(q&0x3ff)
}

// F16ToFloat32 widens a binary16 exactly.
func F16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		// ±0 or subnormal: mant × 2^-24, exact in float32.
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}
