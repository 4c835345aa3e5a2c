// Package pathcheck drives a GPU backend's internal paths with the update
// rules of every state layout and every parameter dtype, and holds every
// result bitwise to the CPU backend's: the backends' own path tests
// (cuda/paths_test.go, opencl/paths_test.go) call it, with the numbers of
// ranges and the transfer sizes that select their paths.
package pathcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/half"
)

// FamilyRules are the rules Family runs, range by range: every rule of
// every state layout (element-wise of one state and of two, row-wise,
// 8-bit), Adagrad most often.
var FamilyRules = []device.Rule{device.Adagrad, device.AdagradRowwise, device.Adagrad8Bit, device.AdagradEpsInside,
	device.AdagradTF, device.Adagrad, device.AdagradNoEps, device.AdagradDA, device.AdagradOptax, device.AdagradGloVe,
	device.Adagrad, device.ProximalAdagrad, device.AdagradJAX}

// Coefs are the coefficients of rule r for range i at a step, by the
// names the rules give them: the learning rate decays with the step (so
// that the table changes), and the weight decay (dense only where the rule
// says so), the sign, l1 and the decoupled flag vary with i (l1 0 and not:
// both branches of the regularised rules).
func Coefs(r device.Rule, i, step int, rows bool) [device.MaxCoefs]float64 {
	spec, _ := r.Spec()
	var c [device.MaxCoefs]float64
	for k, cs := range spec.Coefs {
		switch cs.Name {
		case "lr":
			c[k] = 0.01 * float64(1+i%4) / (1 + 0.1*float64(step))
		case "eps":
			c[k] = 1e-8 * float64(1+i%3)
		case "weight_decay":
			if i%4 == 1 && !(rows && cs.DenseOnly) {
				c[k] = 0.001
			}
		case "sign":
			c[k] = 1
			if i%5 == 4 {
				c[k] = -1
			}
		case "decoupled":
			c[k] = float64(i / 4 % 2)
		case "l1":
			c[k] = 0.01 * float64(i%2)
		case "l2":
			c[k] = 0.1
		case "step":
			c[k] = float64(step + 1)
		case "momentum":
			c[k] = 0.9
		case "one_minus_momentum":
			c[k] = 0.1
		}
	}
	return c
}

// StateOffsets places the states of a rule whose range starts at element
// at, in state buffers of regions of n elements: the first state of each
// buffer in the buffer's first region at at, a second state of the same
// buffer (AdagradDA's, AdagradJAX's) in its second region. Ranges laid out
// apart in [0, n) so keep their states apart.
func StateOffsets(r device.Rule, at, n int) (offs [device.MaxStates]int) {
	spec, _ := r.Spec()
	var seen [device.StateBuffers]int
	for k, ss := range spec.State {
		b := ss.Buffer()
		offs[k] = at + seen[b]*n
		seen[b]++
	}
	return offs
}

// Ranges cuts n elements into count ranges of rules (range i of
// rules[i%len(rules)]; row-wise ranges cut to whole rows of width 7), with
// gaps; each range's states start at its own offset in the state buffers
// (StateOffsets: the state buffer of the compute type holds 2n elements).
// The learning rate decays with step, so that the table changes.
func Ranges(rng *rand.Rand, n, count, step int, rules []device.Rule) []device.Range {
	var rs []device.Range
	at := 0
	base := (n - 2*count) / count
	for i := range count {
		size := max(1, base-rng.IntN(5))
		if i == count-1 {
			size = n - at
		}
		r := device.Range{Off: at, Rule: rules[i%len(rules)], Width: 7, Key: uint64(1000*step + i + 1)}
		if r.Rule == device.AdagradRowwise {
			size -= size % 7
		}
		r.Len = size
		r.Coef = Coefs(r.Rule, i, step, false)
		r.StateOff = StateOffsets(r.Rule, at, n)
		rs = append(rs, r)
		at += size + rng.IntN(3) // gaps leave some elements untouched
	}
	return rs
}

// Values returns n random values of dt as a host slice (half codes for the
// half types), magnitudes for accumulators.
func Values(rng *rand.Rand, dt device.DType, n int, magnitude bool) any {
	v := func() float64 {
		x := rng.NormFloat64()
		if magnitude {
			x = math.Abs(x)
		}
		return x
	}
	switch dt {
	case device.Float64:
		s := make([]float64, n)
		for i := range s {
			s[i] = v()
		}
		return s
	case device.BFloat16, device.Float16:
		narrow := half.FromFloat32BF16
		if dt == device.Float16 {
			narrow = half.FromFloat32F16
		}
		s := make([]uint16, n)
		for i := range s {
			s[i] = narrow(float32(v()))
		}
		return s
	case device.Uint8:
		s := make([]uint8, n)
		for i := range s {
			s[i] = uint8(rng.IntN(256))
		}
		return s
	}
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(v())
	}
	return s
}

// Twin is one buffer on the backend under test and on the reference.
type Twin struct{ Dev, Ref device.Buffer }

// Pair is the backend under test and the CPU reference, with the buffers
// made through it.
type Pair struct {
	T        testing.TB
	Dev, Ref device.Backend
}

// Alloc makes a twin of n elements of dt, written with init (nil: zeros).
func (p Pair) Alloc(dt device.DType, n int, init any) Twin {
	p.T.Helper()
	var x Twin
	for _, side := range []struct {
		dev device.Backend
		buf *device.Buffer
	}{{p.Dev, &x.Dev}, {p.Ref, &x.Ref}} {
		b, err := side.dev.Alloc(dt, n)
		if err != nil {
			p.T.Fatal(err)
		}
		if init != nil {
			if err := side.dev.Write(b, 0, init); err != nil {
				p.T.Fatal(err)
			}
		}
		*side.buf = b
	}
	return x
}

// Same reads a twin back from both sides and fails on the first element
// that differs bitwise (any NaN equal to any NaN, half NaNs included).
func (p Pair) Same(what string, x Twin) {
	p.T.Helper()
	n, dt := x.Dev.Len(), x.Dev.DType()
	read := func(dev device.Backend, b device.Buffer) []uint64 {
		var out []uint64
		var err error
		switch dt {
		case device.Float32:
			out, err = readBits(dev, b, n, func(v float32) (uint64, bool) { return uint64(math.Float32bits(v)), v != v })
		case device.Float64:
			out, err = readBits(dev, b, n, func(v float64) (uint64, bool) { return math.Float64bits(v), v != v })
		case device.Uint8:
			out, err = readBits(dev, b, n, func(v uint8) (uint64, bool) { return uint64(v), false })
		default:
			widen := half.BF16ToFloat32
			if dt == device.Float16 {
				widen = half.F16ToFloat32
			}
			out, err = readBits(dev, b, n, func(v uint16) (uint64, bool) { f := widen(v); return uint64(v), f != f })
		}
		if err != nil {
			p.T.Fatal(err)
		}
		return out
	}
	got, want := read(p.Dev, x.Dev), read(p.Ref, x.Ref)
	for i := range got {
		if got[i] != want[i] {
			p.T.Fatalf("%s (%v): element %d of %d is %#x, the CPU's %#x", what, dt, i, n, got[i], want[i])
		}
	}
}

// Update runs u, built for each side by pick, on both.
func (p Pair) Update(u func(pick func(Twin) device.Buffer) device.Update) {
	p.T.Helper()
	if err := p.Dev.(device.Updater).Update(u(func(x Twin) device.Buffer { return x.Dev })); err != nil {
		p.T.Fatal(err)
	}
	if err := p.Ref.(device.Updater).Update(u(func(x Twin) device.Buffer { return x.Ref })); err != nil {
		p.T.Fatal(err)
	}
}

// Family runs four dense steps of count ranges of every rule (Ranges of
// FamilyRules) on parameters of pdt with gradients of gdt, and compares
// parameters and both state buffers with the CPU's.
func Family(t *testing.T, dev, ref device.Backend, pdt, gdt device.DType, count int) {
	p := Pair{T: t, Dev: dev, Ref: ref}
	rng := rand.New(rand.NewPCG(uint64(count), uint64(pdt)*7+uint64(gdt)))
	n := 4099 + 37*count
	param := p.Alloc(pdt, n, Values(rng, pdt, n, false))
	sum := p.Alloc(pdt.Compute(), 2*n, Values(rng, pdt.Compute(), 2*n, true))
	codes := p.Alloc(device.Uint8, n, Values(rng, device.Uint8, n, false))
	grad := p.Alloc(gdt, n, nil)
	for step := range 4 {
		// Steps 1 and 2 keep the ranges (a cached table), the others change.
		rs := Ranges(rand.New(rand.NewPCG(uint64(count), 0)), n, count, min(step, 1)+2*(step/3), FamilyRules)
		g := Values(rng, gdt, n, false)
		for _, x := range []struct {
			dev device.Backend
			buf device.Buffer
		}{{dev, grad.Dev}, {ref, grad.Ref}} {
			if err := x.dev.Write(x.buf, 0, g); err != nil {
				t.Fatal(err)
			}
		}
		p.Update(func(pick func(Twin) device.Buffer) device.Update {
			return device.Update{Param: pick(param), Grad: pick(grad), State: [device.StateBuffers]device.Buffer{pick(sum), pick(codes)}, Ranges: rs}
		})
	}
	p.Same(fmt.Sprintf("%v parameters", pdt), param)
	p.Same("state", sum)
	p.Same("8-bit state", codes)
}

// FamilyRows runs row-sparse steps of device.AdagradRowwise (a thread per
// row) and of element rules of one state and of two (4 elements a thread)
// on parameters of pdt, a table of rows × width with touched rows a step,
// through update, and compares with the CPU's.
func FamilyRows(t *testing.T, dev, ref device.Backend, pdt device.DType, rows, width, touched int) {
	p := Pair{T: t, Dev: dev, Ref: ref}
	rng := rand.New(rand.NewPCG(uint64(rows), uint64(width)))
	n := rows*width + 3
	param := p.Alloc(pdt, n, Values(rng, pdt, n, false))
	// The element rules' first state per element from 1, row-wise's per row
	// after it, a second state per element after that (each rule reads
	// what the one before left).
	rowState, second := n+2, n+rows+4
	sum := p.Alloc(pdt.Compute(), 2*n+rows+4, Values(rng, pdt.Compute(), 2*n+rows+4, true))
	for step, rule := range []device.Rule{device.AdagradRowwise, device.Adagrad, device.AdagradDA, device.AdagradRowwise,
		device.AdagradJAX, device.ProximalAdagrad, device.AdagradEpsInside} {
		var idx []int64
		for r := range rows {
			if rng.IntN(rows) < touched {
				idx = append(idx, int64(r))
			}
		}
		r := device.Range{Off: 3, Len: rows * width, Width: width, Rule: rule, Key: uint64(step + 1),
			Coef: Coefs(rule, step, step, true), StateOff: [device.MaxStates]int{1, second}}
		if rule == device.AdagradRowwise {
			r.Coef[device.CoefWeightDecay] = 0.01 * float64(step)
			r.StateOff[0] = rowState
		}
		vals := Values(rng, pdt.Compute(), len(idx)*width, false)
		for _, x := range []struct {
			dev           device.Backend
			param, states device.Buffer
		}{{dev, param.Dev, sum.Dev}, {ref, param.Ref, sum.Ref}} {
			u := device.RowUpdate{Param: x.param, State: [device.StateBuffers]device.Buffer{x.states}, Range: r, Rows: rows,
				Indices: idx, Values: vals}
			if err := x.dev.(device.Updater).UpdateRows(u); err != nil {
				t.Fatal(err)
			}
		}
	}
	p.Same(fmt.Sprintf("%v parameters", pdt), param)
	p.Same("state", sum)
}

// readBits reads n elements of b and returns each one's bits, every NaN as
// the same value (NaN payloads are not part of the contract).
func readBits[T float32 | float64 | uint8 | uint16](dev device.Backend, b device.Buffer, n int, bits func(T) (uint64, bool)) ([]uint64, error) {
	s := make([]T, n)
	if err := dev.Read(s, b, 0); err != nil {
		return nil, err
	}
	out := make([]uint64, n)
	for i, v := range s {
		x, nan := bits(v)
		if nan {
			x = math.MaxUint64
		}
		out[i] = x
	}
	return out, nil
}
