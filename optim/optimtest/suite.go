package optimtest

import (
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/device/devicetest"
)

// Run runs the optimizer's suite on the backends open returns: the model
// layer through optim.Adagrad. Each test opens its own backends.
func Run(t *testing.T, open devicetest.Opener) {
	t.Run("Rules", testRuleModels)
	t.Run("Model", func(t *testing.T) { testModel(t, open) })
	t.Run("State", func(t *testing.T) { testState(t, open) })
	t.Run("BadHyper", func(t *testing.T) { testBadHyper(t, open) })
	t.Run("BadCalls", func(t *testing.T) { testBadCalls(t, open) })
	t.Run("Closed", func(t *testing.T) { testClosed(t, open) })
	t.Run("Sparse", func(t *testing.T) { testSparse(t, open) })
	t.Run("BadSparse", func(t *testing.T) { testBadSparse(t, open) })
	t.Run("ReadRows", func(t *testing.T) { testReadRows(t, open) })
	t.Run("HalfGradients", func(t *testing.T) { testHalfGrads(t, open) })
	t.Run("Oracle", func(t *testing.T) { testOracle(t, open) })
}

// mustOpen opens a backend and closes it when the test ends.
func mustOpen(t testing.TB, open devicetest.Opener) device.Backend {
	t.Helper()
	dev, err := open()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := dev.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return dev
}

func openCPU() (device.Backend, error) { return cpu.New(), nil }

// isCPU reports whether dev is the CPU backend, which needs no comparison
// with itself.
func isCPU(dev device.Backend) bool { _, ok := dev.(*cpu.Backend); return ok }

// realDTypes are the parameter dtypes the backend declares.
func realDTypes(dev device.Backend) []device.DType {
	var out []device.DType
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		if dev.Capabilities().HasDType(dt) {
			out = append(out, dt)
		}
	}
	return out
}
