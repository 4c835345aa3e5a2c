package devicetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// Closed is the lifetime layer: after Close every method fails with
// device.ErrClosed (Alloc, Write, Read, Sync, Update, UpdateRows, and
// ReadRows, Copy, Free where declared), a second Close is not an error;
// and a freed buffer fails every method it is handed to with ErrClosed,
// in every position, while the backend and its other buffers go on
// working unchanged.
func Closed(t *testing.T, open Opener) {
	t.Run("Device", func(t *testing.T) { testClosedDevice(t, open) })
	t.Run("FreedBuffer", func(t *testing.T) { testFreedBuffer(t, open) })
}

// lifeCall is one call of every method that takes buffers, with the
// buffers chosen by the caller.
type lifeCall struct {
	name string
	call func() error
}

// bufferCalls returns a call of every buffer-taking method the backend
// has, each valid but for what x is: x takes every buffer position in
// turn, the other positions get live buffers p, g, s (float32, 8 elements
// each, one row of 8 for the row calls). rule is one the backend runs on
// float32 parameters, dense and row-sparse.
func bufferCalls(dev device.Backend, rule device.Rule, x, p, g, s device.Buffer) []lifeCall {
	caps := dev.Capabilities()
	upd, _ := dev.(device.Updater)
	rng := device.Range{Len: 8, Width: 8, Rule: rule, Coef: coefsFor(rule, 0, 0, false)}
	rowRange := rng
	rowRange.Coef = coefsFor(rule, 0, 0, true)
	// states gives state 0 the buffer under test, any other state s.
	states := func(state device.Buffer) (st [device.StateBuffers]device.Buffer) {
		spec, _ := rule.Spec()
		for k := range spec.State {
			st[k] = s
		}
		st[0] = state
		return st
	}
	update := func(param, grad, state device.Buffer) func() error {
		return func() error {
			return upd.Update(device.Update{Param: param, Grad: grad, State: states(state), Ranges: []device.Range{rng}})
		}
	}
	rows := func(param, state device.Buffer) func() error {
		return func() error {
			return upd.UpdateRows(device.RowUpdate{Param: param, State: states(state), Range: rowRange, Rows: 1, Indices: []int64{0}, Values: make([]float32, 8)})
		}
	}
	calls := []lifeCall{
		{"Write", func() error { return dev.Write(x, 0, make([]float32, 8)) }},
		{"Read", func() error { return dev.Read(make([]float32, 8), x, 0) }},
	}
	if upd != nil && caps.Supports(rule, device.Float32, false) {
		calls = append(calls,
			lifeCall{"Update (param)", update(x, g, s)},
			lifeCall{"Update (grad)", update(p, x, s)},
			lifeCall{"Update (state)", update(p, g, x)})
	}
	if upd != nil && caps.Supports(rule, device.Float32, true) {
		calls = append(calls,
			lifeCall{"UpdateRows (param)", rows(x, s)},
			lifeCall{"UpdateRows (state)", rows(p, x)})
	}
	if rr, ok := dev.(device.RowReader); ok && caps.Gather {
		calls = append(calls, lifeCall{"ReadRows", func() error { return rr.ReadRows(make([]float32, 8), x, 0, 8, []int64{0}) }})
	}
	if c, ok := dev.(device.Copier); ok && caps.Copy {
		calls = append(calls,
			lifeCall{"Copy (dst)", func() error { return c.Copy(x, p) }},
			lifeCall{"Copy (src)", func() error { return c.Copy(p, x) }})
	}
	if f, ok := dev.(device.Freer); ok && caps.Free {
		calls = append(calls, lifeCall{"Free", func() error { return f.Free(x) }})
	}
	return calls
}

// float32Rule is a rule the backend runs on float32 parameters, dense and
// row-sparse if it can, or 0.
func float32Rule(caps device.Capabilities) device.Rule {
	dense := declaredRules(caps, device.Float32, false)
	if rows := declaredRules(caps, device.Float32, true); len(rows) > 0 {
		return rows[0]
	}
	if len(dense) > 0 {
		return dense[0]
	}
	return 0
}

func testClosedDevice(t *testing.T, open Opener) {
	dev, err := open()
	if err != nil {
		t.Fatal(err)
	}
	caps := dev.Capabilities()
	if !caps.HasDType(device.Float32) {
		t.Skip("no float32")
	}
	rule := float32Rule(caps)
	bufs := make([]device.Buffer, 4)
	for i := range bufs {
		bufs[i] = mustAlloc(t, dev, device.Float32, 8)
	}
	// Some work first, so that Close has something to wait for.
	if upd, ok := dev.(device.Updater); ok && rule != 0 {
		st := [device.StateBuffers]device.Buffer{}
		spec, _ := rule.Spec()
		for k := range spec.State {
			st[k] = bufs[2+k%2]
		}
		if err := upd.Update(device.Update{Param: bufs[0], Grad: bufs[1], State: st,
			Ranges: []device.Range{{Len: 8, Width: 8, Rule: rule, Coef: coefsFor(rule, 0, 0, false)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := dev.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := dev.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	calls := []lifeCall{
		{"Alloc", func() error { _, err := dev.Alloc(device.Float32, 1); return err }},
		{"Sync", dev.Sync},
	}
	calls = append(calls, bufferCalls(dev, rule, bufs[0], bufs[1], bufs[2], bufs[3])...)
	if _, ok := dev.(device.Updater); ok && rule != 0 {
		// Every buffer position was tried above; also the whole call.
		calls = append(calls, lifeCall{"Update (no ranges)", func() error {
			return updater(t, dev).Update(device.Update{Param: bufs[0], Grad: bufs[1], State: states(bufs[2])})
		}})
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, device.ErrClosed) {
			t.Errorf("%s after Close: err = %v, want ErrClosed", c.name, err)
		}
	}
	_ = dev.String() // still names the device
}

func testFreedBuffer(t *testing.T, open Opener) {
	dev := MustOpen(t, open)
	caps := dev.Capabilities()
	if _, ok := dev.(device.Freer); !ok || !caps.Free {
		t.Skip("the backend frees no single buffers (Capabilities.Free)")
	}
	if !caps.HasDType(device.Float32) {
		t.Skip("no float32")
	}
	rule := float32Rule(caps)
	live := make([]*mirror[float32], 3)
	for i := range live {
		live[i] = newMirror[float32](t, dev, 8)
		live[i].open(0, []float32{1, 2, 3, 4, 5, 6, 7, float32(i)})
		live[i].upload(t, dev)
	}
	freed := mustAlloc(t, dev, device.Float32, 8)
	if err := dev.(device.Freer).Free(freed); err != nil {
		t.Fatalf("Free: %v", err)
	}
	for _, c := range bufferCalls(dev, rule, freed, live[0].buf, live[1].buf, live[2].buf) {
		if err := c.call(); !errors.Is(err, device.ErrClosed) {
			t.Errorf("%s with a freed buffer: err = %v, want ErrClosed", c.name, err)
		}
	}
	if err := dev.Sync(); err != nil {
		t.Fatalf("Sync after refused calls: %v", err)
	}
	for i, m := range live {
		m.check(t, dev, fmt.Sprintf("live buffer %d", i))
	}
	// The backend still allocates and works.
	b := mustAlloc(t, dev, device.Float32, 3)
	expectContents(t, dev, b, make([]float64, 3))
}
