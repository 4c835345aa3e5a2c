package devicetest

import (
	"math"
	"slices"
	"sync"

	"github.com/adagrad-go/adagrad/device"
)

// The two 16-bit gradient formats, decoded from their definitions and
// rounded by search over every value, apart from internal/half (which the
// backends and the optimizer use): bfloat16 is float32's top 16 bits;
// binary16 has 5 exponent bits (bias 15) and 10 mantissa bits.

// HalfValue widens the bits of a BFloat16 or Float16 value exactly.
func HalfValue(dt device.DType, bits uint16) float32 {
	if dt == device.BFloat16 {
		return math.Float32frombits(uint32(bits) << 16)
	}
	sign := 1.0
	if bits&0x8000 != 0 {
		sign = -1
	}
	exp, mant := int(bits>>10)&0x1f, float64(bits&0x3ff)
	switch exp {
	case 0x1f:
		if mant != 0 {
			return float32(math.NaN())
		}
		return float32(math.Inf(int(sign)))
	case 0:
		return float32(sign * math.Ldexp(mant, -24))
	}
	return float32(sign * math.Ldexp(1024+mant, exp-25))
}

// halfTable is every finite non-negative value of a half type with its
// bits, in increasing order.
type halfTable struct {
	values []float64
	bits   []uint16
}

var halfTables = map[device.DType]func() halfTable{
	device.BFloat16: sync.OnceValue(func() halfTable { return newHalfTable(device.BFloat16) }),
	device.Float16:  sync.OnceValue(func() halfTable { return newHalfTable(device.Float16) }),
}

func newHalfTable(dt device.DType) halfTable {
	var t halfTable
	for b := range uint16(0x8000) { // the positive half of the codes
		v := float64(HalfValue(dt, b))
		if math.IsInf(v, 0) || math.IsNaN(v) {
			continue
		}
		t.values, t.bits = append(t.values, v), append(t.bits, b)
	}
	return t // codes of positive values increase with their values
}

// HalfBits rounds x to the nearest BFloat16 or Float16 value, ties to the
// even code, beyond the largest finite value (by half a unit or more) to
// ±Inf, NaN to a quiet NaN.
func HalfBits(dt device.DType, x float32) uint16 {
	inf, nan := uint16(0x7c00), uint16(0x7e00)
	if dt == device.BFloat16 {
		inf, nan = 0x7f80, 0x7fc0
	}
	if x != x {
		return nan
	}
	var sign uint16
	v := float64(x)
	if math.Signbit(v) {
		sign, v = 0x8000, -v
	}
	t := halfTables[dt]()
	i, exact := slices.BinarySearch(t.values, v)
	switch {
	case exact:
		return sign | t.bits[i]
	case i == len(t.values):
		// Past the largest finite value: Inf from half a unit on, where the
		// unit is the last finite value's spacing.
		last, prev := t.values[i-1], t.values[i-2]
		if v-last >= (last-prev)/2 {
			return sign | inf
		}
		return sign | t.bits[i-1]
	}
	lo, hi := t.values[i-1], t.values[i]
	switch {
	case v-lo < hi-v:
		return sign | t.bits[i-1]
	case v-lo > hi-v:
		return sign | t.bits[i]
	case t.bits[i-1]&1 == 0:
		return sign | t.bits[i-1]
	}
	return sign | t.bits[i]
}
