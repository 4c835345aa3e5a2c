package devicetest

import "github.com/adagrad-go/adagrad/device"

// typed converts float64 values to a []float32 or []float64 slice.
func typed(dt device.DType, v []float64) any {
	if dt == device.Float32 {
		s := make([]float32, len(v))
		for i, x := range v {
			s[i] = float32(x)
		}
		return s
	}
	return append([]float64(nil), v...)
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
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return append([]float64(nil), v...)
	}
	return nil
}

func dtypeOf(name string) device.DType {
	if name == "float32" {
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
func states(s device.Buffer) [device.MaxStates]device.Buffer {
	return [device.MaxStates]device.Buffer{s}
}
