package optim_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// counting records what the optimizer asks of its backend.
type counting struct {
	*cpu.Backend
	writes  int
	updates []device.Update
}

func (c *counting) Write(dst device.Buffer, off int, src any) error {
	c.writes++
	return c.Backend.Write(dst, off, src)
}

func (c *counting) Update(u device.Update) error {
	c.updates = append(c.updates, u)
	return c.Backend.Update(u)
}

// TestManyTensorsOneCall checks the arena design: 200 tensors of two dtypes
// and two interleaved hyperparameter groups cost one gradient upload and one
// backend call per dtype, with one range per group.
func TestManyTensorsOneCall(t *testing.T) {
	dev := &counting{Backend: cpu.New()}
	defer dev.Close()
	var params []optim.Param
	for i := range 200 {
		p := optim.Param{Name: fmt.Sprint("w", i), Init: make([]float32, 10+i)}
		if i%2 == 1 {
			p.Options = []optim.Option{optim.LR(0.5)}
		}
		if i%10 == 0 {
			p.Init = make([]float64, 3)
		}
		params = append(params, p)
	}
	opt, err := optim.New(dev, params, optim.WeightDecay(0.1))
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	for _, p := range params {
		var err error
		if _, ok := p.Init.([]float32); ok {
			_, err = opt.Grad32(p.Name)
		} else {
			_, err = opt.Grad64(p.Name)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	dev.writes, dev.updates = 0, nil
	if err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	if dev.writes != 2 || len(dev.updates) != 2 {
		t.Fatalf("one step of 200 tensors: %d writes, %d backend calls; want 2 and 2 (one per dtype)", dev.writes, len(dev.updates))
	}
	for _, u := range dev.updates {
		if len(u.Ranges) > 2 {
			t.Errorf("%v update has %d ranges, want at most 2 (one per hyperparameter group)", u.Param.DType(), len(u.Ranges))
		}
	}
	// A step where only a few tensors have gradients touches only those.
	if err := opt.SetGrad("w3", make([]float32, 13)); err != nil {
		t.Fatal(err)
	}
	dev.writes, dev.updates = 0, nil
	if err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	if dev.writes != 1 || len(dev.updates) != 1 || len(dev.updates[0].Ranges) != 1 || dev.updates[0].Ranges[0].Len != 13 {
		t.Errorf("step of one tensor: %d writes, updates %+v", dev.writes, dev.updates)
	}
	for _, info := range opt.Tensors() {
		want := int64(1)
		if info.Name == "w3" {
			want = 2
		}
		if info.Step != want {
			t.Errorf("%s: step %d, want %d", info.Name, info.Step, want)
		}
	}
	// No pending gradient: nothing to do.
	dev.writes, dev.updates = 0, nil
	if err := opt.Step(); err != nil || dev.writes != 0 || len(dev.updates) != 0 {
		t.Errorf("empty step: err %v, %d writes, %d updates", err, dev.writes, len(dev.updates))
	}
}

// TestTwoStatesOneRange checks the layout of states by type: tensors of a
// rule with two states per element (dual averaging) keep each state in a
// region of the one state buffer laid out as the parameters are, so that
// a step of many of them is one range, as of one-state tensors; beside
// them, Adagrad tensors and row-wise ones keep theirs apart.
func TestTwoStatesOneRange(t *testing.T) {
	dev := &counting{Backend: cpu.New()}
	defer dev.Close()
	var params []optim.Param
	for i := range 60 {
		params = append(params, optim.Param{Name: fmt.Sprint("da", i), Init: make([]float32, 3+i),
			Options: []optim.Option{optim.TF1AdagradDADefaults(0.1)}})
	}
	params = append(params, optim.Param{Name: "plain", Init: make([]float32, 5)},
		optim.Param{Name: "rows", Init: make([]float32, 6), Shape: []int{3, 2}, Options: []optim.Option{optim.UpdateRule(device.AdagradRowwise)}})
	opt, err := optim.New(dev, params)
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	for _, p := range params {
		if _, err := opt.Grad32(p.Name); err != nil {
			t.Fatal(err)
		}
	}
	if err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	if len(dev.updates) != 1 || len(dev.updates[0].Ranges) != 3 {
		t.Fatalf("one step: %d backend calls, ranges %+v; want one call of 3 ranges (dual averaging, Adagrad, row-wise)", len(dev.updates), dev.updates)
	}
	da, plain := dev.updates[0].Ranges[0], dev.updates[0].Ranges[1]
	if da.Rule != device.AdagradDA || da.StateOff[0] != da.Off || da.StateOff[1] < da.StateOff[0]+da.Len {
		t.Errorf("dual averaging's range %+v: want its states in two regions, the first at the parameters' offsets", da)
	}
	if plain.Rule != device.Adagrad || plain.StateOff[0] != plain.Off {
		t.Errorf("Adagrad's range %+v: want its state at the parameters' offsets", plain)
	}
}

// TestLRDecayPerTensor checks that each tensor's decay follows its own step
// count, as PyTorch's per-parameter state['step'] does.
func TestLRDecayPerTensor(t *testing.T) {
	dev := &counting{Backend: cpu.New()}
	defer dev.Close()
	opt, err := optim.New(dev, []optim.Param{
		{Name: "a", Init: []float64{1}}, {Name: "b", Init: []float64{1}},
	}, optim.LR(1), optim.LRDecay(1))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := opt.SetGrad("a", []float64{1}); err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if err := opt.SetGrad("a", []float64{1}); err != nil {
		t.Fatal(err)
	}
	if err := opt.SetGrad("b", []float64{1}); err != nil {
		t.Fatal(err)
	}
	dev.updates = nil
	if err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	rs := dev.updates[0].Ranges
	if len(rs) != 2 || rs[0].Coef[device.CoefLR] != 1.0/4 || rs[1].Coef[device.CoefLR] != 1 {
		t.Errorf("ranges %+v; want a at lr 1/4 (step 4) and b at lr 1 (step 1)", rs)
	}
}

func ExampleAdagrad() {
	dev := cpu.New()
	defer dev.Close()
	opt, err := optim.New(dev, []optim.Param{{Name: "w", Init: []float32{1, -2}}}, optim.LR(0.1))
	if err != nil {
		panic(err)
	}
	defer opt.Close()
	for range 3 {
		g, err := opt.Grad32("w") // fill the gradient in place
		if err != nil {
			panic(err)
		}
		g[0], g[1] = 1, -1
		if err := opt.Step(); err != nil {
			panic(err)
		}
	}
	w := make([]float32, 2)
	if err := opt.Read("w", w); err != nil {
		panic(err)
	}
	fmt.Printf("%.4f\n", w)
	// Output: [0.7716 -1.7716]
}

// overlapping is the CPU backend declaring that its writes overlap its
// kernels, which makes the optimizer alternate two gradient buffers.
type overlapping struct {
	*cpu.Backend
	allocs map[device.DType]int
}

func (o overlapping) Capabilities() device.Capabilities {
	caps := o.Backend.Capabilities()
	caps.OverlapsWrites = true
	return caps
}

func (o overlapping) Alloc(dt device.DType, n int) (device.Buffer, error) {
	o.allocs[dt]++
	return o.Backend.Alloc(dt, n)
}

// TestDoubleBufferedGradients checks that alternating gradient buffers
// changes no bit, with tensors skipped on some steps and half-precision
// transfer switched on midway.
func TestDoubleBufferedGradients(t *testing.T) {
	run := func(dev device.Backend) optim.State {
		defer dev.Close()
		opt, err := optim.New(dev, []optim.Param{
			{Name: "a", Init: []float32{1, 2, 3, 4, 5}}, {Name: "b", Init: []float32{-1, 0.5}},
		}, optim.LR(0.1))
		if err != nil {
			t.Fatal(err)
		}
		for step := range 7 {
			if step == 4 {
				if err := opt.SetGradPrecision(device.BFloat16); err != nil {
					t.Fatal(err)
				}
			}
			if step%3 != 1 {
				if err := opt.SetGrad("a", []float32{1, -2, float32(step), 0.5, 3}); err != nil {
					t.Fatal(err)
				}
			}
			if step%2 == 0 {
				if err := opt.SetGrad("b", []float32{float32(step) / 3, 1}); err != nil {
					t.Fatal(err)
				}
			}
			if err := opt.Step(); err != nil {
				t.Fatal(err)
			}
		}
		st, err := opt.State()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	double := overlapping{cpu.New(), map[device.DType]int{}}
	single, doubled := run(cpu.New()), run(double)
	if !reflect.DeepEqual(single, doubled) {
		t.Errorf("double-buffered gradients changed the result:\n%+v\n%+v", single, doubled)
	}
	// Parameters, accumulators, two float32 gradient buffers, then two
	// bfloat16 ones: the test did alternate buffers.
	if double.allocs[device.Float32] != 4 || double.allocs[device.BFloat16] != 2 {
		t.Errorf("allocations %v; want 4 float32 and 2 bfloat16 buffers (gradients double-buffered)", double.allocs)
	}
}
