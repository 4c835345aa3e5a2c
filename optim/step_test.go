package optim_test

import (
	"errors"
	"math"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// mixedModel is a float32 and a float64 tensor, dense, and a float32
// embedding for row-sparse gradients: a step of it is three backend calls.
func mixedModel(t testing.TB, dev device.Backend, opts ...optim.Option) *optim.Adagrad {
	t.Helper()
	opt, err := optim.New(dev, []optim.Param{
		{Name: "a", Init: []float32{1, -2, 3}},
		{Name: "b", Init: []float64{0.5, 4}},
		{Name: "emb", Init: []float32{1, 2, 3, 4, 5, 6, 7, 8}, Shape: []int{4, 2}},
	}, append([]optim.Option{optim.LR(0.1), optim.SkipNonFinite(true)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

// giveAll gives every tensor of mixedModel a gradient.
func giveAll(t testing.TB, opt *optim.Adagrad, sparse []float32) {
	t.Helper()
	if err := opt.SetGrad("a", []float32{1, 2, -1}); err != nil {
		t.Fatal(err)
	}
	if err := opt.SetGrad("b", []float64{-3, 0.25}); err != nil {
		t.Fatal(err)
	}
	if err := opt.SetSparseGrad("emb", []int64{3, 1, 3}, sparse); err != nil {
		t.Fatal(err)
	}
}

// TestStepAllOrNothing makes Steps that fail after the first backend call
// could have run (in the float64 arena, or in the row-sparse part, which
// comes after both dense arenas): each is refused before anything
// changes, the gradients stay pending, and once the cause is gone the step
// gives the bits of a step that never failed.
func TestStepAllOrNothing(t *testing.T) {
	sparse := []float32{1, 2, 3, 4, 5, 6}
	reference := oneStep(t, sparse)
	cases := []struct {
		what  string
		want  error
		spoil func(*optim.Adagrad) error
		fix   func(*optim.Adagrad) error
	}{
		{"a NaN in the float64 arena", optim.ErrNonFinite,
			func(o *optim.Adagrad) error { return o.SetGrad("b", []float64{math.NaN(), 0.25}) },
			func(o *optim.Adagrad) error { return o.SetGrad("b", []float64{-3, 0.25}) }},
		{"weight decay set after a sparse gradient", optim.ErrSparseWeightDecay,
			func(o *optim.Adagrad) error { return o.SetHyper([]string{"emb"}, optim.WeightDecay(0.1)) },
			func(o *optim.Adagrad) error { return o.SetHyper([]string{"emb"}, optim.WeightDecay(0)) }},
		{"duplicate rows summing to +Inf", optim.ErrNonFinite,
			func(o *optim.Adagrad) error {
				return o.SetSparseGrad("emb", []int64{3, 1, 3}, []float32{3e38, 2, 3, 4, 3e38, 6})
			},
			func(o *optim.Adagrad) error { return o.SetSparseGrad("emb", []int64{3, 1, 3}, sparse) }},
		{"the last step count of the sparse tensor", optim.ErrStepCount,
			func(o *optim.Adagrad) error { return setStep(o, "emb", math.MaxInt64) },
			func(o *optim.Adagrad) error { return setStep(o, "emb", 0) }},
		{"the last step count of the float64 tensor", optim.ErrStepCount,
			func(o *optim.Adagrad) error { return setStep(o, "b", math.MaxInt64) },
			func(o *optim.Adagrad) error { return setStep(o, "b", 0) }},
	}
	for _, c := range cases {
		dev := cpu.New()
		opt := mixedModel(t, dev)
		giveAll(t, opt, sparse)
		if err := c.spoil(opt); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		if c.want == optim.ErrStepCount { // LoadState dropped the gradients
			giveAll(t, opt, sparse)
		}
		before := takeSnapshot(t, opt)
		if err := opt.Step(); !errors.Is(err, c.want) {
			t.Errorf("%s: Step err = %v, want %v", c.what, err, c.want)
		}
		if d := before.diff(takeSnapshot(t, opt)); d != "" {
			t.Errorf("%s: the refused Step changed the state: %s", c.what, d)
		}
		if err := c.fix(opt); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		if c.want == optim.ErrStepCount {
			giveAll(t, opt, sparse)
		}
		if err := opt.Step(); err != nil {
			t.Errorf("%s: Step once fixed: %v", c.what, err)
		}
		if d := reference.diff(takeSnapshot(t, opt)); d != "" {
			t.Errorf("%s: the step once fixed differs from one that never failed: %s", c.what, d)
		}
		opt.Close()
		dev.Close()
	}
}

// oneStep is the state of mixedModel after one step of giveAll's
// gradients on a device that never fails.
func oneStep(t *testing.T, sparse []float32) snapshot {
	dev := cpu.New()
	defer dev.Close()
	opt := mixedModel(t, dev)
	defer opt.Close()
	giveAll(t, opt, sparse)
	if err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	return takeSnapshot(t, opt)
}

// setStep loads the optimizer's own state with one step count changed.
func setStep(opt *optim.Adagrad, name string, step int64) error {
	st, err := opt.State()
	if err != nil {
		return err
	}
	for i := range st.Tensors {
		if st.Tensors[i].Name == name {
			st.Tensors[i].Step = step
		}
	}
	return opt.LoadState(st)
}

// TestStepCountOverflow steps a tensor whose step count reaches
// math.MaxInt64, with and without learning-rate decay: the step that would
// wrap the count is refused and nothing changes; the one before it runs.
func TestStepCountOverflow(t *testing.T) {
	for _, decay := range []float64{0, 0.5} {
		dev := cpu.New()
		opt := mixedModel(t, dev, optim.LRDecay(decay))
		if err := setStep(opt, "b", math.MaxInt64-1); err != nil {
			t.Fatal(err)
		}
		giveAll(t, opt, make([]float32, 6))
		if err := opt.Step(); err != nil {
			t.Fatalf("decay %v: the step to math.MaxInt64: %v", decay, err)
		}
		giveAll(t, opt, make([]float32, 6))
		before := takeSnapshot(t, opt)
		if err := opt.Step(); !errors.Is(err, optim.ErrStepCount) {
			t.Errorf("decay %v: the step past math.MaxInt64: err = %v, want ErrStepCount", decay, err)
		}
		if d := before.diff(takeSnapshot(t, opt)); d != "" {
			t.Errorf("decay %v: the refused step changed the state: %s", decay, d)
		}
		for _, info := range opt.Tensors() {
			if info.Step < 0 {
				t.Errorf("decay %v: tensor %q at step %d", decay, info.Name, info.Step)
			}
		}
		opt.Close()
		dev.Close()
	}
}

// failing is a CPU backend whose dense updates of one dtype fail, as a
// device that fails mid-step would.
type failing struct {
	*cpu.Backend
	dt device.DType
}

var errDeviceLost = errors.New("device lost")

func (f *failing) Update(u device.Update) error {
	if u.Param.DType() == f.dt {
		return errDeviceLost
	}
	return f.Backend.Update(u)
}

// TestStepDeviceFailure checks what Step documents when the device itself
// fails part-way: the tensors of the calls before have taken their step,
// the others keep their gradients and step counts, and the next Step
// applies those without applying the others twice.
func TestStepDeviceFailure(t *testing.T) {
	sparse := []float32{1, 2, 3, 4, 5, 6}
	reference := oneStep(t, sparse)
	dev := &failing{Backend: cpu.New(), dt: device.Float64}
	defer dev.Close()
	opt := mixedModel(t, dev)
	defer opt.Close()
	giveAll(t, opt, sparse)
	if err := opt.Step(); !errors.Is(err, errDeviceLost) {
		t.Fatalf("Step on a failing device: err = %v", err)
	}
	steps := map[string]int64{}
	for _, info := range opt.Tensors() {
		steps[info.Name] = info.Step
	}
	if steps["a"] != 1 || steps["b"] != 0 || steps["emb"] != 0 {
		t.Errorf("after the float64 update failed: steps %v, want a 1 (before it), b 0 and emb 0", steps)
	}
	dev.dt = 0 // the device recovers
	if err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	if d := reference.diff(takeSnapshot(t, opt)); d != "" {
		t.Errorf("the step finished after the failure differs from one step: %s", d)
	}
}
