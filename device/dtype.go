package device

import "fmt"

// DType is the element type of a buffer.
type DType int

// The element types. Parameters and their state are Float32 or Float64.
const (
	Float32 DType = iota + 1
	Float64
	// BFloat16 and Float16 hold gradients that travel in half the bytes
	// (see Update); host slices for them are []uint16 of raw bits, and the
	// kernels widen them exactly to float32.
	BFloat16
	Float16
)

// Size is the number of bytes of one element.
func (d DType) Size() int {
	switch d {
	case Float32:
		return 4
	case Float64:
		return 8
	case BFloat16, Float16:
		return 2
	}
	return 0
}

// String names the type as PyTorch and NumPy do: "float32", "bfloat16".
func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	case BFloat16:
		return "bfloat16"
	case Float16:
		return "float16"
	}
	return fmt.Sprintf("DType(%d)", int(d))
}

// Valid reports whether d is one of the supported element types.
func (d DType) Valid() bool { return d >= Float32 && d <= Float16 }

// Real reports whether d is a parameter type: Float32 or Float64.
func (d DType) Real() bool { return d == Float32 || d == Float64 }

// Half reports whether d is a 16-bit gradient type.
func (d DType) Half() bool { return d == BFloat16 || d == Float16 }

// DTypeOf returns the element type of a []float32 or []float64 slice and its
// length; any other value is an error. ([]uint16 holds either half type:
// see hostType.)
func DTypeOf(s any) (DType, int, error) {
	switch v := s.(type) {
	case []float32:
		return Float32, len(v), nil
	case []float64:
		return Float64, len(v), nil
	}
	return 0, 0, fmt.Errorf("%w: %T is neither []float32 nor []float64", ErrDType, s)
}

// hostType returns the element type a host slice stands for when it is
// copied to or from a buffer of dtype want: []float32 and []float64 are
// themselves, []uint16 is the raw bits of a half type.
func hostType(s any, want DType) (DType, int, error) {
	if u, ok := s.([]uint16); ok {
		if want.Half() {
			return want, len(u), nil
		}
		return 0, 0, fmt.Errorf("%w: []uint16 is for bfloat16 and float16 buffers, not %v", ErrDType, want)
	}
	return DTypeOf(s)
}
