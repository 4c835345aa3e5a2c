package optimtest

import (
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/device/devicetest"
	"github.com/adagrad-go/adagrad/optim"
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
	t.Run("HalfParams", func(t *testing.T) { testHalfParams(t, open) })
	t.Run("Oracle", func(t *testing.T) { testOracle(t, open) })
}

// holdTo runs a model on dev and checks the result bitwise against its
// reference and, for a backend other than the CPU, against the same run
// on the CPU backend. It returns the result.
func holdTo(t *testing.T, dev device.Backend, run func(device.Backend) (*result, error), reference func() (*result, error)) *result {
	t.Helper()
	got, err := run(dev)
	if err != nil {
		t.Fatal(err)
	}
	want, err := reference()
	if err != nil {
		t.Fatal(err)
	}
	if d := got.diff(want); d != "" {
		t.Errorf("backend vs reference: %s", d)
	}
	if isCPU(dev) {
		return got
	}
	onCPU, err := run(devicetest.MustOpen(t, openCPU))
	if err != nil {
		t.Fatal(err)
	}
	if d := got.diff(onCPU); d != "" {
		t.Errorf("backend vs cpu: %s", d)
	}
	return got
}

// closeInto closes opt and keeps the first error in *err.
func closeInto(err *error, opt *optim.Adagrad) {
	if cerr := opt.Close(); *err == nil {
		*err = cerr
	}
}

func closeOrFail(t *testing.T, opt *optim.Adagrad) {
	if err := opt.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
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
