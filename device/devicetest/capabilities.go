package devicetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// allDTypes are the element types a backend may declare.
var allDTypes = []device.DType{device.Float32, device.Float64, device.BFloat16, device.Float16, device.Uint8}

// Capabilities is the declaration layer: what the backend declares is what
// it does. Every declared dtype allocates and every other is refused with
// device.ErrDType; every declared rule is a defined rule with a reference
// here, on declared parameter dtypes, and runs (dense, and row-sparse where
// declared); every rule and form not declared is refused with
// device.ErrRule, as are undefined rules; half gradient types declared
// feed float32 updates; and Gather, Copy and Free are declared only by
// backends that implement them.
func Capabilities(t *testing.T, open Opener) {
	dev := MustOpen(t, open)
	caps := dev.Capabilities()
	if _, ok := dev.(device.Updater); !ok {
		t.Errorf("%v is no device.Updater: it runs no update rules", dev)
	}
	for _, flag := range []struct {
		name     string
		declared bool
		has      bool
	}{
		{"Gather (device.RowReader)", caps.Gather, implements[device.RowReader](dev)},
		{"Copy (device.Copier)", caps.Copy, implements[device.Copier](dev)},
		{"Free (device.Freer)", caps.Free, implements[device.Freer](dev)},
	} {
		if flag.declared && !flag.has {
			t.Errorf("%v declares %s but does not implement it", dev, flag.name)
		}
	}
	for _, dt := range append(slices.Clone(allDTypes), 0, 99) {
		b, err := dev.Alloc(dt, 3)
		switch {
		case caps.HasDType(dt) && err != nil:
			t.Errorf("Alloc of declared %v: %v", dt, err)
		case caps.HasDType(dt) && (b.DType() != dt || b.Len() != 3):
			t.Errorf("Alloc(%v, 3) gave %d %v", dt, b.Len(), b.DType())
		case !caps.HasDType(dt) && !errors.Is(err, device.ErrDType):
			t.Errorf("Alloc of undeclared %v: err = %v, want ErrDType", dt, err)
		}
	}
	for _, s := range caps.Rules {
		if _, ok := s.Rule.Spec(); !ok {
			t.Errorf("declared rule %v is not defined in package device", s.Rule)
		}
		if !hasReference(s.Rule) {
			t.Errorf("declared rule %v has no reference in devicetest: add one to references", s.Rule)
		}
		for _, dt := range s.DTypes {
			if !dt.Param() || !caps.HasDType(dt) {
				t.Errorf("rule %v declared on %v parameters, which are not a declared parameter dtype", s.Rule, dt)
			}
		}
	}
	upd, ok := dev.(device.Updater)
	if !ok {
		return
	}
	for _, dt := range paramDTypes {
		if !caps.HasDType(dt) || !caps.HasDType(dt.Compute()) {
			continue
		}
		for _, r := range append(device.Rules(), 0, 250) {
			for _, rows := range []bool{false, true} {
				err := tinyUpdate(t, dev, upd, dt, dt.Compute(), r, rows)
				switch {
				case caps.Supports(r, dt, rows) && err != nil:
					t.Errorf("declared %v on %v (rows %v): %v", r, dt, rows, err)
				case !caps.Supports(r, dt, rows) && !errors.Is(err, device.ErrRule):
					t.Errorf("undeclared %v on %v (rows %v): err = %v, want ErrRule", r, dt, rows, err)
				}
			}
		}
	}
	for _, gdt := range []device.DType{device.BFloat16, device.Float16} {
		if !caps.HasDType(gdt) || !caps.HasDType(device.Float32) {
			continue
		}
		for _, r := range declaredRules(caps, device.Float32, false) {
			if err := tinyUpdate(t, dev, upd, device.Float32, gdt, r, false); err != nil {
				t.Errorf("%v with declared %v gradients: %v", r, gdt, err)
			}
		}
	}
}

func implements[I any](dev device.Backend) bool { _, ok := dev.(I); return ok }

// tinyUpdate runs rule r once, dense or row-sparse, on 8 parameters of dt
// with gradients of gdt, and returns the backend's error.
func tinyUpdate(t *testing.T, dev device.Backend, upd device.Updater, dt, gdt device.DType, r device.Rule, rows bool) error {
	t.Helper()
	p, g := mustAlloc(t, dev, dt, 8), mustAlloc(t, dev, gdt, 8)
	var st [device.StateBuffers]device.Buffer
	st[device.StateReal] = mustAlloc(t, dev, dt.Compute(), 16)
	if dev.Capabilities().HasDType(device.Uint8) {
		st[device.StateBytes] = mustAlloc(t, dev, device.Uint8, 16)
	}
	rng := device.Range{Len: 8, Width: 4, Rule: r, Coef: coefsFor(r, 0, 0, rows)}
	if spec, known := r.Spec(); known {
		for k, ss := range spec.State {
			rng.StateOff[k] = 8 * k * (1 - ss.Buffer()) // states of one buffer apart
		}
	} else {
		rng.Coef = coefsFor(device.Adagrad, 0, 0, rows)
	}
	if !rows {
		return upd.Update(device.Update{Param: p, Grad: g, State: st, Ranges: []device.Range{rng}})
	}
	return upd.UpdateRows(device.RowUpdate{Param: p, State: st, Range: rng, Rows: 2, Indices: []int64{1}, Values: zeros(dt.Compute(), 4)})
}
