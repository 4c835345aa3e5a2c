package devicetest

import (
	"fmt"
	"math"

	"github.com/adagrad-go/adagrad/device"
)

// Half-precision parameters, written out apart from package device's
// implementation: a step widens each code exactly (HalfValue), runs the
// rule's float32 reference, and rounds each result stochastically with the
// element's random bits (device.Range.Key).

// randomBits is the random bits of element i under key: output i+1 of
// SplitMix64 seeded with key, its high 32 bits (SplitMix64 as Steele, Lea
// and Flood give it: the state advances by 0x9e3779b97f4a7c15, then
// z ^= z>>30, z *= 0xbf58476d1ce4e5b9, z ^= z>>27, z *= 0x94d049bb133111eb,
// z ^= z>>31).
func randomBits(key, i uint64) uint32 {
	z := key + (i+1)*0x9e3779b97f4a7c15 // the state after i+1 steps, modulo 2^64
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return uint32(z >> 32)
}

// stochasticHalf rounds x to dt with random bits r: between the half
// values below and above |x| (truncation toward zero and the next code up),
// up when the distance from the lower one, in units of 2^-16 (bfloat16) or
// 2^-13 (binary16) of the gap, plus the top 16 (13) bits of r reaches a
// whole gap. Binary16's subnormal range (|x| < 2^-14), NaN and ±Inf round
// to nearest; |x| >= 2^16 is ±Inf in binary16.
func stochasticHalf(dt device.DType, x float32, r uint32) uint16 {
	v := math.Abs(float64(x))
	if math.IsNaN(v) || math.IsInf(v, 0) || dt == device.Float16 && v < 0x1p-14 {
		return HalfBits(dt, x)
	}
	var sign uint16
	if math.Signbit(float64(x)) {
		sign = 0x8000
	}
	fracBits, inf := uint(16), uint16(0x7f80)
	if dt == device.Float16 {
		fracBits, inf = 13, 0x7c00
		if v >= 0x1p16 {
			return sign | inf
		}
	}
	lowCode := truncatedHalf(dt, v)
	low := float64(HalfValue(dt, lowCode))
	gap := float64(HalfValue(dt, lowCode+1)) - low // the next code: a power of two apart, or Inf
	if math.IsInf(gap, 0) {
		// Above the largest finite value: the gap is as wide as the last one.
		gap = low - float64(HalfValue(dt, lowCode-1))
	}
	dist := (v - low) / gap * float64(uint64(1)<<fracBits) // exact: an integer below 2^fracBits
	if uint64(dist)+uint64(r>>(32-fracBits)) >= 1<<fracBits {
		return sign | (lowCode + 1)
	}
	return sign | lowCode
}

// truncatedHalf is the code of the largest half value not above v >= 0.
func truncatedHalf(dt device.DType, v float64) uint16 {
	t := halfTables[dt]()
	lo, hi := 0, len(t.values) // t.values[lo] <= v < t.values[hi]
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if t.values[mid] <= v {
			lo = mid
		} else {
			hi = mid
		}
	}
	return t.bits[lo]
}

// halfStep runs a float32 reference step on half parameters: codes p
// (element i of the range at p[i]) are widened, stepped by step, and
// rounded back with the bits of index first+i under key.
func halfStep(dt device.DType, key uint64, first int, p []uint16, step func(wide []float32) error) error {
	wide := make([]float32, len(p))
	for i, c := range p {
		wide[i] = HalfValue(dt, c)
	}
	if err := step(wide); err != nil {
		return err
	}
	for i, x := range wide {
		p[i] = stochasticHalf(dt, x, randomBits(key, uint64(first+i)))
	}
	return nil
}

// ReferenceHalfStep is ReferenceStep for half-precision parameters of dt
// (BFloat16 or Float16) as raw codes: the float32 reference on the widened
// values, then stochastic rounding with the range's key (device.Range.Key)
// and each element's index in the range.
func ReferenceHalfStep(dt device.DType, rule device.Rule, coef [device.MaxCoefs]float64, width int, key uint64, p []uint16, g []float32, state [device.MaxStates][]float32) error {
	return halfStep(dt, key, 0, p, func(wide []float32) error {
		return ReferenceStep(rule, coef, width, wide, g, state)
	})
}

// ReferenceHalfRows is ReferenceRows for half-precision parameters of dt:
// each touched row widened, stepped by the float32 row-sparse reference,
// and rounded back with the bits of its elements' indices in the range.
func ReferenceHalfRows(dt device.DType, rule device.Rule, coef [device.MaxCoefs]float64, width int, key uint64, p []uint16, state [device.MaxStates][]float32, indices []int64, values []float32) error {
	if width <= 0 || len(values) != len(indices)*width {
		return fmt.Errorf("devicetest: %d values for %d rows of %d", len(values), len(indices), width)
	}
	for i, row := range indices {
		lo := int(row) * width
		if row < 0 || lo+width > len(p) || i > 0 && row <= indices[i-1] {
			return fmt.Errorf("devicetest: row %d (index %d) of %d rows, or not increasing", row, i, len(p)/width)
		}
		err := halfStep(dt, key, lo, p[lo:lo+width], func(wide []float32) error {
			sub, err := rowState(rule, state, lo, width)
			if err != nil {
				return err
			}
			return ReferenceRows(rule, coef, width, wide, sub, []int64{0}, values[i*width:(i+1)*width])
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// rowState slices each state of the rule to the row at element lo.
func rowState(rule device.Rule, state [device.MaxStates][]float32, lo, width int) ([device.MaxStates][]float32, error) {
	spec, ok := rule.Spec()
	if !ok {
		return state, device.ErrRule
	}
	return stateSpan(spec, state, lo, lo+width, width), nil
}
