package cpu

import "github.com/adagrad-go/adagrad/device"

// buffer is host memory; the slice of its dtype is set while it is live
// (u16 holds the raw bits of BFloat16 and Float16).
type buffer struct {
	owner *Backend
	dt    device.DType
	n     int
	f32   []float32
	f64   []float64
	u16   []uint16
}

func (b *buffer) DType() device.DType { return b.dt }
func (b *buffer) Len() int            { return b.n }

func (b *buffer) release() {
	b.f32, b.f64, b.u16, b.owner = nil, nil, nil, nil
}
