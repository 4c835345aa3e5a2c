package optim

import (
	"fmt"
	"slices"
	"time"

	"github.com/adagrad-go/adagrad/device"
)

// State is everything needed to resume an optimizer bit for bit.
type State struct {
	Tensors []TensorState
}

// TensorState is one tensor's part of a State: its parameters (a
// []float32 or []float64 of the tensor's dtype, or []uint16 codes for a
// half-precision tensor) and the state of its rule (Hyper.Rule). State[k]
// is the rule's state k (device.RuleSpec.State), a slice of its dtype
// (device.StateSpec.DTypeFor: the compute dtype, or []uint8 for 8-bit
// codes) and length (per element, per row or per block): for Adagrad,
// State[0] is the accumulator, PyTorch's state['sum'].
type TensorState struct {
	Name  string
	Shape []int
	// DType is the parameters' dtype where their slice does not say it:
	// device.BFloat16 or device.Float16 for []uint16 codes; 0 for float32
	// and float64 parameters.
	DType device.DType
	Hyper Hyper
	Step  int64
	Param any
	State []any
}

// ParamDType is the dtype of ts's parameters: DType, or the type of the
// Param slice; 0 when neither says one.
func (ts TensorState) ParamDType() device.DType {
	if ts.DType != 0 {
		return ts.DType
	}
	dt, _, err := device.DTypeOf(ts.Param)
	if err != nil {
		return 0
	}
	return dt
}

// State reads every tensor's parameters and accumulator back from the
// device, with step counts and hyperparameters, in the order given to New.
// Pending gradients are not part of the state.
func (a *Adagrad) State() (State, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return State{}, ErrClosed
	}
	st := State{Tensors: make([]TensorState, len(a.tensors))}
	start := time.Now()
	var bytes int64
	defer func() { a.stats.transfer(0, bytes, start) }()
	for i, t := range a.tensors {
		bytes += int64(t.n) * int64(t.dt.Size())
		ts := TensorState{Name: t.name, Shape: slices.Clone(t.shape), Hyper: t.hyper, Step: t.step,
			Param: filled(t.dt, t.n, 0)}
		if t.dt.Half() {
			ts.DType = t.dt
		}
		if err := a.dev.Read(ts.Param, t.arena.param, t.off); err != nil {
			return State{}, fmt.Errorf("optim: reading %q: %w", t.name, err)
		}
		for k, ss := range t.spec.State {
			dt := ss.DTypeFor(t.dt)
			s := filled(dt, t.stateLen(k), 0)
			if err := a.dev.Read(s, t.arena.state[ss.Buffer()], t.stateOff[k]); err != nil {
				return State{}, fmt.Errorf("optim: reading %s of %q: %w", ss.Name, t.name, err)
			}
			ts.State = append(ts.State, s)
			bytes += int64(t.stateLen(k)) * int64(dt.Size())
		}
		st.Tensors[i] = ts
	}
	return st, nil
}

// LoadState restores a State taken from an optimizer with the same tensors
// (names, dtypes and shapes; order does not matter). Everything is checked
// before anything is written: names (ErrUnknownTensor), the count of
// tensors, shapes and lengths (ErrShape), element types (device.ErrDType),
// hyperparameters in each tensor's dtype (device.ErrHyper, device.ErrRule)
// and step counts (ErrStepCount); then nothing has changed. Only a failure
// of the device itself while writing can leave part of the state loaded.
// Pending gradients are dropped.
func (a *Adagrad) LoadState(st State) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrClosed
	}
	if len(st.Tensors) != len(a.tensors) {
		return fmt.Errorf("%w: state has %d tensors, optimizer %d", ErrShape, len(st.Tensors), len(a.tensors))
	}
	seen := make(map[string]bool, len(st.Tensors))
	for _, ts := range st.Tensors {
		t, err := a.lookup(ts.Name)
		if err != nil {
			return err
		}
		if seen[ts.Name] {
			return fmt.Errorf("%w: tensor %q twice in state", ErrShape, ts.Name)
		}
		seen[ts.Name] = true
		if !slices.Equal(ts.Shape, t.shape) {
			return fmt.Errorf("%w: tensor %q has shape %v, state %v", ErrShape, t.name, t.shape, ts.Shape)
		}
		if dt := ts.ParamDType(); dt != t.dt {
			return fmt.Errorf("%w: tensor %q is %v, the state's %v", device.ErrDType, t.name, t.dt, dt)
		}
		if err := checkSlice(ts.Param, t.dt, t.n, fmt.Sprintf("tensor %q", t.name)); err != nil {
			return err
		}
		probe := *t
		if err := probe.setHyper(ts.Hyper); err != nil {
			return fmt.Errorf("optim: tensor %q: %w", t.name, err)
		}
		if len(ts.State) != len(t.spec.State) {
			return fmt.Errorf("%w: tensor %q's rule %v keeps %d states, the state has %d", ErrShape, t.name, t.rule, len(t.spec.State), len(ts.State))
		}
		for k, s := range ts.State {
			ss := t.spec.State[k]
			if err := checkSlice(s, ss.DTypeFor(t.dt), t.stateLen(k), fmt.Sprintf("the %s of tensor %q", ss.Name, t.name)); err != nil {
				return err
			}
		}
		if ts.Step < 0 {
			return fmt.Errorf("%w: tensor %q: negative step %d", ErrStepCount, t.name, ts.Step)
		}
	}
	for _, ts := range st.Tensors {
		t := a.byName[ts.Name]
		if err := a.upload(t, ts.Param, ts.State); err != nil {
			return err
		}
		if err := t.setHyper(ts.Hyper); err != nil {
			return err // checked above: cannot happen
		}
		t.step, t.pending, t.sparse = ts.Step, false, nil
	}
	return nil
}
