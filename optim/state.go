package optim

import (
	"fmt"
	"slices"
	"time"
)

// State is everything needed to resume an optimizer bit for bit.
type State struct {
	Tensors []TensorState
}

// TensorState is one tensor's part of a State. Param and Accum are
// []float32 or []float64.
type TensorState struct {
	Name  string
	Shape []int
	Hyper Hyper
	Step  int64
	Param any
	Accum any
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
		bytes += 2 * int64(t.n*t.dt.Size())
		ts := TensorState{Name: t.name, Shape: slices.Clone(t.shape), Hyper: t.hyper, Step: t.step,
			Param: filled(t.dt, t.n, 0), Accum: filled(t.dt, t.n, 0)}
		if err := a.dev.Read(ts.Param, t.arena.param, t.off); err != nil {
			return State{}, fmt.Errorf("optim: reading %q: %w", t.name, err)
		}
		if err := a.dev.Read(ts.Accum, t.arena.accum, t.off); err != nil {
			return State{}, fmt.Errorf("optim: reading accumulator of %q: %w", t.name, err)
		}
		st.Tensors[i] = ts
	}
	return st, nil
}

// LoadState restores a State taken from an optimizer with the same tensors
// (names, dtypes and shapes; order does not matter). Everything is checked
// before anything is written; pending gradients are dropped.
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
		if err := t.check(ts.Param); err != nil {
			return err
		}
		if err := t.check(ts.Accum); err != nil {
			return err
		}
		if err := ts.Hyper.Validate(); err != nil {
			return fmt.Errorf("optim: tensor %q: %w", t.name, err)
		}
		if ts.Step < 0 {
			return fmt.Errorf("optim: tensor %q: negative step %d", t.name, ts.Step)
		}
	}
	for _, ts := range st.Tensors {
		t := a.byName[ts.Name]
		if err := a.upload(t, ts.Param, ts.Accum); err != nil {
			return err
		}
		t.hyper, t.step, t.pending, t.sparse = ts.Hyper, ts.Step, false, nil
	}
	return nil
}
