package devicetest

import "math"

// ulpDiff is the number of representable values between a and b; NaNs
// compare equal to each other and infinitely far from anything else.
func ulpDiff[T float32 | float64](a, b T) uint64 {
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an || bn:
		return math.MaxUint64
	}
	oa, ob := ordered(a), ordered(b)
	if oa > ob {
		return uint64(oa) - uint64(ob)
	}
	return uint64(ob) - uint64(oa)
}

// ordered maps a float onto the integers so that neighbouring floats are
// neighbouring integers (and +0, -0 are both 0).
func ordered[T float32 | float64](v T) int64 {
	switch x := any(v).(type) {
	case float32:
		i := int64(int32(math.Float32bits(x)))
		if i < 0 {
			i = math.MinInt32 - i
		}
		return i
	case float64:
		i := int64(math.Float64bits(x))
		if i < 0 {
			i = math.MinInt64 - i
		}
		return i
	}
	return 0
}

// sameBits is bitwise equality, except that any NaN equals any NaN: NaN
// payloads are not part of the numerics contract.
func sameBits[T float32 | float64](a, b T) bool {
	if a != a && b != b {
		return true
	}
	switch x := any(a).(type) {
	case float32:
		return math.Float32bits(x) == math.Float32bits(any(b).(float32))
	case float64:
		return math.Float64bits(x) == math.Float64bits(any(b).(float64))
	}
	return false
}
