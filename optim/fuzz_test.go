package optim_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// FuzzCalls drives an optimizer on the CPU backend with a sequence of API
// calls decoded from the input (New with random names, shapes, dtypes,
// values and options, then SetGrad, Grad32, Grad64, SetSparseGrad, Step,
// ZeroGrad, SetHyper, State, LoadState of a damaged state, Read, ReadRows,
// ReadState, SetGradPrecision), and asserts that nothing panics, that a
// call that returns an error leaves the state (State and Tensors) bitwise
// as it was, and that the calls that only give gradients or read leave it
// so too.
func FuzzCalls(f *testing.F) {
	for _, s := range callSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		runCalls(t, data, nil)
	})
}

// TestCallSequences runs the fuzzer's checks over random sequences, so
// that every go test run tries them, and reports how many calls were made
// and refused.
func TestCallSequences(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	var c callCounts
	rng := rand.New(rand.NewPCG(11, 13))
	for _, s := range callSeeds() {
		runCalls(t, s, &c)
	}
	for range n {
		data := make([]byte, 16+rng.IntN(512))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		runCalls(t, data, &c)
	}
	t.Logf("%d sequences: %d models made, %d refused by New; %d calls, %d steps taken, %d refused (%s); %d state checks after refusals, 0 changes",
		n+len(callSeeds()), c.models, c.refusedNew, c.calls, c.steps, c.refused, c.bySentinel(), c.checked)
	if c.refused == 0 || c.calls-c.refused == 0 {
		t.Errorf("the sequences never (or always) failed: %+v", c)
	}
}

// callSeeds are the seed corpus: short programs that reach the
// interesting paths (overflowing shapes, narrowed gradients, summed
// duplicate rows, the last step count, damaged states), and random bytes.
func callSeeds() [][]byte {
	seeds := [][]byte{
		{},
		// Two tensors, then SetGrad, Step, State, LoadState, Step.
		{2, 0, 1, 2, 3, 0, 1, 1, 1, 3, 4, 0, 0, 0, 0, 4, 7, 8, 0, 4},
		// An overflowing dimension.
		{1, 0, 0, 3, 9, 10, 0, 0},
		// Half precision, a gradient of 1e5, SkipNonFinite, Step.
		{1, 0, 0, 1, 6, 1, 6, 1, 11, 3, 1, 0, 0, 9, 9, 9, 4},
		// Sparse rows that sum past float32's range.
		{1, 3, 0, 2, 4, 2, 0, 1, 6, 1, 3, 3, 2, 0, 0, 0, 6, 6, 6, 6, 4},
		// The last step count.
		{1, 0, 0, 1, 4, 0, 0, 7, 8, 8, 2, 0, 0, 4, 4},
	}
	rng := rand.New(rand.NewPCG(3, 5))
	for _, n := range []int{32, 64, 128, 256, 512, 1024} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// callCounts are the figures TestCallSequences reports.
type callCounts struct {
	models, refusedNew, calls, refused, checked, steps int
	sentinels                                          map[string]int
}

func (c *callCounts) bySentinel() string {
	var parts []string
	for k, v := range c.sentinels {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

var sentinels = []struct {
	name string
	err  error
}{
	{"ErrShape", optim.ErrShape}, {"ErrDType", device.ErrDType}, {"ErrHyper", device.ErrHyper},
	{"ErrRule", device.ErrRule}, {"ErrIndex", optim.ErrIndex}, {"ErrUnknownTensor", optim.ErrUnknownTensor},
	{"ErrNonFinite", optim.ErrNonFinite}, {"ErrStepCount", optim.ErrStepCount},
	{"ErrSparseWeightDecay", optim.ErrSparseWeightDecay},
}

func (c *callCounts) refusal(err error) {
	c.refused++
	if c.sentinels == nil {
		c.sentinels = map[string]int{}
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			c.sentinels[s.name]++
			return
		}
	}
	c.sentinels["other"]++
}

// input reads the fuzzer's bytes as choices; past the end every choice is 0.
type input struct{ b []byte }

func (in *input) byte() byte {
	if len(in.b) == 0 {
		return 0
	}
	v := in.b[0]
	in.b = in.b[1:]
	return v
}

func (in *input) intn(n int) int { return int(in.byte()) % n }

func (in *input) done() bool { return len(in.b) == 0 }

var (
	fuzzFloats = []float64{0, 1, -1, 0.5, -2.5, 1e-3, 1e5, 65520, 3e38, -3e38, math.MaxFloat32, 1e39,
		math.SmallestNonzeroFloat32, math.NaN(), math.Inf(1), math.Inf(-1), 1e300, 0.1}
	fuzzDims  = []int{0, 1, 2, 3, 4, 5, 6, 8, -1, 1<<62 + 1, 1 << 62, math.MaxInt, 1 << 31, 1 << 32, math.MaxInt/8 + 1, 1 << 59}
	fuzzNames = []string{"a", "b", "c", "emb", "", "a", "state.0.sum", "名前"}
	fuzzRows  = []int64{0, 1, 2, 3, -1, math.MaxInt64, math.MinInt64, 4, 5, 1 << 32}
	fuzzRules = []device.Rule{0, device.Adagrad, device.AdagradEpsInside, device.AdagradTF, device.AdagradJAX, device.AdagradRowwise, device.Adagrad8Bit, 200, 255}
	fuzzHalf  = []device.DType{device.Float32, device.BFloat16, device.Float16, device.Float64, 0, 9}
)

func (in *input) float() float64 {
	if b := in.byte(); b >= 240 {
		return float64(math.Float32frombits(uint32(in.byte()) | uint32(in.byte())<<8 | uint32(in.byte())<<16 | uint32(in.byte())<<24))
	} else {
		return fuzzFloats[int(b)%len(fuzzFloats)]
	}
}

// slice returns a []float32 or []float64 (the dtype wanted, mostly) of
// about n elements (exactly n, mostly), at most 4096.
func (in *input) slice(dt device.DType, n int) any { return in.sliceOdds(dt, n, 8) }

// sliceOdds is slice with the odds of a wrong length, 1 in odds/2, and of
// the other dtype, 1 in odds.
func (in *input) sliceOdds(dt device.DType, n, odds int) any {
	switch in.intn(odds) {
	case 0:
		n++
	case 1:
		n--
	}
	if n < 0 || n > 4096 {
		n = in.intn(9)
	}
	if in.intn(odds) == 0 {
		dt = device.Float32 + device.Float64 - dt
	}
	vals := make([]float64, n)
	for i := range vals {
		if in.intn(4) == 0 {
			vals[i] = in.float()
		} else {
			vals[i] = float64(in.intn(9)) - 4
		}
	}
	if dt == device.Float32 {
		out := make([]float32, n)
		for i, v := range vals {
			out[i] = float32(v)
		}
		return out
	}
	return vals
}

// hyper is a hyperparameter's value: mostly a sensible one, else any.
func (in *input) hyper() float64 {
	if in.intn(4) == 0 {
		return in.float()
	}
	return []float64{0, 0.01, 0.1, 0.5, 1, 1e-8}[in.intn(6)]
}

func (in *input) options() []optim.Option {
	var opts []optim.Option
	for range in.intn(4) {
		switch in.intn(9) {
		case 0:
			opts = append(opts, optim.LR(in.hyper()))
		case 1:
			opts = append(opts, optim.Eps(in.hyper()))
		case 2:
			opts = append(opts, optim.LRDecay(in.hyper()))
		case 3:
			opts = append(opts, optim.WeightDecay(in.hyper()))
		case 4:
			opts = append(opts, optim.InitialAccumulatorValue(in.hyper()))
		case 5:
			opts = append(opts, optim.Maximize(in.intn(2) == 1))
		case 6:
			opts = append(opts, optim.SkipNonFinite(in.intn(4) != 0))
		case 7:
			opts = append(opts, optim.UpdateRule(fuzzRules[in.intn(len(fuzzRules))]))
		case 8:
			if in.intn(4) == 0 {
				opts = append(opts, nil)
			}
		}
	}
	return opts
}

// params decodes a model: names, dtypes, shapes (sometimes overflowing),
// starting values and options.
func (in *input) params() []optim.Param {
	ps := make([]optim.Param, in.intn(5))
	for i := range ps {
		p := optim.Param{Name: fmt.Sprint("p", i)}
		if in.intn(8) == 0 {
			p.Name = fuzzNames[in.intn(len(fuzzNames))]
		}
		dt := device.Float32 + device.DType(in.intn(2))
		n := 0
		switch in.intn(4) {
		case 0: // nil shape
			n = in.intn(9)
		case 1, 2: // rows × width
			rows, width := in.intn(6), 1+in.intn(4)
			p.Shape, n = []int{rows, width}, rows*width
		case 3: // any dimensions
			p.Shape = make([]int, in.intn(4))
			n = 1
			for k := range p.Shape {
				p.Shape[k] = fuzzDims[in.intn(len(fuzzDims))]
				n *= p.Shape[k] // may wrap: the slice's length is clamped
			}
		}
		if n < 0 || n > 64 {
			n = in.intn(9)
		}
		p.Init = in.sliceOdds(dt, n, 32)
		p.Options = in.options()
		ps[i] = p
	}
	return ps
}

// fallbackParams is the model used when New refuses the decoded one, so
// that every input goes on to drive calls.
func fallbackParams() []optim.Param {
	return []optim.Param{
		{Name: "a", Init: []float32{1, 2, 3, 4, 5, 6}, Shape: []int{2, 3}, Options: []optim.Option{optim.SkipNonFinite(true)}},
		{Name: "b", Init: []float64{0.5, -1, 2, 0}},
		{Name: "emb", Init: make([]float32, 10), Shape: []int{5, 2}, Options: []optim.Option{optim.SkipNonFinite(true)}},
	}
}

// runCalls decodes and runs one sequence of calls, checking the state
// around each.
func runCalls(t *testing.T, data []byte, c *callCounts) {
	if c == nil {
		c = &callCounts{}
	}
	in := &input{b: data}
	dev := cpu.New()
	defer dev.Close()
	opt, err := optim.New(dev, in.params(), in.options()...)
	c.models++
	if err != nil {
		if opt != nil {
			t.Fatalf("New returned an optimizer and an error: %v", err)
		}
		c.refusedNew++
		if opt, err = optim.New(dev, fallbackParams()); err != nil {
			t.Fatal(err)
		}
	}
	defer opt.Close()
	infos := opt.Tensors()
	names := []string{"nope"}
	for _, ti := range infos {
		names = append(names, ti.Name)
	}
	info := func() optim.TensorInfo { // a tensor, or an unknown name
		if len(infos) > 0 && in.intn(8) != 0 {
			return infos[in.intn(len(infos))]
		}
		return optim.TensorInfo{Name: "nope", DType: device.Float32, Len: 1, Shape: []int{1}}
	}
	rows := func() []int64 {
		idx := make([]int64, in.intn(6))
		for i := range idx {
			idx[i] = fuzzRows[in.intn(len(fuzzRows))]
		}
		return idx
	}
	saved := takeSnapshot(t, opt).state
	for step := 0; step < 64 && !in.done(); step++ {
		before := takeSnapshot(t, opt)
		op := in.intn(14)
		pure := true // a call that may not change the state, even when it succeeds
		var err error
		var what string
		switch op {
		case 0:
			ti := info()
			what = "SetGrad " + ti.Name
			err = opt.SetGrad(ti.Name, in.slice(ti.DType, ti.Len))
		case 1, 2:
			ti := info()
			if op == 1 {
				what = "Grad32 " + ti.Name
				var g []float32
				if g, err = opt.Grad32(ti.Name); err == nil {
					if cap(g) != len(g) || len(g) != ti.Len {
						t.Fatalf("Grad32(%q): len %d cap %d, tensor of %d", ti.Name, len(g), cap(g), ti.Len)
					}
					for i := range g {
						g[i] = float32(in.float())
					}
				}
			} else {
				what = "Grad64 " + ti.Name
				var g []float64
				if g, err = opt.Grad64(ti.Name); err == nil {
					if cap(g) != len(g) || len(g) != ti.Len {
						t.Fatalf("Grad64(%q): len %d cap %d, tensor of %d", ti.Name, len(g), cap(g), ti.Len)
					}
					for i := range g {
						g[i] = in.float()
					}
				}
			}
		case 3:
			ti := info()
			idx := rows()
			what = "SetSparseGrad " + ti.Name
			err = opt.SetSparseGrad(ti.Name, idx, in.slice(ti.DType, rowsLen(ti, len(idx))))
		case 4:
			what, pure = "Step", false
			err = opt.Step()
		case 5:
			what = "ZeroGrad"
			opt.ZeroGrad()
		case 6:
			what, pure = "SetHyper", false
			var ns []string
			for range in.intn(3) {
				ns = append(ns, names[in.intn(len(names))])
			}
			err = opt.SetHyper(ns, in.options()...)
		case 7:
			what = "State"
			var st optim.State
			if st, err = opt.State(); err == nil {
				saved = st
			}
		case 8:
			what, pure = "LoadState", false
			err = opt.LoadState(damage(in, cloneState(saved)))
		case 9:
			ti := info()
			what = "Read " + ti.Name
			err = opt.Read(ti.Name, in.slice(ti.DType, ti.Len))
		case 10:
			ti := info()
			idx := rows()
			what = "ReadRows " + ti.Name
			err = opt.ReadRows(ti.Name, idx, in.slice(ti.DType, rowsLen(ti, len(idx))))
		case 11:
			dt := fuzzHalf[in.intn(len(fuzzHalf))]
			what = fmt.Sprint("SetGradPrecision ", dt)
			err = opt.SetGradPrecision(dt)
		case 12:
			ti := info()
			k := in.intn(4) - 1
			what = fmt.Sprint("ReadState ", ti.Name, " ", k)
			err = opt.ReadState(ti.Name, k, in.slice(ti.DType, ti.Len))
		case 13:
			what = "Tensors, Stats, Sync"
			for _, ti := range opt.Tensors() {
				if ti.Step < 0 {
					t.Fatalf("tensor %q at step %d", ti.Name, ti.Step)
				}
			}
			_ = opt.Stats()
			err = opt.Sync()
		}
		c.calls++
		if err != nil {
			c.refusal(err)
		} else if op == 4 {
			c.steps++
		}
		if err != nil || pure {
			after := takeSnapshot(t, opt)
			if d := before.diff(after); d != "" {
				t.Fatalf("%s (err %v) changed the state: %s", what, err, d)
			}
			if err != nil {
				c.checked++
			}
		}
		if err != nil && errors.Is(err, optim.ErrClosed) {
			t.Fatalf("%s: %v on an open optimizer", what, err)
		}
	}
}

// rowsLen is the length of k rows of a tensor (shape[0] × the rest), or
// -1 (any small length) when that is more than 4096.
func rowsLen(ti optim.TensorInfo, k int) int {
	w := ti.Len
	if len(ti.Shape) > 0 {
		w = 1
		for _, d := range ti.Shape[1:] {
			w *= d
		}
	}
	if w > 4096 || k*w > 4096 {
		return -1
	}
	return k * w
}

// damage changes a saved state in one of the ways a state from elsewhere
// could differ, or not at all.
func damage(in *input, st optim.State) optim.State {
	ts := st.Tensors
	if len(ts) == 0 {
		return st
	}
	i := in.intn(len(ts))
	switch in.intn(13) {
	case 1:
		j := in.intn(len(ts))
		ts[i], ts[j] = ts[j], ts[i]
	case 2:
		st.Tensors = slices.Delete(ts, i, i+1)
	case 3:
		st.Tensors = append(ts, ts[i])
	case 4:
		if _, ok := ts[i].Param.([]float32); ok {
			ts[i].Param = make([]float64, len(ts[i].Param.([]float32)))
		} else {
			ts[i].Param = make([]float32, len(ts[i].Param.([]float64)))
		}
	case 5:
		switch p := ts[i].Param.(type) {
		case []float32:
			ts[i].Param = append(p, 1)
		case []float64:
			ts[i].Param = p[:max(0, len(p)-1)]
		}
	case 6:
		ts[i].State = ts[i].State[:in.intn(len(ts[i].State)+1)]
		if in.intn(2) == 0 {
			ts[i].State = append(ts[i].State, ts[i].Param)
		}
	case 7:
		h := &ts[i].Hyper
		for _, o := range in.options() {
			if o != nil {
				o(h)
			}
		}
	case 8:
		ts[i].Step = []int64{-1, math.MaxInt64, math.MaxInt64 - 1, math.MinInt64, 7}[in.intn(5)]
	case 9:
		ts[i].Shape = append(ts[i].Shape, 1)
		if in.intn(2) == 0 {
			ts[i].Shape = []int{fuzzDims[in.intn(len(fuzzDims))]}
		}
	case 10:
		ts[i].Name = fuzzNames[in.intn(len(fuzzNames))]
	case 11:
		switch p := ts[i].Param.(type) {
		case []float32:
			if len(p) > 0 {
				p[0] = float32(math.NaN())
			}
		case []float64:
			if len(p) > 0 {
				p[0] = math.Inf(-1)
			}
		}
	case 12:
		ts[i].Param = nil
	}
	return st
}
