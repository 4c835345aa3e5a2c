package devicetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// denseShapes are the ranges of one dense update, rows × width (width
// matters to rules with per-row state): empty and single-element ranges,
// lengths either side of every vector width (4, 8, 16 lanes), rows of an
// odd width, and one range longer than a CPU chunk, so that chunk and
// vector tails and unaligned offsets are all exercised.
var denseShapes = [][2]int{{0, 1}, {1, 1}, {3, 1}, {7, 1}, {8, 1}, {9, 1}, {15, 1}, {16, 1}, {17, 1}, {31, 1},
	{11, 3}, {1000, 1}, {241, 17}, {3<<15 + 5, 1}}

// specialRange is the index in denseShapes of the range whose gradients
// hold zeros, tiny, huge and non-finite values.
const specialRange = 11

const updateSteps = 3

// coefValues are the values each named coefficient takes, range by range
// (lists of different lengths, so that ranges see many combinations);
// other coefficients take genericCoefs. A sign is ±1, and a dense-only
// coefficient is 0 in row-sparse updates.
var (
	coefValues = map[string][]float64{
		"lr":           {0.01, 0.1, 0.3, 1, 0.05},
		"eps":          {1e-10, 0, 1e-6, 1e-3},
		"weight_decay": {0, 0.01, 0.5},
		"l1":           {0, 0.01, 0.3, 1e-4},
		"l2":           {0, 0.1, 2},
		// A step past 2^24 is rounded when cast to float (AdagradDA).
		"step":               {1, 2, 7, 1<<24 + 1},
		"momentum":           {0.9, 0, 0.5},
		"one_minus_momentum": {0.1, 1, 0.5},
	}
	genericCoefs = []float64{0, 0.1, 1}
)

// coefsFor returns valid coefficients of rule r for range i at step s: the
// learning rate decays with the step, as the optimizer's lr_decay makes it;
// a flag is set in every other pair of ranges.
func coefsFor(r device.Rule, i, s int, rows bool) [device.MaxCoefs]float64 {
	spec, _ := r.Spec()
	var c [device.MaxCoefs]float64
	for k, cs := range spec.Coefs {
		vals := genericCoefs
		if v, ok := coefValues[cs.Name]; ok {
			vals = v
		}
		switch {
		case cs.Sign:
			c[k] = []float64{1, -1}[(i/2)%2]
		case cs.Flag:
			c[k] = float64((i / 3) % 2)
		case cs.DenseOnly && rows:
		default:
			c[k] = vals[(i+k)%len(vals)]
		}
		if cs.Name == "lr" {
			c[k] /= 1 + 0.1*float64(s)
		}
	}
	return c
}

// specials are planted in the gradients of specialRange, a few more each
// step: signed zeros, values whose square underflows or overflows, the
// largest finite value and non-finite ones.
func specials[T Float]() []T {
	huge := 1e300
	if dtypeOf[T]() == device.Float32 {
		huge = 3.4e38
	}
	return narrow[T]([]float64{0, math.Copysign(0, -1), 1e-30, -1e-30, 1e20, -1e20, huge, math.Inf(1), math.Inf(-1), math.NaN()})
}

// Update is the dense layer: for every rule and parameter dtype the
// backend declares (half parameters included), one Update call over many
// ranges (sizes in denseShapes, every coefficient combination, non-finite
// gradients), several steps, each bitwise against the rule's reference,
// with guard elements around and between the ranges in the parameter,
// gradient and state buffers; float32 runs also against a float64
// reference. Then one call mixing every declared rule, and each other
// gradient type the parameters take (half gradients for float32
// parameters, float32 or the same half type for half parameters).
func Update(t *testing.T, open Opener) {
	dev := MustOpen(t, open)
	caps := dev.Capabilities()
	for _, dt := range paramDTypes {
		rules := declaredRules(caps, dt, false)
		if len(rules) == 0 {
			continue
		}
		grads := gradDTypes(caps, dt)
		for _, r := range rules {
			t.Run(fmt.Sprintf("%v/%v", r, dt), func(t *testing.T) { runDense(t, dev, dt, grads[0], []device.Rule{r}) })
		}
		if len(rules) > 1 {
			t.Run(fmt.Sprintf("mixed/%v", dt), func(t *testing.T) { runDense(t, dev, dt, grads[0], rules) })
		}
		for _, gdt := range grads[1:] {
			for _, r := range rules {
				name := fmt.Sprintf("%v/%v-grads", r, gdt)
				if dt != device.Float32 {
					name = fmt.Sprintf("%v/%v/%v-grads", r, dt, gdt)
				}
				t.Run(name, func(t *testing.T) { runDense(t, dev, dt, gdt, []device.Rule{r}) })
			}
		}
	}
}

// paramDTypes are the parameter dtypes, in the order the update layers
// run them.
var paramDTypes = []device.DType{device.Float32, device.Float64, device.BFloat16, device.Float16}

// gradDTypes are the gradient dtypes of dense updates of dt parameters
// that caps declares, the compute dtype first.
func gradDTypes(caps device.Capabilities, dt device.DType) []device.DType {
	out := []device.DType{dt.Compute()}
	for _, g := range []device.DType{device.BFloat16, device.Float16} {
		if g != dt.Compute() && device.GradOK(dt, g) && caps.HasDType(g) {
			out = append(out, g)
		}
	}
	return out
}

// declaredRules are the rules caps runs on parameters of dt (with
// row-sparse gradients when rows is set), in device.Rules order.
func declaredRules(caps device.Capabilities, dt device.DType, rows bool) []device.Rule {
	var out []device.Rule
	for _, r := range device.Rules() {
		if caps.Supports(r, dt, rows) {
			out = append(out, r)
		}
	}
	return out
}

func runDense(t *testing.T, dev device.Backend, dt, gdt device.DType, rules []device.Rule) {
	if dt.Compute() == device.Float32 {
		denseCase[float32]{dev: dev, dt: dt, gdt: gdt, rules: rules}.run(t)
	} else {
		denseCase[float64]{dev: dev, dt: dt, gdt: gdt, rules: rules}.run(t)
	}
}

// denseCase is one dense run: ranges of rules[i%len(rules)] laid out with
// guards, on parameters of dt (computed in T) and gradients of gdt.
type denseCase[T Float] struct {
	dev     device.Backend
	dt, gdt device.DType
	rules   []device.Rule
}

// denseLayout places the ranges: every range and every state region
// behind a gap of guards, gaps of other sizes in each buffer so that state
// offsets differ from parameter offsets. Each state goes in the buffer of
// its type (device.StateSpec.Buffer).
func denseLayout(rules []device.Rule) (ranges []device.Range, n int, stateN [device.StateBuffers]int) {
	n = 3
	for b := range stateN {
		stateN[b] = 2 + b
	}
	for i, sh := range denseShapes {
		r := device.Range{Off: n, Len: sh[0] * sh[1], Width: sh[1], Rule: rules[i%len(rules)]}
		spec, _ := r.Rule.Spec()
		for k, s := range spec.State {
			b := s.Buffer()
			r.StateOff[k] = stateN[b]
			stateN[b] += spec.StateLen(k, r.Len, r.Width) + 1 + (i+2*k)%4
		}
		ranges = append(ranges, r)
		n += r.Len + 1 + i%5
	}
	return ranges, n, stateN
}

// stepKey is the stochastic-rounding key of range i at step s.
func stepKey(i, s int) uint64 { return uint64(1000*s+i+1) * 0x2545f4914f6cdd1d }

func (c denseCase[T]) run(t *testing.T) {
	upd := updater(t, c.dev)
	rng := rand.New(rand.NewPCG(uint64(c.dt)*131+uint64(c.gdt)*17+uint64(len(c.rules)), uint64(c.rules[0])))
	ranges, n, stateN := denseLayout(c.rules)
	param := newParamMirror[T](t, c.dev, c.dt, n)
	var grad *mirror[T]
	var grad16 *codeMirror
	if c.gdt == c.dt.Compute() {
		grad = newMirror[T](t, c.dev, n)
	} else {
		grad16 = newCodeMirror(t, c.dev, c.gdt, n)
	}
	state := newStateMirrors[T](t, c.dev, c.rules, stateN)
	for _, r := range ranges {
		param.init(rng, r.Off, r.Len)
		state.init(rng, r)
	}
	// A float32 run is also followed in float64, from the same values.
	var wide *wideRun
	if c.dt == device.Float32 && state.bytes == nil {
		wide = newWideRun(param.real, state.real)
	}
	param.upload(t, c.dev)
	state.upload(t, c.dev)
	special := ranges[specialRange]
	for s := range updateSteps {
		for i := range ranges {
			ranges[i].Coef = coefsFor(ranges[i].Rule, i, s, false)
			ranges[i].Key = stepKey(i, s)
		}
		// Gradients for every element, the gaps between ranges included:
		// no result may depend on them.
		var g []T
		u := device.Update{Param: param.buf(), State: state.bufs(), Ranges: slices.Clone(ranges)}
		if grad != nil {
			g = randoms[T](rng, n, 0.5+float64(s))
			copy(g[special.Off+10*s:special.Off+special.Len], specials[T]())
			grad.want = g
			grad.upload(t, c.dev)
			u.Grad = grad.buf
		} else {
			grad16.open(0, halfCodes(rng, c.gdt, n, special.Off+10*s))
			grad16.upload(t, c.dev)
			u.Grad = grad16.buf
			g = make([]T, n)
			for i, h := range grad16.want {
				g[i] = T(HalfValue(c.gdt, h))
			}
		}
		if err := upd.Update(u); err != nil {
			t.Fatalf("step %d: Update: %v", s, err)
		}
		for _, r := range ranges {
			if err := refRange(r, param, g, state); err != nil {
				t.Fatal(err)
			}
			if wide != nil {
				wp, ws := wide.host()
				if err := refRange(r, wp, widened(g), ws); err != nil {
					t.Fatal(err)
				}
			}
		}
		if wide != nil {
			wide.observe()
		}
		ok := param.check(t, c.dev, fmt.Sprintf("step %d param", s))
		ok = ok && state.check(t, c.dev, fmt.Sprintf("step %d", s))
		if grad != nil {
			ok = ok && grad.check(t, c.dev, fmt.Sprintf("step %d grad", s))
		} else {
			ok = ok && grad16.check(t, c.dev, fmt.Sprintf("step %d grad", s))
		}
		if !ok {
			t.Fatalf("step %d, ranges%s", s, describe(ranges))
		}
	}
	if wide != nil {
		skip := func(i int) bool { return i >= special.Off && i < special.Off+special.Len }
		wide.compare(t, any(param.real).(*mirror[float32]), any(state.real).(*mirror[float32]), ranges, skip)
	}
}

// halfCodes returns n random codes of a half type, finite ones of every
// exponent, with signed zeros, a subnormal, the largest finite value,
// infinities and NaN from element at on.
func halfCodes(rng *rand.Rand, dt device.DType, n, at int) []uint16 {
	codes := make([]uint16, n)
	for i := range codes {
		if dt == device.BFloat16 {
			// float32's top half: any finite float32 exponent around 1.
			codes[i] = uint16(math.Float32bits(float32(rng.NormFloat64()*4)) >> 16)
			continue
		}
		codes[i] = uint16(rng.IntN(2))<<15 | uint16(1+rng.IntN(30))<<10 | uint16(rng.IntN(1024))
	}
	sp := []uint16{0, 0x8000, 0x0001, 0x7bff, 0x7c00, 0xfc00, 0x7e00}
	if dt == device.BFloat16 {
		sp = []uint16{0, 0x8000, 0x0001, 0x7f7f, 0x7f80, 0xff80, 0x7fc0}
	}
	copy(codes[at:], sp)
	return codes
}

func magnitudes[T Float](v []T) []T {
	for i := range v {
		v[i] = T(math.Abs(float64(v[i])))
	}
	return v
}

// refRange applies range r's rule by its reference to whole host
// buffers: the parameters (real or half), g indexed as the gradient
// buffer, and the state buffers.
func refRange[T Float](r device.Range, param *paramMirror[T], g []T, state *stateMirrors[T]) error {
	st, done := state.span(r)
	var err error
	if param.codes == nil {
		err = ReferenceStep(r.Rule, r.Coef, r.Width, param.values()[r.Off:r.Off+r.Len], g[r.Off:r.Off+r.Len], st)
	} else {
		err = ReferenceHalfStep(param.dt, r.Rule, r.Coef, r.Width, r.Key, param.codes.want[r.Off:r.Off+r.Len],
			any(g[r.Off:r.Off+r.Len]).([]float32), any(st).([device.MaxStates][]float32))
	}
	done()
	return err
}

// randoms returns n normal values times scale, rounded to T.
func randoms[T Float](rng *rand.Rand, n int, scale float64) []T {
	v := make([]T, n)
	for i := range v {
		v[i] = T(rng.NormFloat64() * scale)
	}
	return v
}

func describe(ranges []device.Range) string {
	s := ""
	for _, r := range ranges {
		s += fmt.Sprintf(" %v[%d,%d)", r.Rule, r.Off, r.Off+r.Len)
	}
	return s
}
