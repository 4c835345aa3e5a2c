package devicetest

import (
	"slices"

	"github.com/adagrad-go/adagrad/device"
)

// dtypes are the parameter dtypes, in the order tests and benchmarks run
// them.
var dtypes = []device.DType{device.Float32, device.Float64}

// typed converts float64 values to a []float32 or []float64 slice.
func typed(dt device.DType, v []float64) any {
	if dt == device.Float32 {
		return narrow[float32](v)
	}
	return slices.Clone(v)
}

// zeros returns a zeroed slice of dt.
func zeros(dt device.DType, n int) any {
	if dt == device.Float32 {
		return make([]float32, n)
	}
	return make([]float64, n)
}

// widen converts a []float32 or []float64 to float64 values (exactly).
func widen(s any) []float64 {
	switch v := s.(type) {
	case []float32:
		return widened(v)
	case []float64:
		return slices.Clone(v)
	}
	return nil
}

func widened[T Float](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func narrow[T Float](v []float64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// dtypeOf is the DType of T.
func dtypeOf[T Float]() device.DType {
	if _, ok := any(T(0)).(float32); ok {
		return device.Float32
	}
	return device.Float64
}

// adagradCoef is device.Adagrad's coefficients: lr, eps, weight decay and
// the sign of maximize.
func adagradCoef(lr, eps, wd float64, maximize bool) [device.MaxCoefs]float64 {
	sign := 1.0
	if maximize {
		sign = -1
	}
	return [device.MaxCoefs]float64{lr, eps, wd, sign}
}

// states is the State array of an update with one state buffer.
func states(s device.Buffer) [device.StateBuffers]device.Buffer {
	return [device.StateBuffers]device.Buffer{s}
}
