package optimtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/device/devicetest"
	"github.com/adagrad-go/adagrad/optim"
)

// modelSizes covers empty and single-element tensors, odd lengths, lengths
// either side of every vector width (4, 8, 16 lanes) and one longer than a
// CPU chunk, so that the arenas' alignment and merged ranges are
// exercised.
var modelSizes = []int{0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 1000, 4097, 3<<15 + 5}

// modelHypers are assigned round-robin, so that tensors with equal
// hyperparameters are not always neighbours in the order given to New:
// every hyperparameter, and every rule.
var modelHypers = []optim.Hyper{
	optim.DefaultHyper(),
	{LR: 0.1, Eps: 1e-10, LRDecay: 0.05, WeightDecay: 0.01, InitialAccumulatorValue: 0.1},
	{LR: 0.05, Eps: 0, Maximize: true, InitialAccumulatorValue: 0.5},
	{LR: 0.3, Eps: 1e-6, WeightDecay: 0.5, Maximize: true, LRDecay: 1, Rule: device.AdagradEpsInside},
	{LR: 0.01, Eps: 1e-3, LRDecay: 0.1, InitialAccumulatorValue: 0.2, Rule: device.AdagradEpsInside, Seed: 7},
	{LR: 0.05, Eps: 1e-7, InitialAccumulatorValue: 0.1, WeightDecay: 0.01, Rule: device.AdagradTF},
	{LR: 0.1, Eps: 1e-7, InitialAccumulatorValue: 0.1, LRDecay: 0.05, Maximize: true, Rule: device.AdagradOptax},
	{LR: 0.2, InitialAccumulatorValue: 0.1, Rule: device.AdagradNoEps},
	{LR: 0.05, InitialAccumulatorValue: 1, WeightDecay: 0.1, Rule: device.AdagradGloVe},
	{LR: 0.3, InitialAccumulatorValue: 0.1, L1: 0.05, L2: 0.1, Rule: device.ProximalAdagrad},
	{LR: 0.1, InitialAccumulatorValue: 0.1, L2: 0.5, LRDecay: 0.1, Rule: device.ProximalAdagrad},
	{LR: 0.2, InitialAccumulatorValue: 0.1, L1: 0.1, L2: 0.2, Rule: device.AdagradDA, Seed: 5},
	{LR: 0.1, InitialAccumulatorValue: 0.3, Maximize: true, Rule: device.AdagradDA},
	{LR: 0.1, Momentum: 0.9, Rule: device.AdagradJAX, Seed: 9},
	{LR: 0.1, Eps: 1e-8, WeightDecay: 0.01, InitialAccumulatorValue: 0.1, Rule: device.AdagradRowwise, Seed: 1 << 40},
	{LR: 0.05, Eps: 1e-10, WeightDecay: 0.1, DecoupledWeightDecay: true, Maximize: true, LRDecay: 0.05, Rule: device.AdagradRowwise},
	{LR: 0.2, Eps: 1e-6, WeightDecay: 0.01, LRDecay: 0.1, InitialAccumulatorValue: 0.3, Rule: device.Adagrad8Bit, Seed: 3},
}

const modelSteps = 4

// model is a deterministic random model: tensors of both dtypes (where
// the backend has float64), initial values and per-step gradients, in
// float64 (exact in float32 for float32 tensors).
type model struct {
	dts   []device.DType
	init  [][]float64
	hyper []optim.Hyper
	grads [][][]float64 // grads[step][tensor]; nil: no gradient that step
	// gradDT is the half type gradients travel in (SetGradPrecision), 0
	// for float32.
	gradDT device.DType
}

// gradRounded reports whether tensor k's gradients travel in m.gradDT (or
// any half type, when it is 0): float32 tensors take either half type,
// half tensors only their own (optim.Adagrad.SetGradPrecision).
func (m *model) gradRounded(k int) bool {
	return !m.dts[k].Half() || m.gradDT == 0 || m.dts[k] == m.gradDT
}

// newModel makes a model of the rules dev runs: enough tensors that every
// hyperparameter set of modelHypers meets every dtype, tensor k of size
// modelSizes[k%len(modelSizes)], hyperparameters modelHypers[k%H] and
// dtype dtypes[(k+k/H)%len(dtypes)] (H = len(modelHypers)), so that
// neighbours differ in both.
func newModel(dev device.Backend, dtypes []device.DType, seed uint64) *model {
	rng := rand.New(rand.NewPCG(seed, 7))
	m := &model{}
	caps := dev.Capabilities()
	hs := len(modelHypers)
	for k := range max(len(modelSizes), hs*len(dtypes)) {
		n := modelSizes[k%len(modelSizes)]
		dt := dtypes[(k+k/hs)%len(dtypes)]
		h := modelHypers[k%hs]
		if !caps.Supports(ruleOf(h), dt, false) {
			h = asAdagrad(h)
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = narrowTo(dt, rng.NormFloat64())
		}
		m.dts, m.init, m.hyper = append(m.dts, dt), append(m.init, v), append(m.hyper, h)
	}
	for step := range modelSteps {
		row := make([][]float64, len(m.init))
		for k, v := range m.init {
			n := len(v)
			if step == 2 && k%3 == 1 {
				continue // skipped this step, as a PyTorch param whose grad is None
			}
			g := make([]float64, n)
			for i := range g {
				g[i] = narrowTo(m.dts[k], rng.NormFloat64()*(0.5+float64(step)))
			}
			if n == 1000 {
				copy(g[10*step:], specials(m.dts[k]))
			}
			row[k] = g
		}
		m.grads = append(m.grads, row)
	}
	return m
}

// asAdagrad is h for a backend that does not run h's rule: Adagrad with
// the hyperparameters Adagrad reads.
func asAdagrad(h optim.Hyper) optim.Hyper {
	return optim.Hyper{LR: h.LR, Eps: h.Eps, LRDecay: h.LRDecay, WeightDecay: h.WeightDecay,
		InitialAccumulatorValue: h.InitialAccumulatorValue, Maximize: h.Maximize, SkipNonFinite: h.SkipNonFinite, Seed: h.Seed}
}

// specials are zeros, values whose square underflows or overflows, the
// largest finite value and non-finite ones.
func specials(dt device.DType) []float64 {
	huge := 1e300
	if dt == device.Float32 {
		huge = 3.4e38
	}
	return []float64{0, math.Copysign(0, -1), 1e-30, -1e-30, 1e20, -1e20, huge, math.Inf(1), math.Inf(-1), math.NaN()}
}

func (m *model) name(k int) string { return fmt.Sprintf("t%02d", k) }

func (m *model) names() []string {
	out := make([]string, len(m.init))
	for k := range out {
		out[k] = m.name(k)
	}
	return out
}

func (m *model) params() []optim.Param {
	ps := make([]optim.Param, len(m.init))
	for k, v := range m.init {
		ps[k] = optim.Param{Name: m.name(k), Init: typed(m.dts[k].Compute(), v), Options: []optim.Option{optim.WithHyper(m.hyper[k])}}
		if m.dts[k].Half() {
			ps[k].DType = m.dts[k]
		}
	}
	return ps
}

// runSteps feeds steps [from, to) of the model to opt.
func (m *model) runSteps(opt *optim.Adagrad, from, to int) error {
	for step := from; step < to; step++ {
		for k, g := range m.grads[step] {
			if g == nil {
				continue
			}
			if err := opt.SetGrad(m.name(k), typed(m.dts[k].Compute(), g)); err != nil {
				return fmt.Errorf("step %d: SetGrad(%s): %w", step, m.name(k), err)
			}
		}
		if err := opt.Step(); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
	}
	return nil
}

// run trains the whole model on dev, with setup applied to the optimizer
// first, and reads the result back.
func (m *model) run(dev device.Backend, setup func(*optim.Adagrad) error) (_ *result, err error) {
	opt, err := optim.New(dev, m.params())
	if err != nil {
		return nil, err
	}
	defer closeInto(&err, opt)
	if setup != nil {
		if err := setup(opt); err != nil {
			return nil, err
		}
	}
	if err := m.runSteps(opt, 0, modelSteps); err != nil {
		return nil, err
	}
	if err := checkSteps(opt, m.stepCounts(modelSteps)); err != nil {
		return nil, err
	}
	return readResult(opt)
}

// stepCounts is each tensor's step count after the first steps.
func (m *model) stepCounts(steps int) []int64 {
	out := make([]int64, len(m.init))
	for s := range steps {
		for k, g := range m.grads[s] {
			if g != nil {
				out[k]++
			}
		}
	}
	return out
}

// checkSteps compares the optimizer's step counts with want.
func checkSteps(opt *optim.Adagrad, want []int64) error {
	for k, ti := range opt.Tensors() {
		if ti.Step != want[k] {
			return fmt.Errorf("tensor %s took %d steps, want %d", ti.Name, ti.Step, want[k])
		}
	}
	return nil
}

// reference runs the model through the references; round, when not nil,
// changes the gradients first (as half-precision transfer rounds them).
func (m *model) reference(round func(float64) float64) (*result, error) {
	refs := make([]*refTensor, len(m.init))
	for k, v := range m.init {
		refs[k] = newRefTensor(m.dts[k], v, nil, m.hyper[k])
		refs[k].name = m.name(k)
	}
	for step := range modelSteps {
		for k, g := range m.grads[step] {
			if g == nil {
				continue
			}
			if round != nil && m.dts[k].Compute() == device.Float32 && m.gradRounded(k) {
				r := make([]float64, len(g))
				for i, x := range g {
					r[i] = round(x)
				}
				g = r
			}
			if err := refs[k].dense(g); err != nil {
				return nil, err
			}
		}
	}
	return referenceResult(m.names(), refs), nil
}

// testModel runs the model bitwise against the references (every
// hyperparameter and rule, tensors skipped at a step, non-finite
// gradients, both dtypes in one optimizer) and, for a backend other than
// the CPU, against the CPU backend.
func testModel(t *testing.T, open devicetest.Opener) {
	dev := devicetest.MustOpen(t, open)
	m := newModel(dev, realDTypes(dev), 1)
	holdTo(t, dev, func(dev device.Backend) (*result, error) { return m.run(dev, nil) }, func() (*result, error) { return m.reference(nil) })
}

// testHalfGrads sends float32 gradients as bfloat16 and float16: the
// result is bitwise the reference run on the rounded gradients (rounded
// by devicetest.HalfBits, apart from the optimizer's rounding), and, for a
// backend other than the CPU, the CPU backend's.
func testHalfGrads(t *testing.T, open devicetest.Opener) {
	dev := devicetest.MustOpen(t, open)
	for _, dt := range []device.DType{device.BFloat16, device.Float16} {
		t.Run(dt.String(), func(t *testing.T) {
			if !dev.Capabilities().HasDType(dt) {
				t.Skipf("%v takes no %v gradients", dev, dt)
			}
			m := newModel(dev, realDTypes(dev), 9)
			setup := func(opt *optim.Adagrad) error { return opt.SetGradPrecision(dt) }
			round := func(x float64) float64 { return float64(devicetest.HalfValue(dt, devicetest.HalfBits(dt, float32(x)))) }
			holdTo(t, dev, func(dev device.Backend) (*result, error) { return m.run(dev, setup) }, func() (*result, error) { return m.reference(round) })
		})
	}
}

// testHalfParams runs the model with half-precision parameters (bfloat16
// and float16 tensors beside float32 ones, every rule, stochastic
// rounding under several seeds) bitwise against the references and, for a
// backend other than the CPU, the CPU backend; then with gradients sent in
// each tensor's half type.
func testHalfParams(t *testing.T, open devicetest.Opener) {
	dev := devicetest.MustOpen(t, open)
	var dts []device.DType
	for _, dt := range []device.DType{device.BFloat16, device.Float16, device.Float32} {
		if dev.Capabilities().HasDType(dt) && dev.Capabilities().Supports(device.Adagrad, dt, false) {
			dts = append(dts, dt)
		}
	}
	if len(dts) < 2 {
		t.Skipf("%v runs no half-precision parameters", dev)
	}
	m := newModel(dev, dts, 11)
	holdTo(t, dev, func(dev device.Backend) (*result, error) { return m.run(dev, nil) }, func() (*result, error) { return m.reference(nil) })
	for _, gdt := range []device.DType{device.BFloat16, device.Float16} {
		t.Run(gdt.String()+"-grads", func(t *testing.T) {
			if !dev.Capabilities().HasDType(gdt) {
				t.Skipf("%v takes no %v gradients", dev, gdt)
			}
			m.gradDT = gdt
			defer func() { m.gradDT = 0 }()
			setup := func(opt *optim.Adagrad) error { return opt.SetGradPrecision(gdt) }
			round := func(x float64) float64 {
				return float64(devicetest.HalfValue(gdt, devicetest.HalfBits(gdt, float32(x))))
			}
			holdTo(t, dev, func(dev device.Backend) (*result, error) { return m.run(dev, setup) }, func() (*result, error) { return m.reference(round) })
		})
	}
}
