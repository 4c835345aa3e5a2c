package optimtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/device/devicetest"
	"github.com/adagrad-go/adagrad/optim"
)

// ruleModel is a rule seen from the optimizer, written out here apart
// from package optim: the coefficients a tensor's hyperparameters give at
// its step t (1-based, counting only the steps it took part in), and the
// starting value of each state. Adding a rule adds its entry (testRuleModels
// fails without one).
type ruleModel struct {
	coefs   func(h optim.Hyper, t int64) [device.MaxCoefs]float64
	initial func(h optim.Hyper, k int) float64
}

var ruleModels = map[device.Rule]ruleModel{
	device.Adagrad:          {coefs: adagradFamilyCoefs, initial: accumulator},
	device.AdagradEpsInside: {coefs: adagradFamilyCoefs, initial: accumulator},
	device.AdagradTF:        {coefs: adagradFamilyCoefs, initial: accumulator},
	device.AdagradOptax:     {coefs: adagradFamilyCoefs, initial: accumulator},
	device.AdagradNoEps:     {coefs: noEpsModelCoefs, initial: accumulator},
	device.AdagradGloVe:     {coefs: noEpsModelCoefs, initial: accumulator},
	device.ProximalAdagrad:  {coefs: proximalModelCoefs, initial: accumulator},
	device.AdagradDA:        {coefs: daModelCoefs, initial: daInitial},
	device.AdagradJAX:       {coefs: jaxModelCoefs, initial: accumulator},
	device.AdagradRowwise:   {coefs: rowwiseModelCoefs, initial: accumulator},
	device.Adagrad8Bit:      {coefs: adagradFamilyCoefs, initial: accumulator8Bit},
}

// rowwiseModelCoefs: the family's, and 1 for decoupled weight decay.
func rowwiseModelCoefs(h optim.Hyper, t int64) [device.MaxCoefs]float64 {
	c := adagradFamilyCoefs(h, t)
	if h.DecoupledWeightDecay {
		c[device.CoefDecoupled] = 1
	}
	return c
}

// accumulator8Bit: every block's scale the initial accumulator value, every
// code 255 (1, the top of the code table), so that it dequantizes exactly.
func accumulator8Bit(h optim.Hyper, k int) float64 {
	if k == 1 {
		return 255
	}
	return h.InitialAccumulatorValue
}

// adagradFamilyCoefs: PyTorch's learning rate after decay, lr/(1+(t-1)·d),
// in float64; eps; weight decay; the sign of maximize.
func adagradFamilyCoefs(h optim.Hyper, t int64) [device.MaxCoefs]float64 {
	sign := 1.0
	if h.Maximize {
		sign = -1
	}
	return [device.MaxCoefs]float64{h.LR / (1 + float64(t-1)*h.LRDecay), h.Eps, h.WeightDecay, sign}
}

// noEpsModelCoefs: the learning rate after decay, weight decay, sign.
func noEpsModelCoefs(h optim.Hyper, t int64) [device.MaxCoefs]float64 {
	c := adagradFamilyCoefs(h, t)
	return [device.MaxCoefs]float64{c[0], h.WeightDecay, c[3]}
}

// proximalModelCoefs: TensorFlow's lr (after decay), l1, l2; the sign.
func proximalModelCoefs(h optim.Hyper, t int64) [device.MaxCoefs]float64 {
	c := adagradFamilyCoefs(h, t)
	return [device.MaxCoefs]float64{c[0], h.L1, h.L2, c[3]}
}

// daModelCoefs: as proximalModelCoefs, then the global step, which
// TensorFlow passes as global_step + 1 (adagrad_da.py): the tensor's own
// step count t.
func daModelCoefs(h optim.Hyper, t int64) [device.MaxCoefs]float64 {
	c := proximalModelCoefs(h, t)
	c[4] = float64(t)
	return c
}

// jaxModelCoefs: step_size, momentum, 1. - momentum (a Python float), sign.
func jaxModelCoefs(h optim.Hyper, t int64) [device.MaxCoefs]float64 {
	c := adagradFamilyCoefs(h, t)
	return [device.MaxCoefs]float64{c[0], h.Momentum, 1 - h.Momentum, c[3]}
}

// accumulator is the first state's start (the accumulator); any other
// state (JAX's momentum) starts at 0.
func accumulator(h optim.Hyper, k int) float64 {
	if k > 0 {
		return 0
	}
	return h.InitialAccumulatorValue
}

// daInitial: AdagradDA's gradient accumulator starts at 0, its squared
// accumulator at the initial value (TensorFlow's
// initial_gradient_squared_accumulator_value).
func daInitial(h optim.Hyper, k int) float64 {
	if k == 1 {
		return h.InitialAccumulatorValue
	}
	return 0
}

func testRuleModels(t *testing.T) {
	for _, r := range device.Rules() {
		if _, ok := ruleModels[r]; !ok {
			t.Errorf("rule %v has no model in optimtest (ruleModels)", r)
		}
	}
}

func ruleOf(h optim.Hyper) device.Rule {
	if h.Rule == 0 {
		return device.Adagrad
	}
	return h.Rule
}

// refTensor is one tensor as the optimizer must update it, kept in
// float64 (exact for float32 tensors, and for the values of half ones) and
// computed in its compute dtype by devicetest's references. 8-bit states
// hold their codes as values.
type refTensor struct {
	name   string
	dt     device.DType
	shape  []int
	p      []float64
	states [device.MaxStates][]float64
	hyper  optim.Hyper
	step   int64
}

func newRefTensor(dt device.DType, init []float64, shape []int, h optim.Hyper) *refTensor {
	if shape == nil {
		shape = []int{len(init)} // as optim.Param's Shape
	}
	r := &refTensor{dt: dt, shape: shape, p: append([]float64(nil), init...), hyper: h}
	if dt.Half() {
		for i, x := range r.p { // optim rounds a float32 Init to nearest
			r.p[i] = float64(devicetest.HalfValue(dt, devicetest.HalfBits(dt, float32(x))))
		}
	}
	rule := ruleOf(h)
	spec, _ := rule.Spec()
	for k := range spec.State {
		r.states[k] = make([]float64, spec.StateLen(k, len(init), r.width()))
		for i := range r.states[k] {
			r.states[k][i] = float64(narrowTo(dt, ruleModels[rule].initial(h, k)))
		}
	}
	return r
}

// narrowTo rounds v to dt's compute dtype.
func narrowTo(dt device.DType, v float64) float64 {
	if dt.Compute() == device.Float32 {
		return float64(float32(v))
	}
	return v
}

func (r *refTensor) rows() int {
	if len(r.shape) == 0 {
		return 1
	}
	return r.shape[0]
}

func (r *refTensor) width() int {
	if len(r.shape) == 0 {
		return len(r.p)
	}
	return len(r.p) / max(r.rows(), 1)
}

// dense takes one step with gradient g.
func (r *refTensor) dense(g []float64) error {
	r.step++
	rule := ruleOf(r.hyper)
	c := ruleModels[rule].coefs(r.hyper, r.step)
	switch {
	case r.dt.Half():
		return inHalf(r, func(p []uint16, st [device.MaxStates][]float32) error {
			return devicetest.ReferenceHalfStep(r.dt, rule, c, r.width(), r.key(), p, narrow32(g), st)
		})
	case r.dt == device.Float32:
		return inT(r, func(p []float32, st [device.MaxStates][]float32) error {
			return devicetest.ReferenceStep(rule, c, r.width(), p, narrow32(g), st)
		})
	}
	return devicetest.ReferenceStep(rule, c, r.width(), r.p, g, r.states)
}

// sparse takes one step with a row-sparse gradient: duplicates summed in
// PyTorch's order (devicetest.Coalesce), then the rule's row-sparse form.
func (r *refTensor) sparse(indices []int64, values []float64) error {
	r.step++
	rule := ruleOf(r.hyper)
	c := ruleModels[rule].coefs(r.hyper, r.step)
	w := r.width()
	switch {
	case r.dt.Half():
		return inHalf(r, func(p []uint16, st [device.MaxStates][]float32) error {
			idx, vals := devicetest.Coalesce(indices, narrow32(values), w)
			return devicetest.ReferenceHalfRows(r.dt, rule, c, w, r.key(), p, st, idx, vals)
		})
	case r.dt == device.Float32:
		return inT(r, func(p []float32, st [device.MaxStates][]float32) error {
			idx, vals := devicetest.Coalesce(indices, narrow32(values), w)
			return devicetest.ReferenceRows(rule, c, w, p, st, idx, vals)
		})
	}
	idx, vals := devicetest.Coalesce(indices, values, w)
	return devicetest.ReferenceRows(rule, c, w, r.p, r.states, idx, vals)
}

// key is the stochastic-rounding key of the tensor's current step, as
// optim.Hyper.Seed documents it: SplitMix64's mixer (mix) over the seed
// XOR the FNV-1a hash of the name, plus the step times
// 0xd1b54a32d192ed03, mixed again.
func (r *refTensor) key() uint64 {
	h := uint64(14695981039346656037) // FNV-1a, 64 bits
	for _, b := range []byte(r.name) {
		h = (h ^ uint64(b)) * 1099511628211
	}
	return mix(mix(r.hyper.Seed^h) + uint64(r.step)*0xd1b54a32d192ed03)
}

// mix is SplitMix64's finalizer.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// inHalf runs f on the codes of a half tensor and float32 copies of its
// states, and widens the results back.
func inHalf(r *refTensor, f func(p []uint16, st [device.MaxStates][]float32) error) error {
	codes := make([]uint16, len(r.p))
	for i, x := range r.p {
		codes[i] = devicetest.HalfBits(r.dt, float32(x))
	}
	return inT(r, func(wide []float32, st [device.MaxStates][]float32) error {
		if err := f(codes, st); err != nil {
			return err
		}
		for i, c := range codes {
			wide[i] = devicetest.HalfValue(r.dt, c)
		}
		return nil
	})
}

// inT runs f on float32 copies of the tensor and widens the results back.
func inT(r *refTensor, f func(p []float32, st [device.MaxStates][]float32) error) error {
	p := narrow32(r.p)
	var st [device.MaxStates][]float32
	for k, s := range r.states {
		if s != nil {
			st[k] = narrow32(s)
		}
	}
	if err := f(p, st); err != nil {
		return err
	}
	r.p = widen(p)
	for k, s := range st {
		if s != nil {
			r.states[k] = widen(s)
		}
	}
	return nil
}

func narrow32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// typed converts float64 values to a []float32 or []float64 of dt.
func typed(dt device.DType, v []float64) any {
	if dt == device.Float32 {
		return narrow32(v)
	}
	return append([]float64(nil), v...)
}

// zeros returns a zeroed slice of dt.
func zeros(dt device.DType, n int) any {
	if dt == device.Float32 {
		return make([]float32, n)
	}
	return make([]float64, n)
}

// widen converts a []float32 or []float64 to float64 values (exactly),
// and 8-bit codes to their values.
func widen(s any) []float64 {
	switch v := s.(type) {
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return append([]float64(nil), v...)
	case []uint8:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	return nil
}

// widenParam converts parameters of dt to float64 values: half codes
// widened exactly.
func widenParam(s any, dt device.DType) []float64 {
	codes, ok := s.([]uint16)
	if !ok {
		return widen(s)
	}
	out := make([]float64, len(codes))
	for i, c := range codes {
		out[i] = float64(devicetest.HalfValue(dt, c))
	}
	return out
}

// sameKind returns a zeroed slice of s's type and length.
func sameKind(s any) any {
	switch v := s.(type) {
	case []float32:
		return make([]float32, len(v))
	case []float64:
		return make([]float64, len(v))
	case []uint8:
		return make([]uint8, len(v))
	case []uint16:
		return make([]uint16, len(v))
	}
	return nil
}

// result is every tensor's parameters and states, widened, in the order
// given to optim.New.
type result struct {
	names  []string
	param  [][]float64
	states [][][]float64 // states[tensor][k]
}

func (r *result) add(name string, p []float64, st [][]float64) {
	r.names, r.param, r.states = append(r.names, name), append(r.param, p), append(r.states, st)
}

// referenceResult collects the reference tensors.
func referenceResult(names []string, refs []*refTensor) *result {
	r := &result{}
	for i, t := range refs {
		var st [][]float64
		for _, s := range t.states {
			if s != nil {
				st = append(st, s)
			}
		}
		r.add(names[i], t.p, st)
	}
	return r
}

// readResult reads every tensor's parameters and states back through
// State, and checks them against Read and ReadState.
func readResult(opt *optim.Adagrad) (*result, error) {
	st, err := opt.State()
	if err != nil {
		return nil, err
	}
	r := &result{}
	infos := opt.Tensors()
	for i, ts := range st.Tensors {
		var states [][]float64
		for k, s := range ts.State {
			again := sameKind(s)
			if err := opt.ReadState(ts.Name, k, again); err != nil {
				return nil, err
			}
			if d := diffValues(widen(s), widen(again)); d != "" {
				return nil, fmt.Errorf("tensor %s: ReadState(%d) differs from State: %s", ts.Name, k, d)
			}
			states = append(states, widen(s))
		}
		r.add(ts.Name, widenParam(ts.Param, infos[i].DType), states)
	}
	return r, nil
}

// diff describes the first element where a and b are not bitwise equal
// (any NaN equals any NaN), or returns "".
func (a *result) diff(b *result) string {
	if len(a.param) != len(b.param) {
		return fmt.Sprintf("%d tensors vs %d", len(a.param), len(b.param))
	}
	for k := range a.param {
		if d := diffValues(a.param[k], b.param[k]); d != "" {
			return fmt.Sprintf("tensor %s param: %s", a.names[k], d)
		}
		if len(a.states[k]) != len(b.states[k]) {
			return fmt.Sprintf("tensor %s: %d states vs %d", a.names[k], len(a.states[k]), len(b.states[k]))
		}
		for s := range a.states[k] {
			if d := diffValues(a.states[k][s], b.states[k][s]); d != "" {
				return fmt.Sprintf("tensor %s state %d: %s", a.names[k], s, d)
			}
		}
	}
	return ""
}

func diffValues(x, y []float64) string {
	if len(x) != len(y) {
		return fmt.Sprintf("%d elements vs %d", len(x), len(y))
	}
	for i := range x {
		if x[i] != y[i] && !(x[i] != x[i] && y[i] != y[i]) || math.Signbit(x[i]) != math.Signbit(y[i]) && x[i] == x[i] {
			return fmt.Sprintf("[%d] of %d: %v (%#x) vs %v (%#x)", i, len(x), x[i], math.Float64bits(x[i]), y[i], math.Float64bits(y[i]))
		}
	}
	return ""
}
