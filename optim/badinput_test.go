package optim_test

import (
	"errors"
	"math"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// tracking counts the live buffers of a CPU backend, to show that a refused
// New leaves none behind.
type tracking struct {
	*cpu.Backend
	live int
}

func (b *tracking) Alloc(dt device.DType, n int) (device.Buffer, error) {
	buf, err := b.Backend.Alloc(dt, n)
	if err == nil {
		b.live++
	}
	return buf, err
}

func (b *tracking) Free(buf device.Buffer) error {
	err := b.Backend.Free(buf)
	if err == nil {
		b.live--
	}
	return err
}

// TestOverflowingShapes gives New shapes whose element count or byte count
// overflows an int: each is refused with ErrShape, and shapes of zero
// elements that fit are accepted.
func TestOverflowingShapes(t *testing.T) {
	cases := []struct {
		shape []int
		init  any
	}{
		{[]int{4, 1<<62 + 1}, make([]float32, 4)}, // wraps to 4 elements
		{[]int{1 << 62, 4}, make([]float32, 0)},   // wraps to 0
		{[]int{1 << 32, 1 << 32}, make([]float64, 0)},
		{[]int{math.MaxInt, math.MaxInt}, make([]float32, 1)},
		{[]int{math.MaxInt, 2, 0}, make([]float32, 0)},    // no elements, but a row of MaxInt×2
		{[]int{0, 1 << 62}, make([]float32, 0)},           // a row of 2^64 bytes
		{[]int{0, math.MaxInt/8 + 1}, make([]float64, 0)}, // a row of more than MaxInt bytes
		{[]int{3, 1 << 61, 1 << 61, 1 << 61}, make([]float64, 3)},
		{[]int{-1, -4}, make([]float32, 4)},
		{[]int{2, -2}, make([]float32, 0)},
	}
	for _, c := range cases {
		dev := &tracking{Backend: cpu.New()}
		opt, err := optim.New(dev, []optim.Param{{Name: "ok", Init: make([]float32, 3)}, {Name: "t", Init: c.init, Shape: c.shape}})
		if !errors.Is(err, optim.ErrShape) {
			t.Errorf("shape %v: err = %v, want ErrShape", c.shape, err)
		}
		if opt != nil {
			opt.Close()
		}
		if dev.live != 0 {
			t.Errorf("shape %v: %d buffers left allocated", c.shape, dev.live)
		}
		dev.Close()
	}
	for _, shape := range [][]int{{0, 7}, {3, 0}, {0}, {0, 1 << 59}, {math.MaxInt / 8, 0}} {
		dev := cpu.New()
		opt, err := optim.New(dev, []optim.Param{{Name: "t", Init: make([]float64, 0), Shape: shape}})
		if err != nil {
			t.Errorf("shape %v of no elements: %v", shape, err)
			continue
		}
		width := 1
		for _, d := range shape[1:] {
			width *= d
		}
		if width > 1<<32 {
			// So many rows of a wide tensor that their element count
			// wraps: refused, not taken for zero.
			idx := make([]int64, math.MaxInt/width+1)
			if err := opt.SetSparseGrad("t", idx, []float64{}); !errors.Is(err, optim.ErrShape) {
				t.Errorf("shape %v: %d rows of %d: err = %v, want ErrShape", shape, len(idx), width, err)
			}
			if err := opt.ReadRows("t", idx, []float64{}); !errors.Is(err, optim.ErrShape) {
				t.Errorf("shape %v: reading %d rows of %d: err = %v, want ErrShape", shape, len(idx), width, err)
			}
		}
		if shape[0] == 0 {
			if err := opt.SetSparseGrad("t", []int64{0}, make([]float64, min(width, 8))); err == nil {
				t.Errorf("shape %v: a row of a tensor of no rows accepted", shape)
			}
		}
		if err := opt.Step(); err != nil {
			t.Errorf("shape %v: Step: %v", shape, err)
		}
		opt.Close()
		dev.Close()
	}
}

// TestHugeModelRefused asks for a model far larger than any machine's
// memory, made of one 256 MiB slice given 4096 times (never touched): New
// returns an error from the backend's allocator instead of crashing, and
// leaves no buffer behind.
func TestHugeModelRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("reserves 256 MiB of address space")
	}
	dev := &tracking{Backend: cpu.New()}
	defer dev.Close()
	big := make([]float32, 1<<26)
	params := make([]optim.Param, 4096) // 2^38 float32: 1 TiB per buffer
	for i := range params {
		params[i] = optim.Param{Name: "w" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)), Init: big}
	}
	opt, err := optim.New(dev, params)
	if !errors.Is(err, device.ErrOutOfMemory) && !errors.Is(err, device.ErrRange) {
		t.Errorf("a 1 TiB model: err = %v, want device.ErrOutOfMemory or device.ErrRange", err)
	}
	if opt != nil {
		opt.Close()
	}
	if dev.live != 0 {
		t.Errorf("%d buffers left allocated", dev.live)
	}
}

// TestGradSlicesCapped checks that the staging slices end at their tensor:
// an append reallocates instead of writing the neighbour's gradient.
func TestGradSlicesCapped(t *testing.T) {
	dev := cpu.New()
	defer dev.Close()
	opt, err := optim.New(dev, []optim.Param{
		{Name: "a", Init: make([]float32, 3)}, {Name: "b", Init: make([]float32, 5)},
		{Name: "c", Init: make([]float64, 1)}, {Name: "d", Init: make([]float64, 6)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	for _, name := range []string{"a", "b"} {
		g, err := opt.Grad32(name)
		if err != nil {
			t.Fatal(err)
		}
		if cap(g) != len(g) {
			t.Errorf("Grad32(%q): len %d, cap %d", name, len(g), cap(g))
		}
	}
	for _, name := range []string{"c", "d"} {
		g, err := opt.Grad64(name)
		if err != nil {
			t.Fatal(err)
		}
		if cap(g) != len(g) {
			t.Errorf("Grad64(%q): len %d, cap %d", name, len(g), cap(g))
		}
	}
	a, err := opt.Grad32("a")
	if err != nil {
		t.Fatal(err)
	}
	_ = append(a, 1, 2, 3, 4, 5, 6, 7, 8)
	b, err := opt.Grad32("b")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range b {
		if v != 0 {
			t.Errorf("append to a's gradient wrote b's element %d: %v", i, v)
		}
	}
}

// TestSentinels checks which sentinel each bad argument matches: element
// types that do not match are device.ErrDType (and not ErrShape); lengths,
// shapes and counts are ErrShape (and not device.ErrDType). None changes
// the state.
func TestSentinels(t *testing.T) {
	dev := cpu.New()
	defer dev.Close()
	opt, err := optim.New(dev, []optim.Param{
		{Name: "w", Init: []float32{1, 2, 3, 4, 5, 6}, Shape: []int{2, 3}},
		{Name: "d", Init: []float64{1, -1}},
	}, optim.LR(0.1))
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	if err := opt.SetGrad("w", []float32{1, 1, 1, 1, 1, 1}); err != nil {
		t.Fatal(err)
	}
	if err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	before := takeSnapshot(t, opt)
	loadWith := func(change func(*optim.State)) func() error {
		return func() error {
			st := cloneState(before.state)
			change(&st)
			return opt.LoadState(st)
		}
	}
	calls := []struct {
		what string
		want error
		call func() error
	}{
		{"SetGrad of float64 into float32", device.ErrDType, func() error { return opt.SetGrad("w", make([]float64, 6)) }},
		{"SetGrad of float32 into float64", device.ErrDType, func() error { return opt.SetGrad("d", make([]float32, 2)) }},
		{"SetGrad of ints", device.ErrDType, func() error { return opt.SetGrad("w", make([]int, 6)) }},
		{"SetGrad of nil", device.ErrDType, func() error { return opt.SetGrad("w", nil) }},
		{"SetGrad too short", optim.ErrShape, func() error { return opt.SetGrad("w", make([]float32, 5)) }},
		{"SetGrad too long", optim.ErrShape, func() error { return opt.SetGrad("d", make([]float64, 3)) }},
		{"Grad64 of float32", device.ErrDType, func() error { _, err := opt.Grad64("w"); return err }},
		{"Grad32 of float64", device.ErrDType, func() error { _, err := opt.Grad32("d"); return err }},
		{"Read into float64", device.ErrDType, func() error { return opt.Read("w", make([]float64, 6)) }},
		{"Read too short", optim.ErrShape, func() error { return opt.Read("w", make([]float32, 5)) }},
		{"ReadAccum into float32", device.ErrDType, func() error { return opt.ReadAccum("d", make([]float32, 2)) }},
		{"ReadAccum too long", optim.ErrShape, func() error { return opt.ReadAccum("d", make([]float64, 3)) }},
		{"ReadState 1 of Adagrad", optim.ErrShape, func() error { return opt.ReadState("w", 1, make([]float32, 6)) }},
		{"ReadState -1", optim.ErrShape, func() error { return opt.ReadState("w", -1, make([]float32, 6)) }},
		{"SetSparseGrad of float64 values", device.ErrDType, func() error { return opt.SetSparseGrad("w", []int64{0}, make([]float64, 3)) }},
		{"SetSparseGrad of a short row", optim.ErrShape, func() error { return opt.SetSparseGrad("w", []int64{0}, make([]float32, 2)) }},
		{"SetSparseGrad of nil values", device.ErrDType, func() error { return opt.SetSparseGrad("w", []int64{0}, nil) }},
		{"SetSparseGrad past the last row", optim.ErrIndex, func() error { return opt.SetSparseGrad("w", []int64{2}, make([]float32, 3)) }},
		{"ReadRows into float64", device.ErrDType, func() error { return opt.ReadRows("w", []int64{0}, make([]float64, 3)) }},
		{"ReadRows too short", optim.ErrShape, func() error { return opt.ReadRows("w", []int64{0, 1}, make([]float32, 5)) }},
		{"LoadState of float64 parameters", device.ErrDType, loadWith(func(st *optim.State) { st.Tensors[0].Param = make([]float64, 6) })},
		{"LoadState of a float32 accumulator", device.ErrDType, loadWith(func(st *optim.State) { st.Tensors[1].State[0] = make([]float32, 2) })},
		{"LoadState of nil parameters", device.ErrDType, loadWith(func(st *optim.State) { st.Tensors[1].Param = nil })},
		{"LoadState of short parameters", optim.ErrShape, loadWith(func(st *optim.State) { st.Tensors[0].Param = make([]float32, 5) })},
		{"LoadState of a long accumulator", optim.ErrShape, loadWith(func(st *optim.State) { st.Tensors[1].State[0] = make([]float64, 3) })},
		{"LoadState of another shape", optim.ErrShape, loadWith(func(st *optim.State) { st.Tensors[0].Shape = []int{3, 2} })},
		{"LoadState without states", optim.ErrShape, loadWith(func(st *optim.State) { st.Tensors[0].State = nil })},
		{"LoadState of one tensor", optim.ErrShape, loadWith(func(st *optim.State) { st.Tensors = st.Tensors[:1] })},
		{"LoadState of a tensor twice", optim.ErrShape, loadWith(func(st *optim.State) { st.Tensors[1] = st.Tensors[0] })},
		{"LoadState of an unknown tensor", optim.ErrUnknownTensor, loadWith(func(st *optim.State) { st.Tensors[1].Name = "x" })},
		{"LoadState of a negative step", optim.ErrStepCount, loadWith(func(st *optim.State) { st.Tensors[1].Step = -1 })},
		{"LoadState of another rule", device.ErrRule, loadWith(func(st *optim.State) { st.Tensors[1].Hyper.Rule = device.AdagradEpsInside })},
		{"SetGradPrecision of float64", nil, func() error { return opt.SetGradPrecision(device.Float64) }},
	}
	for _, c := range calls {
		err := c.call()
		if err == nil {
			t.Errorf("%s: accepted", c.what)
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.what, err, c.want)
		}
		if c.want == device.ErrDType && errors.Is(err, optim.ErrShape) || c.want == optim.ErrShape && errors.Is(err, device.ErrDType) {
			t.Errorf("%s: err = %v matches both ErrShape and device.ErrDType", c.what, err)
		}
	}
	if d := before.diff(takeSnapshot(t, opt)); d != "" {
		t.Errorf("refused calls changed the state: %s", d)
	}
	// Nothing refused was left pending: a step now changes nothing.
	if err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	if d := before.diff(takeSnapshot(t, opt)); d != "" {
		t.Errorf("a refused gradient was applied: %s", d)
	}
}

// TestHyperInDType gives hyperparameters that are finite in float64 but
// +Inf in float32, by every path that sets them: each is refused for
// float32 tensors with device.ErrHyper and nothing changes, and float64
// tensors take them.
func TestHyperInDType(t *testing.T) {
	const huge = 1e39 // > math.MaxFloat32
	opts := map[string]optim.Option{
		"LR": optim.LR(huge), "Eps": optim.Eps(huge), "WeightDecay": optim.WeightDecay(huge),
		"InitialAccumulatorValue": optim.InitialAccumulatorValue(huge),
	}
	dev := cpu.New()
	defer dev.Close()
	for name, o := range opts {
		if _, err := optim.New(dev, []optim.Param{{Name: "w", Init: make([]float32, 2)}}, o); !errors.Is(err, device.ErrHyper) {
			t.Errorf("New with %s(%g) for a float32 tensor: err = %v, want device.ErrHyper", name, huge, err)
		}
		if _, err := optim.New(dev, []optim.Param{{Name: "d", Init: make([]float64, 2)}, {Name: "w", Init: make([]float32, 2), Options: []optim.Option{o}}}); !errors.Is(err, device.ErrHyper) {
			t.Errorf("a float32 Param's option %s(%g): err = %v, want device.ErrHyper", name, huge, err)
		}
		opt, err := optim.New(dev, []optim.Param{{Name: "d", Init: make([]float64, 2)}}, o)
		if err != nil {
			t.Errorf("New with %s(%g) for a float64 tensor: %v", name, huge, err)
		} else {
			opt.Close()
		}
	}
	opt, err := optim.New(dev, []optim.Param{{Name: "w", Init: []float32{1, 2}}, {Name: "d", Init: []float64{3}}})
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	before := takeSnapshot(t, opt)
	for name, o := range opts {
		for _, names := range [][]string{nil, {"w"}, {"d", "w"}} {
			if err := opt.SetHyper(names, o); !errors.Is(err, device.ErrHyper) {
				t.Errorf("SetHyper(%v, %s(%g)): err = %v, want device.ErrHyper", names, name, huge, err)
			}
		}
		st := cloneState(before.state)
		o(&st.Tensors[0].Hyper)
		if err := opt.LoadState(st); !errors.Is(err, device.ErrHyper) {
			t.Errorf("LoadState with %s = %g for a float32 tensor: err = %v, want device.ErrHyper", name, huge, err)
		}
	}
	if d := before.diff(takeSnapshot(t, opt)); d != "" {
		t.Errorf("refused hyperparameters changed the state: %s", d)
	}
	if err := opt.SetHyper([]string{"d"}, optim.LR(huge), optim.WeightDecay(huge)); err != nil {
		t.Errorf("SetHyper of float64 values on a float64 tensor: %v", err)
	}
}

// TestHyperCheckedWhenGiven checks hyperparameters where they are given,
// not at the first step: New and SetHyper refuse nil and invalid options
// even when no tensor would use them yet.
func TestHyperCheckedWhenGiven(t *testing.T) {
	dev := cpu.New()
	defer dev.Close()
	empty, err := optim.New(dev, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	bad := map[string]optim.Option{"nil": nil, "LR(NaN)": optim.LR(math.NaN()), "Eps(-1)": optim.Eps(-1),
		"LRDecay(+Inf)": optim.LRDecay(math.Inf(1)), "WeightDecay(-0.5)": optim.WeightDecay(-0.5)}
	for name, o := range bad {
		if _, err := optim.New(dev, nil, o); !errors.Is(err, device.ErrHyper) {
			t.Errorf("New of no tensors with %s: err = %v, want device.ErrHyper", name, err)
		}
		if err := empty.SetHyper(nil, o); !errors.Is(err, device.ErrHyper) {
			t.Errorf("SetHyper with %s on an optimizer of no tensors: err = %v, want device.ErrHyper", name, err)
		}
		if _, err := optim.New(dev, []optim.Param{{Name: "w", Init: make([]float32, 1), Options: []optim.Option{o}}}); !errors.Is(err, device.ErrHyper) {
			t.Errorf("a Param's option %s: err = %v, want device.ErrHyper", name, err)
		}
	}
	if err := empty.SetHyper(nil, optim.LR(0.5)); err != nil {
		t.Errorf("a valid SetHyper on an optimizer of no tensors: %v", err)
	}
}
