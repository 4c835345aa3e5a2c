package device

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Range is one contiguous run of parameter elements [Off, Off+Len) updated
// by one rule with one set of coefficients. The optimizer merges
// neighbouring tensors with equal coefficients into one Range, so a model
// of many tensors usually needs a handful.
type Range struct {
	Off, Len int
	Rule     Rule
	// Coef holds the rule's coefficients (RuleSpec.Coefs) in order, the rest
	// zero. They are computed in float64 by the caller (the learning rate
	// after decay, for example) and rounded to the parameters' compute
	// dtype by the backend.
	Coef [MaxCoefs]float64
	// Width is the row length in elements: needed by rules with per-row
	// state or per-row work, and by row-sparse updates.
	Width int
	// StateOff[k] is where the range's state k starts in the state buffer
	// of its type (StateSpec.Buffer): element Off+i uses state element
	// StateOff[k]+i (PerElement), StateOff[k]+i/Width (PerRow) or
	// StateOff[k]+i/Block (PerBlock).
	StateOff [MaxStates]int
	// Key is the stochastic-rounding key of this step for half-precision
	// parameters (ignored for others): every backend computes an element in
	// float32 and writes element Off+i back rounded with the random bits
	// StochasticBits(Key, i) (see RoundBF16 and RoundF16), so that one key
	// gives the same bits everywhere. The optimizer draws a key per tensor
	// and step from its seed (optim.Hyper.Seed).
	Key uint64
}

// Update asks for one step of the ranges' rules over parameter, gradient
// and state buffers. Every backend computes each rule exactly as its
// RuleSpec states, in the parameters' compute dtype, so that all backends
// agree bitwise.
//
// State[StateReal] holds every state of the compute dtype of every range,
// State[StateBytes] every 8-bit one, each at its range's StateOff: ranges
// of different rules share the buffers and one call.
type Update struct {
	Param, Grad Buffer
	State       [StateBuffers]Buffer
	Ranges      []Range
}

// RowUpdate asks for one row-sparse step on one tensor of Rows × Width
// elements at Range.Off of the parameter buffer (Range.Len = Rows×Width):
// row Indices[i] takes gradient Values[i*Width:(i+1)*Width] and the rule's
// row-sparse form; no other element, parameter or state, changes. The
// host sends only indices and values, never a dense gradient. Values are
// of the parameters' compute dtype (float32 for half parameters).
//
// Indices must be strictly increasing: the optimizer sums duplicate rows on
// the host, in the order given (as PyTorch coalesces them), before it calls
// the backend, so every backend gets the same sums and no two device
// threads write one row.
type RowUpdate struct {
	Param   Buffer
	State   [StateBuffers]Buffer
	Range   Range
	Rows    int
	Indices []int64
	Values  any // []float32 or []float64 of the parameters' compute dtype
}

// Updater is the capability of running update rules: dense (Update) and
// row-sparse (UpdateRows). Which rules, dtypes and forms a backend runs is
// declared in its Capabilities; any other is refused with ErrRule. Both
// may return before the device has finished.
type Updater interface {
	Update(u Update) error
	UpdateRows(u RowUpdate) error
}

// Validate checks what every backend must check before it touches memory:
// the buffers' dtypes (see GradOK), every range inside the parameter and
// gradient buffers, sorted and disjoint, every range's state inside its
// state buffer and apart from every other range's, and every coefficient
// valid in the compute dtype.
func (u Update) Validate() error {
	if u.Param == nil || u.Grad == nil {
		return fmt.Errorf("%w: update needs param and grad buffers", ErrForeignBuffer)
	}
	dt, gdt := u.Param.DType(), u.Grad.DType()
	if !GradOK(dt, gdt) {
		return fmt.Errorf("%w: param %v, grad %v", ErrDType, dt, gdt)
	}
	n := min(u.Param.Len(), u.Grad.Len())
	end := 0
	for i, r := range u.Ranges {
		if r.Off < end {
			return fmt.Errorf("%w: range %d [%d,%d) (ranges must be sorted and disjoint)", ErrRange, i, r.Off, r.Off+r.Len)
		}
		if err := r.validate(dt, n, u.State, false); err != nil {
			return fmt.Errorf("range %d: %w", i, err)
		}
		end = r.Off + r.Len
	}
	if err := checkDistinct(append([]Buffer{u.Param, u.Grad}, u.State[:]...)); err != nil {
		return err
	}
	return checkStateDisjoint(u.Ranges)
}

// GradOK reports whether dense gradients of dtype grad may update
// parameters of dtype param: gradients of the parameters' dtype; for
// float32 parameters also BFloat16 and Float16 ones (read and widened
// exactly); for half parameters also Float32 ones.
func GradOK(param, grad DType) bool {
	switch {
	case !param.Param():
		return false
	case grad == param:
		return true
	case param == Float32:
		return grad.Half()
	case param.Half():
		return grad == Float32
	}
	return false
}

// checkDistinct returns an ErrRange error when one buffer plays two roles
// (parameters and gradients, or a state): the update would read what it
// writes. Nil entries (absent states) are skipped, and so are buffers no
// Tracker made, which cannot be compared safely.
func checkDistinct(roles []Buffer) error {
	seen := make(map[*BufferHeader]int, len(roles))
	for i, b := range roles {
		tb, ok := b.(tracked)
		if b == nil || !ok {
			continue
		}
		h := tb.bufferHeader()
		if j, dup := seen[h]; dup {
			return fmt.Errorf("%w: one buffer is both %s and %s", ErrRange, roleName(j), roleName(i))
		}
		seen[h] = i
	}
	return nil
}

// roleName names entry i of checkDistinct's roles: param, grad, state k.
func roleName(i int) string {
	switch i {
	case 0:
		return "the parameters"
	case 1:
		return "the gradients"
	}
	return fmt.Sprintf("state buffer %d", i-2)
}

// Validate checks a row update as Update.Validate checks a dense one, and
// the row indices: in [0, Rows), strictly increasing, one row of values
// each.
func (u RowUpdate) Validate() error {
	if u.Param == nil {
		return fmt.Errorf("%w: row update needs a param buffer", ErrForeignBuffer)
	}
	dt := u.Param.DType()
	if !dt.Param() {
		return fmt.Errorf("%w: param %v", ErrDType, dt)
	}
	vdt, nv, err := DTypeOf(u.Values)
	if err != nil {
		return err
	}
	if vdt != dt.Compute() {
		return fmt.Errorf("%w: param is %v, values %v (want %v)", ErrDType, dt, vdt, dt.Compute())
	}
	r := u.Range
	if u.Rows < 0 || r.Width < 0 || (r.Width > 0 && u.Rows > math.MaxInt/r.Width) || r.Len != u.Rows*r.Width {
		return fmt.Errorf("%w: %d rows of %d in a range of %d", ErrRange, u.Rows, r.Width, r.Len)
	}
	if err := r.validate(dt, u.Param.Len(), u.State, true); err != nil {
		return err
	}
	if err := checkDistinct(append([]Buffer{u.Param, nil}, u.State[:]...)); err != nil {
		return err
	}
	if r.Width > 0 && len(u.Indices) > math.MaxInt/r.Width || nv != len(u.Indices)*r.Width {
		return fmt.Errorf("%w: %d values for %d rows of %d", ErrRange, nv, len(u.Indices), r.Width)
	}
	prev := int64(-1)
	for i, row := range u.Indices {
		if row < 0 || row >= int64(u.Rows) {
			return fmt.Errorf("%w: index %d is row %d of %d", ErrRange, i, row, u.Rows)
		}
		if row <= prev {
			return fmt.Errorf("%w: index %d (row %d) after row %d: indices must be strictly increasing", ErrRange, i, row, prev)
		}
		prev = row
	}
	return nil
}

// validate checks one range against a parameter buffer of n elements of
// dtype dt, the state buffers and the rule's coefficients in dt's compute
// dtype.
func (r Range) validate(dt DType, n int, state [StateBuffers]Buffer, rows bool) error {
	spec, ok := r.Rule.Spec()
	if !ok {
		return fmt.Errorf("%w: %v", ErrRule, r.Rule)
	}
	if rows && spec.DenseOnly {
		return fmt.Errorf("%w: %v has no row-sparse form", ErrRule, r.Rule)
	}
	if r.Off < 0 || r.Len < 0 || r.Width < 0 || r.Off > n-r.Len {
		return fmt.Errorf("%w: [%d,%d) in %d elements", ErrRange, r.Off, r.Off+r.Len, n)
	}
	if err := checkCoefs(spec, r.Coef, dt.Compute(), rows); err != nil {
		return err
	}
	if spec.Work == ByRow && r.Len > 0 && (r.Width == 0 || r.Len%r.Width != 0) {
		return fmt.Errorf("%w: %v works on whole rows, but the range of %d is not whole rows of %d", ErrRange, r.Rule, r.Len, r.Width)
	}
	for k, ss := range spec.State {
		s := state[ss.Buffer()]
		if s == nil {
			return fmt.Errorf("%w: %v needs state buffer %d (%s)", ErrForeignBuffer, r.Rule, ss.Buffer(), ss.Name)
		}
		if want := ss.DTypeFor(dt); s.DType() != want {
			return fmt.Errorf("%w: param %v, state %s %v (want %v)", ErrDType, dt, ss.Name, s.DType(), want)
		}
		if ss.Per == PerRow && r.Len > 0 && (r.Width == 0 || r.Len%r.Width != 0) {
			return fmt.Errorf("%w: %v keeps %s per row, but the range of %d is not whole rows of %d", ErrRange, r.Rule, ss.Name, r.Len, r.Width)
		}
		need := spec.StateLen(k, r.Len, r.Width)
		if off := r.StateOff[k]; off < 0 || off > s.Len()-need {
			return fmt.Errorf("%w: state %s [%d,%d) in %d elements", ErrRange, ss.Name, off, off+need, s.Len())
		}
	}
	return nil
}

// checkCoefs checks the rule's coefficients in dtype dt: finite after
// rounding, not negative, signs ±1, unused ones zero.
func checkCoefs(spec RuleSpec, c [MaxCoefs]float64, dt DType, rows bool) error {
	for i, v := range c {
		if i >= len(spec.Coefs) {
			if v != 0 {
				return fmt.Errorf("%w: %v has %d coefficients, coefficient %d is %v", ErrHyper, spec.Rule, len(spec.Coefs), i, v)
			}
			continue
		}
		cs := spec.Coefs[i]
		switch {
		case cs.Sign:
			if v != 1 && v != -1 {
				return fmt.Errorf("%w: %s = %v (want 1 or -1)", ErrHyper, cs.Name, v)
			}
		case cs.Flag:
			if v != 0 && v != 1 {
				return fmt.Errorf("%w: %s = %v (want 0 or 1)", ErrHyper, cs.Name, v)
			}
		case rows && cs.DenseOnly && v != 0:
			return fmt.Errorf("%w: %s = %v: %v has no row-sparse form with it", ErrHyper, cs.Name, v, spec.Rule)
		default:
			if err := CheckHyperIn(dt, cs.Name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkStateDisjoint checks that no two states, of one range or of two,
// share elements of a state buffer, which would make two device threads
// write one element. States whose offsets rise range by range and state by
// state (the optimizer's arenas) pass in one scan; others are sorted first.
func checkStateDisjoint(ranges []Range) error {
	var end [StateBuffers]int
	for _, r := range ranges {
		spec, _ := r.Rule.Spec()
		for k, ss := range spec.State {
			if size := spec.StateLen(k, r.Len, r.Width); size > 0 {
				b := ss.Buffer()
				if r.StateOff[k] < end[b] {
					return checkStateRegions(ranges)
				}
				end[b] = r.StateOff[k] + size
			}
		}
	}
	return nil
}

// checkStateRegions is checkStateDisjoint for states in any order: every
// state's region, sorted per buffer, ends before the next begins.
func checkStateRegions(ranges []Range) error {
	type region struct{ lo, hi, rng, k int }
	var regions [StateBuffers][]region
	for i, r := range ranges {
		spec, _ := r.Rule.Spec()
		for k, ss := range spec.State {
			if size := spec.StateLen(k, r.Len, r.Width); size > 0 {
				b := ss.Buffer()
				regions[b] = append(regions[b], region{r.StateOff[k], r.StateOff[k] + size, i, k})
			}
		}
	}
	for _, rs := range regions {
		slices.SortFunc(rs, func(a, b region) int { return cmp.Compare(a.lo, b.lo) })
		for j := 1; j < len(rs); j++ {
			if rs[j].lo < rs[j-1].hi {
				return fmt.Errorf("%w: range %d's state %d starts at %d, inside range %d's state %d (states must be disjoint)",
					ErrRange, rs[j].rng, rs[j].k, rs[j].lo, rs[j-1].rng, rs[j-1].k)
			}
		}
	}
	return nil
}

// CheckHyper returns an ErrHyper error when v is NaN, infinite or negative.
func CheckHyper(name string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return fmt.Errorf("%w: %s = %v (want finite and >= 0)", ErrHyper, name, v)
	}
	return nil
}

// CheckHyperIn is CheckHyper for a value that is used in dtype dt: it must
// stay finite when rounded to it (1e39 is +Inf in float32).
func CheckHyperIn(dt DType, name string, v float64) error {
	if err := CheckHyper(name, v); err != nil {
		return err
	}
	if dt == Float32 && math.IsInf(float64(float32(v)), 0) {
		return fmt.Errorf("%w: %s = %v overflows float32", ErrHyper, name, v)
	}
	return nil
}

// CheckCopy validates a Write or a Read of a host slice against a buffer:
// []float32 or []float64 for buffers of those types, []uint16 (raw bits)
// for BFloat16 and Float16 buffers, and elements [off, off+len) inside the
// buffer. It returns the host slice's length.
func CheckCopy(b Buffer, off int, host any) (n int, err error) {
	if b == nil {
		return 0, fmt.Errorf("%w: nil buffer", ErrForeignBuffer)
	}
	dt, n, err := hostType(host, b.DType())
	if err != nil {
		return 0, err
	}
	if dt != b.DType() {
		return 0, fmt.Errorf("%w: buffer is %v, host slice is %v", ErrDType, b.DType(), dt)
	}
	if off < 0 || off > b.Len()-n {
		return 0, fmt.Errorf("%w: [%d,%d) in a buffer of %d elements", ErrRange, off, off+n, b.Len())
	}
	return n, nil
}
