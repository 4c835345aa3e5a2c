package devicetest

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// badCall is one call that must fail with a specific sentinel.
type badCall struct {
	what string
	want error // matched with errors.Is
	call func() error
}

// expectErrors makes every call and checks its sentinel. A panic is a
// failure too, reported as one: bad input gets an error.
func expectErrors(t *testing.T, calls []badCall) {
	t.Helper()
	for _, c := range calls {
		err := noPanic(c.call)
		ok := errors.Is(err, c.want)
		if e, either := c.want.(eitherError); either {
			ok = errors.Is(err, e[0]) || errors.Is(err, e[1])
		}
		if !ok {
			t.Errorf("%s: err = %v, want %v", c.what, err, c.want)
		}
	}
}

func noPanic(call func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return call()
}

// foreignBuffer is a Buffer no backend made.
type foreignBuffer struct{}

func (foreignBuffer) DType() device.DType { return device.Float32 }
func (foreignBuffer) Len() int            { return 64 }

// BadInput is the argument layer: malformed Alloc, Write, Read, Update,
// UpdateRows, Copy and Free calls each fail with their sentinel
// (device.ErrRange, ErrDType, ErrHyper, ErrRule, ErrForeignBuffer) and
// change no buffer, bitwise; a refused Update applies none of its ranges,
// the valid ones included.
func BadInput(t *testing.T, open Opener) {
	dev := MustOpen(t, open)
	caps := dev.Capabilities()
	t.Run("Alloc", func(t *testing.T) {
		expectErrors(t, []badCall{
			{"Alloc of -1 elements", device.ErrRange, func() error { _, err := dev.Alloc(device.Float32, -1); return err }},
			{"Alloc of MaxInt elements", device.ErrRange, func() error { _, err := dev.Alloc(device.Float32, math.MaxInt); return err }},
			{"Alloc of DType(0)", device.ErrDType, func() error { _, err := dev.Alloc(0, 1); return err }},
			{"Alloc of DType(99)", device.ErrDType, func() error { _, err := dev.Alloc(99, 1); return err }},
		})
	})
	for _, dt := range dtypes {
		if !caps.HasDType(dt) {
			continue
		}
		t.Run(dt.String(), func(t *testing.T) {
			if dt == device.Float32 {
				badInput[float32](t, dev, open)
			} else {
				badInput[float64](t, dev, open)
			}
		})
	}
}

// badSet is the buffers of the bad-input tests: parameters, gradients and
// two states of 16 elements, and the same of another backend, all with
// values that must survive every refused call.
type badSet[T Float] struct {
	dev              device.Backend
	p, g, s0, s1     *mirror[T]
	foreign, other   device.Buffer // another backend's buffer; one of another dtype
	half             device.Buffer // a BFloat16 or Float16 buffer, or nil
	bytes            device.Buffer // a Uint8 buffer, or nil
	rule             device.Rule   // a rule the backend runs on T, dense
	rowRule          device.Rule   // one with row-sparse gradients too, or 0
	stateBufs        [device.StateBuffers]device.Buffer
	updater          device.Updater
	hasOther, hasRow bool
}

const badLen = 16

func newBadSet[T Float](t *testing.T, dev device.Backend, open Opener) *badSet[T] {
	dt := dtypeOf[T]()
	caps := dev.Capabilities()
	b := &badSet[T]{dev: dev}
	for i, m := range []**mirror[T]{&b.p, &b.g, &b.s0, &b.s1} {
		*m = newMirror[T](t, dev, badLen)
		v := make([]T, badLen)
		for j := range v {
			v[j] = T(i*badLen + j + 1)
		}
		(*m).open(0, v)
		(*m).upload(t, dev)
	}
	b.stateBufs = [device.StateBuffers]device.Buffer{b.s0.buf, b.s1.buf}
	b.foreign = mustAlloc(t, MustOpen(t, open), dt, badLen)
	for _, o := range []device.DType{device.Float32, device.Float64} {
		if o != dt && caps.HasDType(o) {
			b.other, b.hasOther = mustAlloc(t, dev, o, badLen), true
		}
	}
	if caps.HasDType(device.Uint8) {
		b.bytes = mustAlloc(t, dev, device.Uint8, badLen)
	}
	for _, h := range []device.DType{device.BFloat16, device.Float16} {
		if caps.HasDType(h) {
			b.half = mustAlloc(t, dev, h, badLen)
			break
		}
	}
	if rules := declaredRules(caps, dt, false); len(rules) > 0 {
		b.rule = rules[0]
	}
	if rules := declaredRules(caps, dt, true); len(rules) > 0 {
		b.rowRule, b.hasRow = rules[0], true
	}
	b.updater, _ = dev.(device.Updater)
	return b
}

// unchanged checks every buffer of the set against its values.
func (b *badSet[T]) unchanged(t *testing.T) {
	t.Helper()
	if err := b.dev.Sync(); err != nil {
		t.Fatalf("Sync after refused calls: %v", err)
	}
	for i, m := range []*mirror[T]{b.p, b.g, b.s0, b.s1} {
		m.check(t, b.dev, fmt.Sprintf("buffer %d after refused calls", i))
	}
}

func badInput[T Float](t *testing.T, dev device.Backend, open Opener) {
	b := newBadSet[T](t, dev, open)
	if b.updater != nil && b.rule != 0 {
		t.Run("Update", func(t *testing.T) { expectErrors(t, b.updateCalls()); b.unchanged(t) })
	}
	if b.updater != nil && b.hasRow {
		t.Run("UpdateRows", func(t *testing.T) { expectErrors(t, b.rowCalls()); b.unchanged(t) })
	}
	t.Run("Memory", func(t *testing.T) { expectErrors(t, b.memoryCalls(t)); b.unchanged(t) })
}

// coefCases are the bad values of every coefficient of rule r: NaN, ±Inf
// and negative ones (or a sign other than ±1), a float32 overflow, and a
// coefficient the rule does not have.
func coefCases(r device.Rule, dt device.DType, rows bool) map[string][device.MaxCoefs]float64 {
	spec, _ := r.Spec()
	good := coefsFor(r, 0, 0, rows)
	out := map[string][device.MaxCoefs]float64{}
	for k, cs := range spec.Coefs {
		bad := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1e-3}
		if cs.Sign {
			bad = []float64{0, 2, -0.5, math.NaN()}
		} else if cs.Flag {
			bad = []float64{2, 0.5, -1, math.NaN(), math.Inf(1)}
		} else if dt == device.Float32 {
			bad = append(bad, 1e39) // +Inf once rounded to float32
		}
		if cs.DenseOnly && rows {
			bad = append(bad, 0.1) // no row-sparse form with it
		}
		for _, v := range bad {
			c := good
			c[k] = v
			out[fmt.Sprintf("%s = %v", cs.Name, v)] = c
		}
	}
	if len(spec.Coefs) < device.MaxCoefs {
		c := good
		c[len(spec.Coefs)] = 1
		out["an unused coefficient set"] = c
	}
	return out
}

func (b *badSet[T]) updateCalls() []badCall {
	dt := dtypeOf[T]()
	ok := device.Range{Off: 0, Len: 4, Width: 4, Rule: b.rule, Coef: coefsFor(b.rule, 0, 0, false)}
	with := func(f func(r *device.Range)) device.Range { r := ok; f(&r); return r }
	upd := func(rs ...device.Range) device.Update {
		return device.Update{Param: b.p.buf, Grad: b.g.buf, State: b.stateBufs, Ranges: rs}
	}
	call := func(u device.Update) func() error { return func() error { return b.updater.Update(u) } }
	// second is a range after ok, its state after ok's.
	second := func(f func(r *device.Range)) device.Range {
		return with(func(r *device.Range) { r.Off, r.StateOff = 8, [device.MaxStates]int{8, 8}; f(r) })
	}
	calls := []badCall{
		{"overlapping ranges", device.ErrRange, call(upd(ok, with(func(r *device.Range) { r.Off, r.StateOff[0] = 3, 8 })))},
		{"unsorted ranges", device.ErrRange, call(upd(second(func(*device.Range) {}), ok))},
		{"a range past the end", device.ErrRange, call(upd(with(func(r *device.Range) { r.Off = badLen - 2 })))},
		{"a range past the end (offset overflow)", device.ErrRange, call(upd(with(func(r *device.Range) { r.Off = math.MaxInt - 1 })))},
		{"a negative offset", device.ErrRange, call(upd(with(func(r *device.Range) { r.Off = -1 })))},
		{"a negative length", device.ErrRange, call(upd(with(func(r *device.Range) { r.Len = -1 })))},
		{"state past the end", device.ErrRange, call(upd(with(func(r *device.Range) { r.StateOff[0] = badLen - 2 })))},
		{"a negative state offset", device.ErrRange, call(upd(with(func(r *device.Range) { r.StateOff[0] = -1 })))},
		{"ranges sharing state", device.ErrRange, call(upd(ok, second(func(r *device.Range) { r.StateOff[0] = 2 })))},
		{"an unknown rule", device.ErrRule, call(upd(with(func(r *device.Range) { r.Rule = 0 })))},
		{"rule 250", device.ErrRule, call(upd(ok, second(func(r *device.Range) { r.Rule = 250 })))},
		{"no param", device.ErrForeignBuffer, call(device.Update{Grad: b.g.buf, State: b.stateBufs, Ranges: []device.Range{ok}})},
		{"no grad", device.ErrForeignBuffer, call(device.Update{Param: b.p.buf, State: b.stateBufs, Ranges: []device.Range{ok}})},
		{"no state", device.ErrForeignBuffer, call(device.Update{Param: b.p.buf, Grad: b.g.buf, Ranges: []device.Range{ok}})},
		{"another backend's param", device.ErrForeignBuffer, call(device.Update{Param: b.foreign, Grad: b.g.buf, State: b.stateBufs, Ranges: []device.Range{ok}})},
		{"another backend's grad", device.ErrForeignBuffer, call(device.Update{Param: b.p.buf, Grad: b.foreign, State: b.stateBufs, Ranges: []device.Range{ok}})},
		{"another backend's state", device.ErrForeignBuffer, call(device.Update{Param: b.p.buf, Grad: b.g.buf, State: states(b.foreign), Ranges: []device.Range{ok}})},
		{"a buffer of no backend", device.ErrForeignBuffer, call(device.Update{Param: b.p.buf, Grad: foreignBuffer{}, State: b.stateBufs, Ranges: []device.Range{ok}})},
	}
	if b.hasOther {
		calls = append(calls,
			badCall{"grad of another dtype", device.ErrDType, call(device.Update{Param: b.p.buf, Grad: b.other, State: b.stateBufs, Ranges: []device.Range{ok}})},
			badCall{"state of another dtype", device.ErrDType, call(device.Update{Param: b.p.buf, Grad: b.g.buf, State: states(b.other), Ranges: []device.Range{ok}})})
	}
	if b.bytes != nil {
		calls = append(calls, badCall{"8-bit parameters", device.ErrDType, call(device.Update{Param: b.bytes, Grad: b.bytes, State: b.stateBufs, Ranges: []device.Range{ok}})},
			badCall{"8-bit gradients", device.ErrDType, call(device.Update{Param: b.p.buf, Grad: b.bytes, State: b.stateBufs, Ranges: []device.Range{ok}})})
	}
	if b.half != nil {
		if dt == device.Float64 {
			calls = append(calls, badCall{"half parameters with float64 state", device.ErrDType, call(device.Update{Param: b.half, Grad: b.half, State: b.stateBufs, Ranges: []device.Range{ok}})})
			calls = append(calls, badCall{"half grads for float64 parameters", device.ErrDType, call(device.Update{Param: b.p.buf, Grad: b.half, State: b.stateBufs, Ranges: []device.Range{ok}})})
		}
	}
	for name, c := range coefCases(b.rule, dt, false) {
		// After a valid range: the whole call is refused.
		bad := second(func(r *device.Range) { r.Coef = c })
		calls = append(calls, badCall{"a range with " + name, device.ErrHyper, call(upd(ok, bad))})
	}
	return calls
}

func (b *badSet[T]) rowCalls() []badCall {
	dt := dtypeOf[T]()
	ok := device.RowUpdate{Param: b.p.buf, State: b.stateBufs, Rows: 4, Indices: []int64{0, 2}, Values: make([]T, 8),
		Range: device.Range{Len: badLen, Width: 4, Rule: b.rowRule, Coef: coefsFor(b.rowRule, 0, 0, true)}}
	with := func(f func(u *device.RowUpdate)) func() error {
		u := ok
		u.Indices = append([]int64(nil), ok.Indices...)
		f(&u)
		return func() error { return b.updater.UpdateRows(u) }
	}
	var otherValues any = make([]float64, 8)
	if dt == device.Float64 {
		otherValues = make([]float32, 8)
	}
	calls := []badCall{
		{"duplicate rows", device.ErrRange, with(func(u *device.RowUpdate) { u.Indices = []int64{2, 2} })},
		{"unsorted rows", device.ErrRange, with(func(u *device.RowUpdate) { u.Indices = []int64{2, 0} })},
		{"a row past the end", device.ErrRange, with(func(u *device.RowUpdate) { u.Indices = []int64{0, 4} })},
		{"a negative row", device.ErrRange, with(func(u *device.RowUpdate) { u.Indices = []int64{-1, 2} })},
		{"a table past the end", device.ErrRange, with(func(u *device.RowUpdate) { u.Rows, u.Range.Len = 5, 20 })},
		{"a table at an offset past the end", device.ErrRange, with(func(u *device.RowUpdate) { u.Range.Off = 4 })},
		{"rows that do not make the range", device.ErrRange, with(func(u *device.RowUpdate) { u.Rows = 3 })},
		{"a negative width", device.ErrRange, with(func(u *device.RowUpdate) { u.Range.Width = -4 })},
		{"too few values", device.ErrRange, with(func(u *device.RowUpdate) { u.Values = make([]T, 7) })},
		{"too many values", device.ErrRange, with(func(u *device.RowUpdate) { u.Values = make([]T, 9) })},
		{"values of another dtype", device.ErrDType, with(func(u *device.RowUpdate) { u.Values = otherValues })},
		{"values that are no float slice", device.ErrDType, with(func(u *device.RowUpdate) { u.Values = []int{1} })},
		{"state past the end", device.ErrRange, with(func(u *device.RowUpdate) { u.Range.StateOff[0] = 2 })},
		{"an unknown rule", device.ErrRule, with(func(u *device.RowUpdate) { u.Range.Rule = 250 })},
		{"no param", device.ErrForeignBuffer, with(func(u *device.RowUpdate) { u.Param = nil })},
		{"no state", device.ErrForeignBuffer, with(func(u *device.RowUpdate) { u.State = [device.StateBuffers]device.Buffer{} })},
		{"another backend's param", device.ErrForeignBuffer, with(func(u *device.RowUpdate) { u.Param = b.foreign })},
		{"another backend's state", device.ErrForeignBuffer, with(func(u *device.RowUpdate) { u.State = states(b.foreign) })},
	}
	if b.hasOther {
		calls = append(calls, badCall{"state of another dtype", device.ErrDType, with(func(u *device.RowUpdate) { u.State = states(b.other) })})
	}
	for name, c := range coefCases(b.rowRule, dt, true) {
		calls = append(calls, badCall{name, device.ErrHyper, with(func(u *device.RowUpdate) { u.Range.Coef = c })})
	}
	return calls
}

func (b *badSet[T]) memoryCalls(t *testing.T) []badCall {
	dev := b.dev
	calls := []badCall{
		{"Write to another backend's buffer", device.ErrForeignBuffer, func() error { return dev.Write(b.foreign, 0, make([]T, 1)) }},
		{"Read of another backend's buffer", device.ErrForeignBuffer, func() error { return dev.Read(make([]T, 1), b.foreign, 0) }},
		{"Write to a buffer of no backend", device.ErrForeignBuffer, func() error { return dev.Write(foreignBuffer{}, 0, make([]float32, 1)) }},
		{"Write to no buffer", device.ErrForeignBuffer, func() error { return dev.Write(nil, 0, make([]T, 1)) }},
		{"Read of no buffer", device.ErrForeignBuffer, func() error { return dev.Read(make([]T, 1), nil, 0) }},
	}
	if c, ok := dev.(device.Copier); ok && dev.Capabilities().Copy {
		short := mustAlloc(t, dev, dtypeOf[T](), badLen-1)
		calls = append(calls,
			badCall{"Copy from another backend", device.ErrForeignBuffer, func() error { return c.Copy(b.p.buf, b.foreign) }},
			badCall{"Copy to another backend", device.ErrForeignBuffer, func() error { return c.Copy(b.foreign, b.p.buf) }},
			badCall{"Copy from no buffer", device.ErrForeignBuffer, func() error { return c.Copy(b.p.buf, nil) }},
			badCall{"Copy to no buffer", device.ErrForeignBuffer, func() error { return c.Copy(nil, b.p.buf) }},
			// The backends call a length mismatch a dtype mismatch today
			// (device.ErrDType); ErrRange would say it better. Either is a
			// sentinel a caller can act on.
			badCall{"Copy of another length", errRangeOrDType, func() error { return c.Copy(b.p.buf, short) }})
		if b.hasOther {
			calls = append(calls, badCall{"Copy of another dtype", device.ErrDType, func() error { return c.Copy(b.p.buf, b.other) }})
		}
	}
	if f, ok := dev.(device.Freer); ok && dev.Capabilities().Free {
		calls = append(calls,
			badCall{"Free of another backend's buffer", device.ErrForeignBuffer, func() error { return f.Free(b.foreign) }},
			badCall{"Free of a buffer of no backend", device.ErrForeignBuffer, func() error { return f.Free(foreignBuffer{}) }},
			badCall{"Free of no buffer", device.ErrForeignBuffer, func() error { return f.Free(nil) }})
	}
	return calls
}

// errRangeOrDType stands for either sentinel in a badCall's want.
var errRangeOrDType = eitherError{device.ErrRange, device.ErrDType}

type eitherError [2]error

func (e eitherError) Error() string { return fmt.Sprintf("%v or %v", e[0], e[1]) }
