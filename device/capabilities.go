package device

import (
	"fmt"
	"slices"
)

// Capabilities is what a backend supports, declared as data in the manner
// of GoMLX's backends: the optimizer and "auto" read it instead of trying a
// call and looking at the error.
type Capabilities struct {
	// DTypes are the element types Alloc takes. BFloat16 and Float16 in
	// the list mean that dense updates of float32 parameters also take
	// gradients of that type (see GradOK); Uint8, that 8-bit state can be
	// kept.
	DTypes []DType
	// Rules are the update rules the backend's Updater runs.
	Rules []RuleSupport
	// Gather: the backend is a RowReader.
	Gather bool
	// Copy and Free: the backend is a Copier, a Freer.
	Copy, Free bool
	// OverlapsWrites: Writes run beside the backend's kernels, so that
	// uploading the next step's gradients while the current step runs pays
	// off. The optimizer then alternates two gradient buffers per dtype, so
	// that an upload never lands in the buffer a running kernel reads.
	OverlapsWrites bool
}

// RuleSupport is one update rule a backend runs, for which parameter dtypes,
// and whether with row-sparse gradients (Updater.UpdateRows) too.
type RuleSupport struct {
	Rule   Rule
	DTypes []DType // parameter dtypes: Float32, Float64, BFloat16, Float16 (computed in float32)
	Rows   bool
}

// HasDType reports whether Alloc takes dt.
func (c Capabilities) HasDType(dt DType) bool { return slices.Contains(c.DTypes, dt) }

// Supports reports whether the backend runs rule r on parameters of dtype
// dt, dense, and with row-sparse gradients too when rows is set.
func (c Capabilities) Supports(r Rule, dt DType, rows bool) bool {
	for _, s := range c.Rules {
		if s.Rule == r && slices.Contains(s.DTypes, dt) && (s.Rows || !rows) {
			return true
		}
	}
	return false
}

// CheckRules returns an ErrRule error for the first range whose rule the
// capabilities do not list for parameters of dtype dt (with row-sparse
// gradients when rows is set).
func (c Capabilities) CheckRules(dt DType, rows bool, ranges ...Range) error {
	for _, r := range ranges {
		if !c.Supports(r.Rule, dt, rows) {
			form := "dense"
			if rows {
				form = "row-sparse"
			}
			return fmt.Errorf("%w: %v on %v parameters, %s", ErrRule, r.Rule, dt, form)
		}
	}
	return nil
}
