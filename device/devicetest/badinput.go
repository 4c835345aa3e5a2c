package devicetest

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// badHypers are values every hyperparameter must refuse.
var badHypers = []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1e-3}

func testBadInput(t *testing.T, open Opener) {
	t.Run("Hyperparameters", func(t *testing.T) { testBadHyper(t, open) })
	t.Run("Optimizer", func(t *testing.T) { testBadOptimizerCalls(t, open) })
	t.Run("Update", func(t *testing.T) { testBadUpdate(t, open) })
	t.Run("ClosedDevice", func(t *testing.T) { testClosedDevice(t, open) })
}

func hyperOptions(v float64) map[string]optim.Option {
	return map[string]optim.Option{
		"LR": optim.LR(v), "Eps": optim.Eps(v), "LRDecay": optim.LRDecay(v),
		"WeightDecay": optim.WeightDecay(v), "InitialAccumulatorValue": optim.InitialAccumulatorValue(v),
	}
}

func testBadHyper(t *testing.T, open Opener) {
	dev := mustOpen(t, open)
	params := func(opts ...optim.Option) []optim.Param {
		return []optim.Param{{Name: "w", Init: make([]float32, 3), Options: opts}}
	}
	for _, v := range badHypers {
		for name, o := range hyperOptions(v) {
			if _, err := optim.New(dev, params(), o); !errors.Is(err, device.ErrHyper) {
				t.Errorf("New with %s = %v: err = %v, want ErrHyper", name, v, err)
			}
			if _, err := optim.New(dev, params(o)); !errors.Is(err, device.ErrHyper) {
				t.Errorf("New with a tensor's %s = %v: err = %v, want ErrHyper", name, v, err)
			}
		}
	}
	bad := map[string][]optim.Param{
		"shape":     {{Name: "w", Init: make([]float32, 3), Shape: []int{2, 2}}},
		"negative":  {{Name: "w", Init: make([]float32, 0), Shape: []int{-1, 0}}},
		"duplicate": {{Name: "w", Init: make([]float32, 1)}, {Name: "w", Init: make([]float64, 1)}},
		"no name":   {{Init: make([]float32, 1)}},
		"dtype":     {{Name: "w", Init: []int{1}}},
		"nil init":  {{Name: "w"}},
	}
	for name, ps := range bad {
		if _, err := optim.New(dev, ps); err == nil {
			t.Errorf("New with bad params (%s) succeeded", name)
		}
	}
}

// testBadOptimizerCalls makes every kind of bad call on a trained optimizer
// and checks that its state is bitwise what it was.
func testBadOptimizerCalls(t *testing.T, open Opener) {
	dev := mustOpen(t, open)
	m := newModel(device.Float32, 4)
	ps := m.params()
	ps[0].Options = append(ps[0].Options, optim.SkipNonFinite(true))
	ps[1].Options = append(ps[1].Options, optim.SkipNonFinite(true))
	opt, err := optim.New(dev, ps)
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	if err := m.runSteps(opt, 0, 2); err != nil {
		t.Fatal(err)
	}
	before, err := opt.State()
	if err != nil {
		t.Fatal(err)
	}
	infoBefore := opt.Tensors()
	name := m.name(12) // a float32 tensor of 4097 elements
	n := len(m.init[12])
	calls := []struct {
		what string
		want error
		call func() error
	}{
		{"SetGrad of an unknown tensor", optim.ErrUnknownTensor, func() error { return opt.SetGrad("nope", make([]float32, 1)) }},
		{"SetGrad too short", optim.ErrShape, func() error { return opt.SetGrad(name, make([]float32, n-1)) }},
		{"SetGrad too long", optim.ErrShape, func() error { return opt.SetGrad(name, make([]float32, n+1)) }},
		{"SetGrad of float64", device.ErrDType, func() error { return opt.SetGrad(name, make([]float64, n)) }},
		{"SetGrad of ints", device.ErrDType, func() error { return opt.SetGrad(name, make([]int, n)) }},
		{"Grad64 of a float32 tensor", device.ErrDType, func() error { _, err := opt.Grad64(name); return err }},
		{"Grad32 of an unknown tensor", optim.ErrUnknownTensor, func() error { _, err := opt.Grad32("nope"); return err }},
		{"Read of an unknown tensor", optim.ErrUnknownTensor, func() error { return opt.Read("nope", make([]float32, 1)) }},
		{"Read too short", optim.ErrShape, func() error { return opt.Read(name, make([]float32, n-1)) }},
		{"ReadAccum of float64", device.ErrDType, func() error { return opt.ReadAccum(name, make([]float64, n)) }},
		{"SetHyper of an unknown tensor", optim.ErrUnknownTensor, func() error { return opt.SetHyper([]string{name, "nope"}, optim.LR(1)) }},
		{"SetHyper NaN", device.ErrHyper, func() error { return opt.SetHyper(nil, optim.LR(math.NaN())) }},
		{"SetHyper negative", device.ErrHyper, func() error { return opt.SetHyper([]string{name}, optim.Eps(-1)) }},
		{"Step with NaN", optim.ErrNonFinite, func() error {
			g := make([]float32, len(m.init[1]))
			g[len(g)-1] = float32(math.NaN())
			if err := opt.SetGrad(m.name(0), []float32{}); err != nil {
				return err
			}
			if err := opt.SetGrad(m.name(1), g); err != nil {
				return err
			}
			if err := opt.SetGrad(name, make([]float32, n)); err != nil {
				return err
			}
			return opt.Step()
		}},
		{"Step with Inf", optim.ErrNonFinite, func() error {
			g, err := opt.Grad32(m.name(1))
			if err != nil {
				return err
			}
			g[0] = float32(math.Inf(-1))
			return opt.Step()
		}},
		{"LoadState of another model", optim.ErrShape, func() error {
			st := optim.State{Tensors: append([]optim.TensorState(nil), before.Tensors...)}
			st.Tensors[3].Param = make([]float32, 2)
			return opt.LoadState(st)
		}},
		{"LoadState missing a tensor", optim.ErrShape, func() error {
			return opt.LoadState(optim.State{Tensors: before.Tensors[1:]})
		}},
		{"LoadState with a NaN hyperparameter", device.ErrHyper, func() error {
			st := optim.State{Tensors: append([]optim.TensorState(nil), before.Tensors...)}
			st.Tensors[5].Hyper.LR = math.NaN()
			return opt.LoadState(st)
		}},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.what, err, c.want)
		}
	}
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
	// The optimizer still works, and the next step is step 3.
	if err := m.runSteps(opt, 2, 3); err != nil {
		t.Errorf("step after refused calls: %v", err)
	}
}

// stateDiff describes the first difference between two states, or "".
func stateDiff(a, b optim.State) string {
	ra, rb := &result{}, &result{}
	for _, ts := range a.Tensors {
		ra.param, ra.sum = append(ra.param, widen(ts.Param)), append(ra.sum, widen(ts.State[0]))
	}
	for _, ts := range b.Tensors {
		rb.param, rb.sum = append(rb.param, widen(ts.Param)), append(rb.sum, widen(ts.State[0]))
	}
	if d := ra.diff(rb); d != "" {
		return d
	}
	for i := range a.Tensors {
		x, y := a.Tensors[i], b.Tensors[i]
		if x.Name != y.Name || x.Step != y.Step || x.Hyper != y.Hyper || !reflect.DeepEqual(x.Shape, y.Shape) {
			return "tensor " + x.Name + ": name, step, shape or hyperparameters differ"
		}
	}
	return ""
}

// testBadUpdate hands the backend malformed updates directly.
func testBadUpdate(t *testing.T, open Opener) {
	dev := mustOpen(t, open)
	const n = 16
	bufs := map[string]device.Buffer{}
	want := map[string][]float64{}
	for i, role := range []string{"p", "g", "s", "g64"} {
		dt := device.Float32
		if role == "g64" {
			dt = device.Float64
		}
		b, err := dev.Alloc(dt, n)
		if err != nil {
			t.Fatal(err)
		}
		v := make([]float64, n)
		for j := range v {
			v[j] = float64(i*n + j + 1)
		}
		if err := dev.Write(b, 0, typed(dt, v)); err != nil {
			t.Fatal(err)
		}
		bufs[role], want[role] = b, v
	}
	ok := device.Range{Off: 0, Len: 4, Rule: device.Adagrad, Coef: adagradCoef(0.1, 1e-8, 0, false)}
	with := func(f func(r *device.Range)) device.Range { r := ok; f(&r); return r }
	upd := func(rs ...device.Range) device.Update {
		return device.Update{Param: bufs["p"], Grad: bufs["g"], State: states(bufs["s"]), Ranges: rs}
	}
	bad := map[string]device.Update{
		"overlapping":  upd(ok, with(func(r *device.Range) { r.Off = 3 })),
		"unsorted":     upd(with(func(r *device.Range) { r.Off = 8 }), ok),
		"past the end": upd(with(func(r *device.Range) { r.Off = n - 2 })),
		"negative off": upd(with(func(r *device.Range) { r.Off = -1 })),
		"negative len": upd(with(func(r *device.Range) { r.Len = -1 })),
		"dtype":        {Param: bufs["p"], Grad: bufs["g64"], State: states(bufs["s"]), Ranges: []device.Range{ok}},
		"nil buffer":   {Param: bufs["p"], State: states(bufs["s"]), Ranges: []device.Range{ok}},
		"no state":     {Param: bufs["p"], Grad: bufs["g"], Ranges: []device.Range{ok}},
		"NaN lr":       upd(ok, with(func(r *device.Range) { r.Off, r.Coef[device.CoefLR] = 8, math.NaN() })),
		"negative eps": upd(with(func(r *device.Range) { r.Coef[device.CoefEps] = -1 })),
		"Inf decay":    upd(with(func(r *device.Range) { r.Coef[device.CoefWeightDecay] = math.Inf(1) })),
	}
	for name, u := range bad {
		if err := updater(t, dev).Update(u); err == nil {
			t.Errorf("Adagrad with %s ranges succeeded", name)
		}
	}
	if err := dev.Sync(); err != nil {
		t.Fatal(err)
	}
	for role, b := range bufs {
		expectContents(t, dev, b, want[role])
	}
}

// testClosedDevice checks that an optimizer whose device was closed
// returns errors rather than panicking, and that a closed optimizer refuses
// calls.
func testClosedDevice(t *testing.T, open Opener) {
	dev, err := open()
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.New(dev, []optim.Param{{Name: "w", Init: []float32{1, 2, 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	if err := opt.SetGrad("w", []float32{1, 1, 1}); err != nil {
		t.Fatal(err)
	}
	if err := opt.Step(); !errors.Is(err, device.ErrClosed) {
		t.Errorf("Step on a closed device: err = %v, want ErrClosed", err)
	}
	if got := opt.Tensors()[0].Step; got != 0 {
		t.Errorf("a failed Step counted: step = %d", got)
	}
	if err := opt.Read("w", make([]float32, 3)); !errors.Is(err, device.ErrClosed) {
		t.Errorf("Read on a closed device: err = %v, want ErrClosed", err)
	}
	if err := opt.Close(); err != nil && !errors.Is(err, device.ErrClosed) {
		t.Errorf("Close after the device closed: %v", err)
	}
	if err := opt.Step(); !errors.Is(err, optim.ErrClosed) {
		t.Errorf("Step on a closed optimizer: err = %v, want optim.ErrClosed", err)
	}
}
