package sharded_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
	"github.com/adagrad-go/adagrad/sharded"
)

// This file is the check every world runs (in-process here, under mpirun
// in mpi_test.go): N ranks train a model of mixed dtypes, shapes and
// gradients, and every rank compares the sharded optimizer with one
// optim.Adagrad that it feeds, step by step, the gradients of all ranks
// summed in rank order (dense) or concatenated in rank order (sparse).
// Every rank can compute every rank's gradients: they are drawn from a
// generator seeded by (scenario, rank, step, tensor).

// scenario is one set of hyperparameters over the shared model.
type scenario struct {
	name  string
	opts  []optim.Option
	steps int
	// dense and sparse per-tensor options, on top of opts.
	denseOpts, sparseOpts []optim.Option
	// nonFinite, when > 0, puts a NaN in rank 0's dense gradient of b32
	// at that step, and an Inf in the last rank's rows of emb64 at the
	// next: SkipNonFinite refuses both.
	nonFinite int
}

func scenarios() []scenario {
	return []scenario{
		{name: "Defaults", steps: 6},
		{name: "DecayAccumulatorEps", steps: 6, opts: []optim.Option{optim.LR(0.5), optim.LRDecay(0.3), optim.InitialAccumulatorValue(0.1), optim.Eps(1e-3)}},
		{name: "Maximize", steps: 5, opts: []optim.Option{optim.LR(0.2), optim.Maximize(true)}},
		{name: "WeightDecay", steps: 5, denseOpts: []optim.Option{optim.WeightDecay(0.05)}, sparseOpts: []optim.Option{optim.LR(0.3)}},
		{name: "EpsInside", steps: 5, opts: []optim.Option{optim.UpdateRule(device.AdagradEpsInside), optim.Eps(1e-4)}},
		{name: "Proximal", steps: 5, opts: []optim.Option{optim.TF1ProximalDefaults(0.3), optim.L1(0.01), optim.L2(0.1)}},
		{name: "DualAveraging", steps: 5, opts: []optim.Option{optim.TF1AdagradDADefaults(0.3), optim.L1(0.01), optim.L2(0.1)}},
		{name: "JAX", steps: 5, opts: []optim.Option{optim.JAXDefaults(0.1)}},
		{name: "Rowwise", steps: 5, opts: []optim.Option{optim.UpdateRule(device.AdagradRowwise), optim.LR(0.3)},
			denseOpts:  []optim.Option{optim.WeightDecay(0.05), optim.DecoupledWeightDecay(true)},
			sparseOpts: []optim.Option{optim.WeightDecay(0.01)}},
		{name: "SkipNonFinite", steps: 6, nonFinite: 3, opts: []optim.Option{optim.SkipNonFinite(true), optim.LR(0.05)}},
	}
}

// tensorSpec is one tensor of the shared model.
type tensorSpec struct {
	name   string
	dt     device.DType
	shape  []int
	sparse bool
}

// model has float32 and float64 tensors, sparse and dense, 2-D, 1-D and a
// scalar, and one with fewer rows than three ranks.
var model = []tensorSpec{
	{"emb32", device.Float32, []int{13, 3}, true},
	{"w64", device.Float64, []int{5, 4}, false},
	{"b32", device.Float32, []int{6}, false},
	{"emb64", device.Float64, []int{7, 2}, true},
	{"s64", device.Float64, []int{}, false},
	{"tiny32", device.Float32, []int{2, 5}, false},
}

// count is the number of elements of a shape.
func count(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func rowsWidth(shape []int) (int, int) {
	if len(shape) == 0 {
		return 1, 1
	}
	return shape[0], count(shape) / shape[0]
}

// draw returns values of a wide spread of magnitudes (so that the order
// of additions shows in the bits), with the occasional -0.
func draw(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		switch rng.IntN(8) {
		case 0:
			v[i] = math.Copysign(0, -1)
		case 1:
			v[i] = rng.NormFloat64() * 1e3
		case 2:
			v[i] = rng.NormFloat64() * 1e-3
		default:
			v[i] = rng.NormFloat64()
		}
	}
	return v
}

func as(dt device.DType, v []float64) any {
	if dt == device.Float64 {
		return v
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func params(sc scenario, seed uint64) []optim.Param {
	rng := rand.New(rand.NewPCG(seed, 0))
	var ps []optim.Param
	for _, ts := range model {
		p := optim.Param{Name: ts.name, Init: as(ts.dt, draw(rng, count(ts.shape))), Shape: slices.Clone(ts.shape)}
		if ts.sparse {
			p.Options = sc.sparseOpts
		} else {
			p.Options = sc.denseOpts
		}
		ps = append(ps, p)
	}
	return ps
}

// gradient is one rank's gradient for one tensor at one step.
type gradient struct {
	kind    string // "", "dense", "sparse"
	dense   any
	indices []int64
	values  any
}

// gradientOf draws rank's gradient for tensor j at step: dense tensors
// skipped by some ranks at some steps, sparse ones with duplicate rows,
// none, or no gradient at all.
func gradientOf(sc scenario, rank, size, step, j int) gradient {
	ts := model[j]
	rng := rand.New(rand.NewPCG(uint64(rank*1000+step), uint64(j)))
	inf := sc.nonFinite > 0 && sc.nonFinite+1 == step && rank == size-1 && ts.name == "emb64"
	nan := sc.nonFinite == step && rank == 0 && ts.name == "b32"
	if (rank+step+j)%5 == 4 && !inf && !nan {
		return gradient{} // this rank gives this tensor nothing this step
	}
	rows, width := rowsWidth(ts.shape)
	if !ts.sparse {
		v := draw(rng, rows*width)
		if nan {
			v[len(v)/2] = math.NaN()
		}
		return gradient{kind: "dense", dense: as(ts.dt, v)}
	}
	k := rng.IntN(7) // may be 0: a sparse gradient with no rows
	if inf {
		k = max(k, 1)
	}
	g := gradient{kind: "sparse", indices: make([]int64, k)}
	for i := range g.indices {
		g.indices[i] = int64(rng.IntN(rows))
		if i > 0 && rng.IntN(3) == 0 {
			g.indices[i] = g.indices[i-1] // duplicates
		}
	}
	v := draw(rng, k*width)
	if inf {
		v[0] = math.Inf(1)
	}
	g.values = as(ts.dt, v)
	return g
}

// give hands g to an optimizer (sharded or not).
type gradSink interface {
	SetGrad(name string, g any) error
	SetSparseGrad(name string, indices []int64, values any) error
}

func (g gradient) give(to gradSink, name string) error {
	switch g.kind {
	case "dense":
		return to.SetGrad(name, g.dense)
	case "sparse":
		return to.SetSparseGrad(name, g.indices, g.values)
	}
	return nil
}

// combine is what one process is given for tensor j: the ranks' dense
// gradients summed in rank order (a rank that gave none counting as zeros),
// or their rows concatenated in rank order.
func combine(sc scenario, ranks, step, j int) gradient {
	ts := model[j]
	gs := make([]gradient, ranks)
	given := false
	for r := range ranks {
		gs[r] = gradientOf(sc, r, ranks, step, j)
		given = given || gs[r].kind != ""
	}
	switch {
	case !given:
		return gradient{}
	case ts.sparse && ts.dt == device.Float64:
		return concatRanks[float64](gs)
	case ts.sparse:
		return concatRanks[float32](gs)
	case ts.dt == device.Float64:
		return gradient{kind: "dense", dense: sumRanks[float64](gs, count(ts.shape))}
	}
	return gradient{kind: "dense", dense: sumRanks[float32](gs, count(ts.shape))}
}

func sumRanks[T float32 | float64](gs []gradient, n int) []T {
	var acc []T
	for r, g := range gs {
		v, _ := g.dense.([]T)
		if v == nil {
			v = make([]T, n)
		}
		if r == 0 {
			acc = slices.Clone(v)
			continue
		}
		for i := range acc {
			acc[i] += v[i]
		}
	}
	return acc
}

func concatRanks[T float32 | float64](gs []gradient) gradient {
	out := gradient{kind: "sparse", indices: []int64{}}
	values := []T{}
	for _, g := range gs {
		if g.kind == "sparse" {
			out.indices = append(out.indices, g.indices...)
			values = append(values, g.values.([]T)...)
		}
	}
	out.values = values
	return out
}

// openDevice opens the device the ranks' shards live on: the CPU, or the
// OpenCL device when the tests are built with -tags opencl (opencl_test.go).
// The reference always runs on the CPU: the backends agree bit for bit.
var openDevice = func() (device.Backend, error) { return cpu.New(), nil }

// run is one rank's part of a scenario over c: it returns the first
// difference from the reference, or the first unexpected error.
func run(c collective.Comm, sc scenario) error {
	dev, err := openDevice()
	if err != nil {
		return err
	}
	refDev := cpu.New()
	defer dev.Close()
	defer refDev.Close()
	before := c.Stats()
	opt, err := sharded.New(c, dev, params(sc, 1), sc.opts...)
	if err != nil {
		return err
	}
	defer opt.Close()
	ref, err := optim.New(refDev, params(sc, 1), sc.opts...)
	if err != nil {
		return err
	}
	defer ref.Close()
	if err := train(c, sc, opt, ref, 1, sc.steps); err != nil {
		return err
	}
	if got, want := opt.Traffic().Total(), c.Stats().Sub(before).BytesSent; got != want {
		return fmt.Errorf("Traffic counts %d bytes sent, the Comm %d", got, want)
	}
	return nil
}

// train runs steps first..last on both optimizers and compares them after
// each.
func train(c collective.Comm, sc scenario, opt *sharded.Adagrad, ref *optim.Adagrad, first, last int) error {
	for step := first; step <= last; step++ {
		for j, ts := range model {
			if err := gradientOf(sc, c.Rank(), c.Size(), step, j).give(opt, ts.name); err != nil {
				return fmt.Errorf("step %d: %s: %w", step, ts.name, err)
			}
			if err := combine(sc, c.Size(), step, j).give(ref, ts.name); err != nil {
				return fmt.Errorf("step %d: reference: %s: %w", step, ts.name, err)
			}
		}
		errS, errR := opt.Step(), ref.Step()
		if sc.nonFinite > 0 && (step == sc.nonFinite || step == sc.nonFinite+1) {
			if !errors.Is(errS, optim.ErrNonFinite) || !errors.Is(errR, optim.ErrNonFinite) {
				return fmt.Errorf("step %d: sharded %v, reference %v; want optim.ErrNonFinite from both", step, errS, errR)
			}
			opt.ZeroGrad()
			ref.ZeroGrad()
		} else if errS != nil || errR != nil {
			return fmt.Errorf("step %d: sharded %v, reference %v", step, errS, errR)
		}
		if err := compare(c, opt, ref); err != nil {
			return fmt.Errorf("after step %d: %w", step, err)
		}
	}
	return nil
}

// compare checks everything the sharded optimizer shows against the
// reference, bit for bit.
func compare(c collective.Comm, opt *sharded.Adagrad, ref *optim.Adagrad) error {
	if got, want := opt.Tensors(), ref.Tensors(); !reflect.DeepEqual(got, want) {
		return fmt.Errorf("Tensors() = %+v, want %+v", got, want)
	}
	got, err := opt.State()
	if err != nil {
		return err
	}
	want, err := ref.State()
	if err != nil {
		return err
	}
	if err := sameState(got, want); err != nil {
		return fmt.Errorf("State: %w", err)
	}
	for _, ts := range model {
		n := count(ts.shape)
		a, b := zeros(ts.dt, n), zeros(ts.dt, n)
		if err := errors.Join(opt.Read(ts.name, a), ref.Read(ts.name, b)); err != nil {
			return err
		}
		if i := firstDiff(a, b); i >= 0 {
			return fmt.Errorf("Read(%s): element %d differs", ts.name, i)
		}
		// Every rank asks for rows of its own, duplicates included; the
		// last rank for none.
		rows, width := rowsWidth(ts.shape)
		var ask []int64
		if c.Rank() < c.Size()-1 || c.Size() == 1 {
			ask = []int64{int64((c.Rank() * 3) % rows), 0, int64(rows - 1), int64((c.Rank() * 3) % rows)}
		}
		a, b = zeros(ts.dt, len(ask)*width), zeros(ts.dt, len(ask)*width)
		if err := errors.Join(opt.ReadRows(ts.name, ask, a), ref.ReadRows(ts.name, ask, b)); err != nil {
			return err
		}
		if i := firstDiff(a, b); i >= 0 {
			return fmt.Errorf("ReadRows(%s, %v): element %d differs", ts.name, ask, i)
		}
	}
	return nil
}

func zeros(dt device.DType, n int) any {
	if dt == device.Float64 {
		return make([]float64, n)
	}
	return make([]float32, n)
}

// firstDiff returns the first element whose bits differ, or -1.
func firstDiff(a, b any) int {
	switch x := a.(type) {
	case []float32:
		y, ok := b.([]float32)
		if !ok || len(x) != len(y) {
			return 0
		}
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				return i
			}
		}
	case []float64:
		y, ok := b.([]float64)
		if !ok || len(x) != len(y) {
			return 0
		}
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				return i
			}
		}
	default:
		return 0
	}
	return -1
}

// sameState compares two states bit for bit.
func sameState(got, want optim.State) error {
	if len(got.Tensors) != len(want.Tensors) {
		return fmt.Errorf("%d tensors, want %d", len(got.Tensors), len(want.Tensors))
	}
	for i, g := range got.Tensors {
		w := want.Tensors[i]
		switch {
		case g.Name != w.Name || !slices.Equal(g.Shape, w.Shape) || g.Step != w.Step || g.Hyper != w.Hyper:
			return fmt.Errorf("tensor %d: %s %v step %d %+v, want %s %v step %d %+v", i, g.Name, g.Shape, g.Step, g.Hyper, w.Name, w.Shape, w.Step, w.Hyper)
		case len(g.State) != len(w.State):
			return fmt.Errorf("%s: %d states, want %d", g.Name, len(g.State), len(w.State))
		}
		if j := firstDiff(g.Param, w.Param); j >= 0 {
			return fmt.Errorf("%s: parameter %d differs", g.Name, j)
		}
		for k := range g.State {
			if j := firstDiff(g.State[k], w.State[k]); j >= 0 {
				return fmt.Errorf("%s: state %d, element %d differs", g.Name, k, j)
			}
		}
	}
	return nil
}
