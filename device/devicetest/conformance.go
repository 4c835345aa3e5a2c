package devicetest

import (
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
)

var dtypes = []device.DType{device.Float32, device.Float64}

// testReference checks the backend bitwise against the single-threaded
// reference on the random model.
func testReference(t *testing.T, open Opener) {
	for _, dt := range dtypes {
		t.Run(dt.String(), func(t *testing.T) {
			m := newModel(dt, 1)
			got, err := m.run(mustOpen(t, open))
			if err != nil {
				t.Fatal(err)
			}
			if d := got.diff(m.reference()); d != "" {
				t.Errorf("backend vs reference: %s", d)
			}
		})
	}
}

// testMatchesCPU checks the backend bitwise against the CPU backend.
func testMatchesCPU(t *testing.T, open Opener) {
	for _, dt := range dtypes {
		t.Run(dt.String(), func(t *testing.T) {
			m := newModel(dt, 2)
			got, err := m.run(mustOpen(t, open))
			if err != nil {
				t.Fatal(err)
			}
			want, err := m.run(mustOpen(t, func() (device.Backend, error) { return cpu.New(), nil }))
			if err != nil {
				t.Fatal(err)
			}
			if d := got.diff(want); d != "" {
				t.Errorf("backend vs cpu: %s", d)
			}
		})
	}
}
