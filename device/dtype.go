package device

import "fmt"

// DType is the element type of a buffer.
type DType int

// The element types. Parameters are Float32, Float64, BFloat16 or Float16;
// their state is of their compute type (Compute) or, for quantized state,
// Uint8.
const (
	Float32 DType = iota + 1
	Float64
	// BFloat16 and Float16 hold gradients that travel in half the bytes
	// (see Update), and parameters kept in half the memory; host slices for
	// them are []uint16 of raw bits. Kernels widen them exactly to float32,
	// compute in float32 and round the parameters back (see Range.Key).
	BFloat16
	Float16
	// Uint8 holds 8-bit codes of quantized state (device.Adagrad8Bit's);
	// host slices for it are []uint8.
	Uint8
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
	case Uint8:
		return 1
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
	case Uint8:
		return "uint8"
	}
	return fmt.Sprintf("DType(%d)", int(d))
}

// Valid reports whether d is one of the supported element types.
func (d DType) Valid() bool { return d >= Float32 && d <= Uint8 }

// Real reports whether d is a full-precision float type: Float32 or
// Float64, the types kernels compute in.
func (d DType) Real() bool { return d == Float32 || d == Float64 }

// Half reports whether d is a 16-bit float type: BFloat16 or Float16.
func (d DType) Half() bool { return d == BFloat16 || d == Float16 }

// Param reports whether d is a parameter type: Float32, Float64, or a half
// type (parameters kept in 16 bits, computed in float32).
func (d DType) Param() bool { return d.Real() || d.Half() }

// Compute is the type kernels compute parameters of dtype d in, and the
// type of their full-precision state: d itself for Float32 and Float64,
// Float32 for the half types; 0 for a type that is no parameter type.
func (d DType) Compute() DType {
	switch {
	case d.Real():
		return d
	case d.Half():
		return Float32
	}
	return 0
}

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
// themselves, []uint16 is the raw bits of a half type, []uint8 is Uint8.
func hostType(s any, want DType) (DType, int, error) {
	switch u := s.(type) {
	case []uint16:
		if want.Half() {
			return want, len(u), nil
		}
		return 0, 0, fmt.Errorf("%w: []uint16 is for bfloat16 and float16 buffers, not %v", ErrDType, want)
	case []uint8:
		return Uint8, len(u), nil
	}
	return DTypeOf(s)
}

// HostSlice reports whether s is the host slice of a buffer of dtype dt
// ([]float32, []float64, []uint16 for the half types, []uint8) and returns
// its length.
func HostSlice(s any, dt DType) (int, bool) {
	got, n, err := hostType(s, dt)
	return n, err == nil && got == dt
}
