package optimtest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/device/devicetest"
	"github.com/adagrad-go/adagrad/optim"
)

// testState checks that State and LoadState resume a run bit for bit, on
// a fresh backend, into an optimizer made with other values and other
// hyperparameters (LoadState replaces all of them), step counts included.
func testState(t *testing.T, open devicetest.Opener) {
	dev := devicetest.MustOpen(t, open)
	t.Run("real", func(t *testing.T) { resumeModel(t, open, newModel(dev, realDTypes(dev), 5)) })
	var halves []device.DType
	for _, dt := range []device.DType{device.BFloat16, device.Float16} {
		if dev.Capabilities().HasDType(dt) && dev.Capabilities().Supports(device.Adagrad, dt, false) {
			halves = append(halves, dt)
		}
	}
	if len(halves) > 0 {
		t.Run("half", func(t *testing.T) { resumeModel(t, open, newModel(dev, halves, 5)) })
	}
}

// resumeModel runs m, then runs it again stopped after three steps and
// resumed from State on fresh backends: the results are bitwise equal.
func resumeModel(t *testing.T, open devicetest.Opener, m *model) {
	dev := devicetest.MustOpen(t, open)
	want, err := m.run(dev, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, err := optim.New(devicetest.MustOpen(t, open), m.params())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.runSteps(first, 0, 3); err != nil {
		t.Fatal(err)
	}
	st, err := first.State()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	ps := m.params()
	for i := range ps {
		ps[i].Init = zeros(m.dts[i].Compute(), len(m.init[i]))
		h := m.hyper[i]
		h.LR, h.InitialAccumulatorValue = 1, 3
		if h.Eps != 0 {
			h.Eps = 0.5 // a rule without ε keeps 0
		}
		ps[i].Options = []optim.Option{optim.WithHyper(h)} // the same rule: its state layout is fixed
	}
	resumed, err := optim.New(devicetest.MustOpen(t, open), ps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeOrFail(t, resumed) })
	if err := resumed.LoadState(st); err != nil {
		t.Fatal(err)
	}
	if err := checkSteps(resumed, m.stepCounts(3)); err != nil {
		t.Fatal(err)
	}
	again, err := resumed.State()
	if err != nil {
		t.Fatal(err)
	}
	if d := stateDiff(st, again); d != "" {
		t.Errorf("State after LoadState differs from the state loaded: %s", d)
	}
	if err := m.runSteps(resumed, 3, modelSteps); err != nil {
		t.Fatal(err)
	}
	got, err := readResult(resumed)
	if err != nil {
		t.Fatal(err)
	}
	if d := got.diff(want); d != "" {
		t.Errorf("resumed run differs from an uninterrupted one: %s", d)
	}
}

// stateDiff describes the first difference between two states, or "".
func stateDiff(a, b optim.State) string {
	if len(a.Tensors) != len(b.Tensors) {
		return "different numbers of tensors"
	}
	for i := range a.Tensors {
		x, y := a.Tensors[i], b.Tensors[i]
		if x.Name != y.Name || x.Step != y.Step || x.Hyper != y.Hyper || !slices.Equal(x.Shape, y.Shape) {
			return fmt.Sprintf("tensor %s: name, step, shape or hyperparameters differ (%+v vs %+v)", x.Name, x, y)
		}
		if d := diffValues(widen(x.Param), widen(y.Param)); d != "" || !sameType(x.Param, y.Param) {
			return fmt.Sprintf("tensor %s param: %s", x.Name, d)
		}
		if len(x.State) != len(y.State) {
			return fmt.Sprintf("tensor %s: %d states vs %d", x.Name, len(x.State), len(y.State))
		}
		for k := range x.State {
			if d := diffValues(widen(x.State[k]), widen(y.State[k])); d != "" || !sameType(x.State[k], y.State[k]) {
				return fmt.Sprintf("tensor %s state %d: %s", x.Name, k, d)
			}
		}
	}
	return ""
}

func sameType(a, b any) bool { return fmt.Sprintf("%T", a) == fmt.Sprintf("%T", b) }
