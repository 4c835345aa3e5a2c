package optim

import (
	"fmt"
	"hash/fnv"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/half"
)

// filled returns a host slice of n elements of dt, every one v: []float32,
// []float64, []uint16 codes of v rounded to nearest for the half types, or
// []uint8 (v an integer code).
func filled(dt device.DType, n int, v float64) any {
	switch dt {
	case device.Float32:
		return fill(n, float32(v))
	case device.Float64:
		return fill(n, v)
	case device.Uint8:
		return fill(n, uint8(v))
	}
	return fill(n, halfCode(dt, float32(v)))
}

// fill returns n elements of v.
func fill[T float32 | float64 | uint8 | uint16](n int, v T) []T {
	s := make([]T, n)
	if v != 0 {
		for i := range s {
			s[i] = v
		}
	}
	return s
}

// halfCode rounds x to the nearest value of half type dt.
func halfCode(dt device.DType, x float32) uint16 {
	if dt == device.BFloat16 {
		return half.FromFloat32BF16(x)
	}
	return half.FromFloat32F16(x)
}

// checkSlice reports whether s is a host slice of dt (device.ErrDType) of
// n elements (ErrShape); what names it in messages.
func checkSlice(s any, dt device.DType, n int, what string) error {
	got, ok := device.HostSlice(s, dt)
	if !ok {
		return fmt.Errorf("%w: %s is %v, got %T", device.ErrDType, what, dt, s)
	}
	if got != n {
		return fmt.Errorf("%w: %s takes %d elements, got %d", ErrShape, what, n, got)
	}
	return nil
}

// halfParams converts the starting values of a half-precision tensor:
// []uint16 codes as they are, []float32 rounded to nearest.
func halfParams(init any, dt device.DType) ([]uint16, error) {
	switch v := init.(type) {
	case []uint16:
		return v, nil
	case []float32:
		codes := make([]uint16, len(v))
		for i, x := range v {
			codes[i] = halfCode(dt, x)
		}
		return codes, nil
	}
	return nil, fmt.Errorf("%w: %v parameters start from []float32 or []uint16 codes, not %T", device.ErrDType, dt, init)
}

// widenHalf widens half codes of dt exactly into dst.
func widenHalf(dst []float32, src []uint16, dt device.DType) {
	if dt == device.BFloat16 {
		half.WidenBF16(dst, src)
	} else {
		half.WidenF16(dst, src)
	}
}

// stochasticKey is the stochastic-rounding key (device.Range.Key) of the
// named tensor's step t under seed: SplitMix64's mixer over the seed, the
// FNV-1a hash of the name and the step, so that tensors and steps draw
// unrelated bits and a resumed run draws the same ones.
func stochasticKey(seed uint64, name string, t int64) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return device.Mix64(device.Mix64(seed^h.Sum64()) + uint64(t)*0xd1b54a32d192ed03)
}
