package optimtest

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/device/devicetest"
	"github.com/adagrad-go/adagrad/optim"
)

// badCall is one call that must fail with a specific sentinel.
type badCall struct {
	what string
	want error
	call func() error
}

func expectErrors(t *testing.T, calls []badCall) {
	t.Helper()
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.what, err, c.want)
		}
	}
}

// badHypers are values every hyperparameter must refuse.
var badHypers = []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1e-3}

func hyperOptions(v float64) map[string]optim.Option {
	return map[string]optim.Option{
		"LR": optim.LR(v), "Eps": optim.Eps(v), "LRDecay": optim.LRDecay(v),
		"WeightDecay": optim.WeightDecay(v), "InitialAccumulatorValue": optim.InitialAccumulatorValue(v),
		"L1": optim.L1(v), "L2": optim.L2(v), "Momentum": optim.Momentum(v),
	}
}

// testBadHyper checks that New refuses bad hyperparameters, for the
// optimizer and for one tensor, with device.ErrHyper, and bad parameters.
func testBadHyper(t *testing.T, open devicetest.Opener) {
	dev := devicetest.MustOpen(t, open)
	params := func(opts ...optim.Option) []optim.Param {
		return []optim.Param{{Name: "w", Init: make([]float32, 3), Options: opts}}
	}
	var calls []badCall
	for _, v := range badHypers {
		for name, o := range hyperOptions(v) {
			calls = append(calls,
				badCall{"New with " + name + " = " + ftoa(v), device.ErrHyper, func() error { _, err := optim.New(dev, params(), o); return err }},
				badCall{"New with a tensor's " + name + " = " + ftoa(v), device.ErrHyper, func() error { _, err := optim.New(dev, params(o)); return err }})
		}
	}
	// 1e39 is finite in float64 and +Inf in a float32 tensor.
	calls = append(calls, badCall{"New with LR 1e39 on float32", device.ErrHyper, func() error { _, err := optim.New(dev, params(optim.LR(1e39))); return err }})
	// A hyperparameter the tensor's rule does not read is refused, not
	// ignored; so is a momentum past 1.
	for what, opts := range map[string][]optim.Option{
		"Eps on a rule without ε":           {optim.TF1Defaults(0.1), optim.Eps(1e-8)},
		"L1 on Adagrad":                     {optim.L1(0.1)},
		"L2 on Keras 3's rule":              {optim.Keras3Defaults(), optim.L2(0.1)},
		"WeightDecay on ProximalAdagrad":    {optim.TF1ProximalDefaults(0.1), optim.WeightDecay(0.1)},
		"Momentum on AdagradDA":             {optim.TF1AdagradDADefaults(0.1), optim.Momentum(0.5)},
		"Momentum 1.5 on AdagradJAX":        {optim.JAXDefaults(0.1), optim.Momentum(1.5)},
		"ProximalAdagrad with the defaults": {optim.UpdateRule(device.ProximalAdagrad)}, // Eps 1e-8
	} {
		calls = append(calls, badCall{"New with " + what, device.ErrHyper, func() error { _, err := optim.New(dev, params(opts...)); return err }})
	}
	bad := []struct {
		what   string
		want   error
		params []optim.Param
	}{
		{"a shape of other size", optim.ErrShape, []optim.Param{{Name: "w", Init: make([]float32, 3), Shape: []int{2, 2}}}},
		{"a negative dimension", optim.ErrShape, []optim.Param{{Name: "w", Init: make([]float32, 0), Shape: []int{-1, 0}}}},
		{"Init of ints", device.ErrDType, []optim.Param{{Name: "w", Init: []int{1}}}},
		{"no Init", device.ErrDType, []optim.Param{{Name: "w"}}},
		{"an unknown rule", device.ErrRule, []optim.Param{{Name: "w", Init: make([]float32, 1), Options: []optim.Option{optim.UpdateRule(250)}}}},
	}
	for _, b := range bad {
		calls = append(calls, badCall{"New with " + b.what, b.want, func() error { _, err := optim.New(dev, b.params); return err }})
	}
	expectErrors(t, calls)
	// No sentinel is decided for these; they must fail all the same.
	for what, ps := range map[string][]optim.Param{
		"a duplicate name": {{Name: "w", Init: make([]float32, 1)}, {Name: "w", Init: make([]float32, 1)}},
		"no name":          {{Init: make([]float32, 1)}},
	} {
		if _, err := optim.New(dev, ps); err == nil {
			t.Errorf("New with %s succeeded", what)
		}
	}
}

func ftoa(v float64) string { return fmt.Sprint(v) }

// testBadCalls makes every kind of bad call on a trained optimizer and
// checks each sentinel, then that its state (values, steps,
// hyperparameters) is bitwise what it was and that it still trains.
func testBadCalls(t *testing.T, open devicetest.Opener) {
	dev := devicetest.MustOpen(t, open)
	m := newModel(dev, realDTypes(dev), 4)
	ps := m.params()
	skipK := firstOf(m, device.Float32, 1)
	h := m.hyper[skipK]
	h.SkipNonFinite = true
	ps[skipK].Options, m.hyper[skipK] = []optim.Option{optim.WithHyper(h)}, h
	opt, err := optim.New(dev, ps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeOrFail(t, opt) })
	if err := m.runSteps(opt, 0, 2); err != nil {
		t.Fatal(err)
	}
	before, err := opt.State()
	if err != nil {
		t.Fatal(err)
	}
	infoBefore := opt.Tensors()
	k32 := firstOf(m, device.Float32, 4000)
	name, n := m.name(k32), len(m.init[k32])
	skipping := m.name(skipK) // SkipNonFinite
	calls := []badCall{
		{"SetGrad of an unknown tensor", optim.ErrUnknownTensor, func() error { return opt.SetGrad("nope", make([]float32, 1)) }},
		{"SetGrad too short", optim.ErrShape, func() error { return opt.SetGrad(name, make([]float32, n-1)) }},
		{"SetGrad too long", optim.ErrShape, func() error { return opt.SetGrad(name, make([]float32, n+1)) }},
		{"SetGrad of float64 into a float32 tensor", device.ErrDType, func() error { return opt.SetGrad(name, make([]float64, n)) }},
		{"SetGrad of ints", device.ErrDType, func() error { return opt.SetGrad(name, make([]int, n)) }},
		{"Grad64 of a float32 tensor", device.ErrDType, func() error { _, err := opt.Grad64(name); return err }},
		{"Grad32 of an unknown tensor", optim.ErrUnknownTensor, func() error { _, err := opt.Grad32("nope"); return err }},
		{"Read of an unknown tensor", optim.ErrUnknownTensor, func() error { return opt.Read("nope", make([]float32, 1)) }},
		{"Read too short", optim.ErrShape, func() error { return opt.Read(name, make([]float32, n-1)) }},
		{"Read into float64", device.ErrDType, func() error { return opt.Read(name, make([]float64, n)) }},
		{"ReadAccum into float64", device.ErrDType, func() error { return opt.ReadAccum(name, make([]float64, n)) }},
		{"ReadAccum too long", optim.ErrShape, func() error { return opt.ReadAccum(name, make([]float32, n+1)) }},
		{"SetHyper of an unknown tensor", optim.ErrUnknownTensor, func() error { return opt.SetHyper([]string{name, "nope"}, optim.LR(1)) }},
		{"SetHyper NaN", device.ErrHyper, func() error { return opt.SetHyper(nil, optim.LR(math.NaN())) }},
		{"SetHyper negative", device.ErrHyper, func() error { return opt.SetHyper([]string{name}, optim.Eps(-1)) }},
		{"SetHyper 1e39 on float32", device.ErrHyper, func() error { return opt.SetHyper([]string{name}, optim.WeightDecay(1e39)) }},
		{"SetHyper to another rule", device.ErrRule, func() error {
			return opt.SetHyper([]string{name}, optim.UpdateRule(otherRule(m.hyper[k32])))
		}},
		{"SetGradPrecision float64", device.ErrDType, func() error { return opt.SetGradPrecision(device.Float64) }},
		{"Step with NaN", optim.ErrNonFinite, func() error {
			g := make([]float32, len(m.init[skipK]))
			g[len(g)-1] = float32(math.NaN())
			if err := opt.SetGrad(skipping, g); err != nil {
				return err
			}
			if err := opt.SetGrad(name, make([]float32, n)); err != nil {
				return err
			}
			return opt.Step()
		}},
		{"Step with Inf", optim.ErrNonFinite, func() error {
			g, err := opt.Grad32(skipping)
			if err != nil {
				return err
			}
			g[0] = float32(math.Inf(-1))
			return opt.Step()
		}},
		{"LoadState of another model", optim.ErrShape, func() error {
			st := cloneState(before)
			// The tensor's own dtype, another length: a shape mismatch.
			dt, _, _ := device.DTypeOf(st.Tensors[3].Param)
			st.Tensors[3].Param = zeros(dt, 2)
			return opt.LoadState(st)
		}},
		{"LoadState of another dtype", device.ErrDType, func() error {
			st := cloneState(before)
			st.Tensors[k32].Param = make([]float64, n)
			return opt.LoadState(st)
		}},
		{"LoadState missing a tensor", optim.ErrShape, func() error {
			return opt.LoadState(optim.State{Tensors: before.Tensors[1:]})
		}},
		{"LoadState of an unknown tensor", optim.ErrUnknownTensor, func() error {
			st := cloneState(before)
			st.Tensors[2].Name = "nope"
			return opt.LoadState(st)
		}},
		{"LoadState with a NaN hyperparameter", device.ErrHyper, func() error {
			st := cloneState(before)
			st.Tensors[5].Hyper.LR = math.NaN()
			return opt.LoadState(st)
		}},
	}
	expectErrors(t, calls)
	opt.ZeroGrad()
	after, err := opt.State()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(opt.Tensors(), infoBefore) {
		t.Errorf("tensor info changed by refused calls")
	}
	if d := stateDiff(before, after); d != "" {
		t.Errorf("refused calls changed the state: %s", d)
	}
	// The optimizer still trains, from step 3.
	if err := m.runSteps(opt, 2, 3); err != nil {
		t.Fatalf("step after refused calls: %v", err)
	}
	if err := checkSteps(opt, m.stepCounts(3)); err != nil {
		t.Error(err)
	}
}

// firstOf is the first tensor of dtype dt with at least n elements.
func firstOf(m *model, dt device.DType, n int) int {
	for k, v := range m.init {
		if m.dts[k] == dt && len(v) >= n {
			return k
		}
	}
	panic("optimtest: no such tensor in the model")
}

// otherRule is a defined rule other than h's.
func otherRule(h optim.Hyper) device.Rule {
	for _, r := range device.Rules() {
		if r != ruleOf(h) {
			return r
		}
	}
	return 250
}

func cloneState(st optim.State) optim.State {
	return optim.State{Tensors: append([]optim.TensorState(nil), st.Tensors...)}
}

// testClosed checks an optimizer whose device was closed (errors, not
// panics; a failed Step counts nothing) and a closed optimizer (every
// method fails with optim.ErrClosed).
func testClosed(t *testing.T, open devicetest.Opener) {
	dev, err := open()
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.New(dev, []optim.Param{{Name: "w", Init: []float32{1, 2, 3}, Shape: []int{3, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	if err := opt.SetGrad("w", []float32{1, 1, 1}); err != nil {
		t.Fatal(err)
	}
	expectErrors(t, []badCall{
		{"Step on a closed device", device.ErrClosed, opt.Step},
		{"Read on a closed device", device.ErrClosed, func() error { return opt.Read("w", make([]float32, 3)) }},
		{"State on a closed device", device.ErrClosed, func() error { _, err := opt.State(); return err }},
		{"Sync on a closed device", device.ErrClosed, opt.Sync},
	})
	if got := opt.Tensors()[0].Step; got != 0 {
		t.Errorf("a failed Step counted: step = %d", got)
	}
	if err := opt.Close(); err != nil && !errors.Is(err, device.ErrClosed) {
		t.Errorf("Close after the device closed: %v", err)
	}
	if err := opt.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	expectErrors(t, []badCall{
		{"Step", optim.ErrClosed, opt.Step},
		{"Sync", optim.ErrClosed, opt.Sync},
		{"SetGrad", optim.ErrClosed, func() error { return opt.SetGrad("w", []float32{1, 1, 1}) }},
		{"SetSparseGrad", optim.ErrClosed, func() error { return opt.SetSparseGrad("w", []int64{0}, []float32{1}) }},
		{"Grad32", optim.ErrClosed, func() error { _, err := opt.Grad32("w"); return err }},
		{"Read", optim.ErrClosed, func() error { return opt.Read("w", make([]float32, 3)) }},
		{"ReadAccum", optim.ErrClosed, func() error { return opt.ReadAccum("w", make([]float32, 3)) }},
		{"ReadRows", optim.ErrClosed, func() error { return opt.ReadRows("w", []int64{0}, make([]float32, 1)) }},
		{"State", optim.ErrClosed, func() error { _, err := opt.State(); return err }},
		{"LoadState", optim.ErrClosed, func() error { return opt.LoadState(optim.State{}) }},
		{"SetHyper", optim.ErrClosed, func() error { return opt.SetHyper(nil, optim.LR(1)) }},
		{"SetGradPrecision", optim.ErrClosed, func() error { return opt.SetGradPrecision(device.Float32) }},
	})
}
