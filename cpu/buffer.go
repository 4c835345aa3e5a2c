package cpu

import "github.com/adagrad-go/adagrad/device"

// buffer is host memory; exactly one of f32 and f64 is set while it is live.
type buffer struct {
	owner *Backend
	dt    device.DType
	n     int
	f32   []float32
	f64   []float64
}

func (b *buffer) DType() device.DType { return b.dt }
func (b *buffer) Len() int            { return b.n }

func (b *buffer) release() {
	b.f32, b.f64, b.owner = nil, nil, nil
}
