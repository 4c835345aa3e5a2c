package devicetest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// modelSizes covers empty and single-element tensors, odd lengths, lengths
// either side of every vector width (4, 8, 16 lanes) and one longer than a
// CPU chunk, so that chunk and vector tails are exercised.
var modelSizes = []int{0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 1000, 4097, 3<<15 + 5}

// modelHypers are assigned round-robin, so that tensors with equal
// hyperparameters are not neighbours in the order given to New.
var modelHypers = []optim.Hyper{
	optim.DefaultHyper(),
	{LR: 0.1, Eps: 1e-10, LRDecay: 0.05, WeightDecay: 0.01, InitialAccumulatorValue: 0.1},
	{LR: 0.05, Eps: 0, Maximize: true},
	{LR: 0.3, Eps: 1e-6, WeightDecay: 0.5, Maximize: true, LRDecay: 1},
}

const modelSteps = 4

// model is a deterministic random model: initial values and per-step
// gradients of every tensor, in float64 (exact in float32 for dt Float32).
type model struct {
	dt    device.DType
	init  [][]float64
	grads [][][]float64 // grads[step][tensor]; nil: no gradient that step
}

func newModel(dt device.DType, seed uint64) *model {
	rng := rand.New(rand.NewPCG(seed, 7))
	round := func(x float64) float64 {
		if dt == device.Float32 {
			return float64(float32(x))
		}
		return x
	}
	m := &model{dt: dt}
	for _, n := range modelSizes {
		v := make([]float64, n)
		for i := range v {
			v[i] = round(rng.NormFloat64())
		}
		m.init = append(m.init, v)
	}
	huge := 1e300
	if dt == device.Float32 {
		huge = 3.4e38
	}
	specials := []float64{0, math.Copysign(0, -1), 1e-30, -1e-30, 1e20, -1e20, huge, math.Inf(1), math.Inf(-1), math.NaN()}
	for step := range modelSteps {
		row := make([][]float64, len(modelSizes))
		for k, n := range modelSizes {
			if step == 2 && k%3 == 1 {
				continue // skipped this step, as a PyTorch param whose grad is None
			}
			g := make([]float64, n)
			for i := range g {
				g[i] = round(rng.NormFloat64() * (0.5 + float64(step)))
			}
			if n == 1000 {
				copy(g[10*step:], specials)
			}
			row[k] = g
		}
		m.grads = append(m.grads, row)
	}
	return m
}

func (m *model) name(k int) string { return fmt.Sprintf("t%02d", k) }

func (m *model) params() []optim.Param {
	ps := make([]optim.Param, len(m.init))
	for k, v := range m.init {
		h := modelHypers[k%len(modelHypers)]
		ps[k] = optim.Param{Name: m.name(k), Init: typed(m.dt, v), Options: []optim.Option{optim.WithHyper(h)}}
	}
	return ps
}

// result is every tensor's final parameters and accumulator, widened.
type result struct{ param, sum [][]float64 }

// runSteps feeds steps [from, to) of the model to opt.
func (m *model) runSteps(opt *optim.Adagrad, from, to int) error {
	for step := from; step < to; step++ {
		for k, g := range m.grads[step] {
			if g == nil {
				continue
			}
			if err := opt.SetGrad(m.name(k), typed(m.dt, g)); err != nil {
				return err
			}
		}
		if err := opt.Step(); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
	}
	return nil
}

// run trains the whole model on dev and reads the result back.
func (m *model) run(dev device.Backend) (*result, error) { return m.runWith(dev, nil) }

// runWith is run with setup applied to the optimizer first.
func (m *model) runWith(dev device.Backend, setup func(*optim.Adagrad) error) (*result, error) {
	opt, err := optim.New(dev, m.params())
	if err != nil {
		return nil, err
	}
	defer opt.Close()
	if setup != nil {
		if err := setup(opt); err != nil {
			return nil, err
		}
	}
	if err := m.runSteps(opt, 0, modelSteps); err != nil {
		return nil, err
	}
	return readResult(opt)
}

// readResult reads every tensor's parameters and accumulator back, in the
// order given to New.
func readResult(opt *optim.Adagrad) (*result, error) {
	r := &result{}
	for _, t := range opt.Tensors() {
		p, s := zeros(t.DType, t.Len), zeros(t.DType, t.Len)
		if err := opt.Read(t.Name, p); err != nil {
			return nil, err
		}
		if err := opt.ReadAccum(t.Name, s); err != nil {
			return nil, err
		}
		r.param = append(r.param, widen(p))
		r.sum = append(r.sum, widen(s))
	}
	return r, nil
}

// reference runs the model through the single-threaded reference.
func (m *model) reference() *result {
	if m.dt == device.Float32 {
		return referenceRun[float32](m)
	}
	return referenceRun[float64](m)
}

func referenceRun[T float32 | float64](m *model) *result {
	r := &result{}
	for k, v := range m.init {
		ref := newRefTensor(narrow[T](v), modelHypers[k%len(modelHypers)])
		for step := range modelSteps {
			if g := m.grads[step][k]; g != nil {
				ref.update(narrow[T](g))
			}
		}
		r.param = append(r.param, widen(ref.p))
		r.sum = append(r.sum, widen(ref.s))
	}
	return r
}

func narrow[T float32 | float64](v []float64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// diff returns a description of the first element where a and b are not
// bitwise equal (any NaN equals any NaN), or "".
func (a *result) diff(b *result) string {
	for k := range a.param {
		for _, role := range []struct {
			name string
			x, y []float64
		}{{"param", a.param[k], b.param[k]}, {"sum", a.sum[k], b.sum[k]}} {
			if len(role.x) != len(role.y) {
				return fmt.Sprintf("tensor %d %s: %d elements vs %d", k, role.name, len(role.x), len(role.y))
			}
			for i := range role.x {
				if !sameBits(role.x[i], role.y[i]) {
					return fmt.Sprintf("tensor %d (%d elements) %s[%d]: %v (%#x) vs %v (%#x)", k, len(role.x), role.name, i,
						role.x[i], math.Float64bits(role.x[i]), role.y[i], math.Float64bits(role.y[i]))
				}
			}
		}
	}
	return ""
}
