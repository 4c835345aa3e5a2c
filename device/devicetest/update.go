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
// learning rate decays with the step, as the optimizer's lr_decay makes it.
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
// backend declares, one Update call over many ranges (sizes in
// denseShapes, every coefficient combination, non-finite gradients),
// several steps, each bitwise against the rule's reference, with guard
// elements around and between the ranges in the parameter, gradient and
// state buffers; float32 runs also against a float64 reference. Then one
// call mixing every declared rule, and float32 parameters with each
// declared half gradient type.
func Update(t *testing.T, open Opener) {
	dev := MustOpen(t, open)
	caps := dev.Capabilities()
	for _, dt := range dtypes {
		rules := declaredRules(caps, dt, false)
		for _, r := range rules {
			t.Run(fmt.Sprintf("%v/%v", r, dt), func(t *testing.T) { runDense(t, dev, dt, dt, []device.Rule{r}) })
		}
		if len(rules) > 1 {
			t.Run(fmt.Sprintf("mixed/%v", dt), func(t *testing.T) { runDense(t, dev, dt, dt, rules) })
		}
		if dt != device.Float32 {
			continue
		}
		for _, gdt := range []device.DType{device.BFloat16, device.Float16} {
			if !caps.HasDType(gdt) {
				continue
			}
			for _, r := range rules {
				t.Run(fmt.Sprintf("%v/%v-grads", r, gdt), func(t *testing.T) { runDense(t, dev, dt, gdt, []device.Rule{r}) })
			}
		}
	}
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
	if dt == device.Float32 {
		denseCase[float32]{dev: dev, gdt: gdt, rules: rules}.run(t)
	} else {
		denseCase[float64]{dev: dev, gdt: gdt, rules: rules}.run(t)
	}
}

// denseCase is one dense run: ranges of rules[i%len(rules)] laid out with
// guards, on parameters of T and gradients of gdt.
type denseCase[T Float] struct {
	dev   device.Backend
	gdt   device.DType
	rules []device.Rule
}

// denseLayout places the ranges: every range and every state region
// behind a gap of guards, gaps of other sizes in each buffer so that state
// offsets differ from parameter offsets.
func denseLayout(rules []device.Rule) (ranges []device.Range, n int, stateN [device.MaxStates]int) {
	n = 3
	for k := range stateN {
		stateN[k] = 2 + k
	}
	for i, sh := range denseShapes {
		r := device.Range{Off: n, Len: sh[0] * sh[1], Rule: rules[i%len(rules)]}
		spec, _ := r.Rule.Spec()
		for k, s := range spec.State {
			r.StateOff[k] = stateN[k]
			size := r.Len
			if s.Per == device.PerRow {
				r.Width, size = sh[1], sh[0]
			}
			stateN[k] += size + 1 + (i+2*k)%4
		}
		ranges = append(ranges, r)
		n += r.Len + 1 + i%5
	}
	return ranges, n, stateN
}

func (c denseCase[T]) run(t *testing.T) {
	dt := dtypeOf[T]()
	upd := updater(t, c.dev)
	rng := rand.New(rand.NewPCG(uint64(dt)*131+uint64(c.gdt)*17+uint64(len(c.rules)), uint64(c.rules[0])))
	ranges, n, stateN := denseLayout(c.rules)
	param := newMirror[T](t, c.dev, n)
	var grad *mirror[T]
	var grad16 *rawMirror
	if c.gdt == dt {
		grad = newMirror[T](t, c.dev, n)
	} else {
		grad16 = newRawMirror(t, c.dev, c.gdt, n)
	}
	var state [device.MaxStates]*mirror[T]
	var bufs [device.MaxStates]device.Buffer
	for k, sn := range stateN {
		if usesState(c.rules, k) {
			state[k] = newMirror[T](t, c.dev, sn)
			bufs[k] = state[k].buf
		}
	}
	for _, r := range ranges {
		param.open(r.Off, randoms[T](rng, r.Len, 1))
		spec, _ := r.Rule.Spec()
		for k := range spec.State {
			state[k].open(r.StateOff[k], magnitudes(randoms[T](rng, stateLen(r, spec, k), 0.5)))
		}
	}
	// A float32 run is also followed in float64, from the same values.
	wide := newWideRun(param, state)
	param.upload(t, c.dev)
	for k := range state {
		if state[k] != nil {
			state[k].upload(t, c.dev)
		}
	}
	special := ranges[specialRange]
	for s := range updateSteps {
		for i := range ranges {
			ranges[i].Coef = coefsFor(ranges[i].Rule, i, s, false)
		}
		// Gradients for every element, the gaps between ranges included:
		// no result may depend on them.
		var g []T
		u := device.Update{Param: param.buf, State: bufs, Ranges: slices.Clone(ranges)}
		if grad != nil {
			g = randoms[T](rng, n, 0.5+float64(s))
			copy(g[special.Off+10*s:special.Off+special.Len], specials[T]())
			grad.want = g
			grad.upload(t, c.dev)
			u.Grad = grad.buf
		} else {
			grad16.want = halfCodes(rng, c.gdt, n, special.Off+10*s)
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
			if err := refRange(r, param.want, g, mirrorStates(state)); err != nil {
				t.Fatal(err)
			}
			if wide != nil {
				if err := refRange(r, wide.param, widened(g), wide.state); err != nil {
					t.Fatal(err)
				}
			}
		}
		if wide != nil {
			wide.observe()
		}
		ok := param.check(t, c.dev, fmt.Sprintf("step %d param", s))
		for k := range state {
			if state[k] != nil {
				ok = ok && state[k].check(t, c.dev, fmt.Sprintf("step %d state %d", s, k))
			}
		}
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
		wide.compare(t, any(param).(*mirror[float32]), any(state).([device.MaxStates]*mirror[float32]), ranges, skip)
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

func usesState(rules []device.Rule, k int) bool {
	for _, r := range rules {
		if spec, _ := r.Spec(); k < len(spec.State) {
			return true
		}
	}
	return false
}

func stateLen(r device.Range, spec device.RuleSpec, k int) int {
	if spec.State[k].Per == device.PerRow {
		return r.Len / r.Width
	}
	return r.Len
}

func mirrorStates[T Float](m [device.MaxStates]*mirror[T]) (out [device.MaxStates][]T) {
	for k := range m {
		if m[k] != nil {
			out[k] = m[k].want
		}
	}
	return out
}

// refRange applies range r's rule by its reference to whole host buffers:
// p and g indexed as the parameter and gradient buffers, state[k] as
// state buffer k.
func refRange[T Float](r device.Range, p, g []T, state [device.MaxStates][]T) error {
	spec, _ := r.Rule.Spec()
	var st [device.MaxStates][]T
	for k := range spec.State {
		st[k] = state[k][r.StateOff[k] : r.StateOff[k]+stateLen(r, spec, k)]
	}
	return ReferenceStep(r.Rule, r.Coef, r.Width, p[r.Off:r.Off+r.Len], g[r.Off:r.Off+r.Len], st)
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
