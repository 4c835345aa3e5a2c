package devicetest

import (
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/half"
	"github.com/adagrad-go/adagrad/optim"
)

// testHalfGrads sends float32 gradients as bfloat16 and float16: the
// result must be bitwise the reference run on the rounded gradients, and
// the CPU backend's.
func testHalfGrads(t *testing.T, open Opener) {
	for _, dt := range []device.DType{device.BFloat16, device.Float16} {
		t.Run(dt.String(), func(t *testing.T) {
			m := newModel(device.Float32, 9)
			setup := func(opt *optim.Adagrad) error { return opt.SetGradPrecision(dt) }
			got, err := m.runWith(mustOpen(t, open), setup)
			if err != nil {
				t.Fatal(err)
			}
			want, err := m.runWith(mustOpen(t, func() (device.Backend, error) { return cpu.New(), nil }), setup)
			if err != nil {
				t.Fatal(err)
			}
			if d := got.diff(want); d != "" {
				t.Errorf("backend vs cpu: %s", d)
			}
			rounded := *m
			rounded.grads = make([][][]float64, len(m.grads))
			for s, row := range m.grads {
				rounded.grads[s] = make([][]float64, len(row))
				for k, g := range row {
					if g == nil {
						continue
					}
					r := make([]float64, len(g))
					for i, v := range g {
						if dt == device.BFloat16 {
							r[i] = float64(half.BF16ToFloat32(half.FromFloat32BF16(float32(v))))
						} else {
							r[i] = float64(half.F16ToFloat32(half.FromFloat32F16(float32(v))))
						}
					}
					rounded.grads[s][k] = r
				}
			}
			if d := got.diff(rounded.reference()); d != "" {
				t.Errorf("backend vs reference on rounded gradients: %s", d)
			}
		})
	}
}
