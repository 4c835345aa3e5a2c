package device

import "fmt"

// DType is the element type of a buffer.
type DType int

const (
	Float32 DType = iota + 1
	Float64
)

// Size is the number of bytes of one element.
func (d DType) Size() int {
	switch d {
	case Float32:
		return 4
	case Float64:
		return 8
	}
	return 0
}

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	}
	return fmt.Sprintf("DType(%d)", int(d))
}

// Valid reports whether d is one of the supported element types.
func (d DType) Valid() bool { return d == Float32 || d == Float64 }

// DTypeOf returns the element type of a []float32 or []float64 slice and its
// length; any other value is an error.
func DTypeOf(s any) (DType, int, error) {
	switch v := s.(type) {
	case []float32:
		return Float32, len(v), nil
	case []float64:
		return Float64, len(v), nil
	}
	return 0, 0, fmt.Errorf("%w: %T is neither []float32 nor []float64", ErrDType, s)
}
