package sharded

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/adagrad-go/adagrad/optim"
)

// State gathers the whole optimizer state on every rank, in optim's
// format (each tensor whole, in the order given to New), so that it can be
// saved as one checkpoint and loaded into a sharded optimizer on any
// number of ranks, or into one optim.Adagrad. Every rank calls it; every
// rank fails if one does.
func (s *Adagrad) State() (optim.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return optim.State{}, optim.ErrClosed
	}
	mine, local := s.local.State()
	if local != nil {
		local = fmt.Errorf("sharded: rank %d: %w", s.comm.Rank(), local)
	}
	infos := s.local.Tensors()
	st := optim.State{Tensors: make([]optim.TensorState, len(s.tensors))}
	var errs []error
	for i, t := range s.tensors {
		ts := optim.TensorState{Name: t.name, Shape: slices.Clone(t.shape), Hyper: infos[i].Hyper, Step: infos[i].Step}
		var param any
		state := make([]any, t.states())
		if local == nil {
			param, state = mine.Tensors[i].Param, mine.Tensors[i].State
		}
		ts.Param = s.gatherWhole(t, t.width, param, &errs)
		for k := range state {
			ts.State = append(ts.State, s.gatherWhole(t, t.stateWidth(k), state[k], &errs))
		}
		st.Tensors[i] = ts
	}
	if err := s.agree("State", errors.Join(local, errors.Join(errs...)), nil); err != nil {
		return optim.State{}, err
	}
	return st, nil
}

// gatherWhole all-gathers one buffer of t (width elements per row) of
// which this rank holds its rows in part: the whole buffer on every rank.
// When part is nil, this rank sends zeros (and has already failed).
func (s *Adagrad) gatherWhole(t *tensor, width int, part any, errs *[]error) any {
	whole := zeros(t.dt, t.rows*width)
	var err error
	switch w := whole.(type) {
	case []float32:
		err = gatherRows(s, t, w, width, func(mine []float32) error { p, _ := part.([]float32); copy(mine, p); return nil })
	case []float64:
		err = gatherRows(s, t, w, width, func(mine []float64) error { p, _ := part.([]float64); copy(mine, p); return nil })
	}
	if err != nil {
		*errs = append(*errs, err)
	}
	return whole
}

// LoadState restores a whole state (from State, or from one
// optim.Adagrad) taken from an optimizer with the same tensors (names,
// dtypes and shapes; order does not matter), on any number of ranks: each
// rank keeps its rows. Every rank calls it with the same state. Everything
// is checked, and the ranks agree, before anything is written; pending
// gradients are dropped.
func (s *Adagrad) LoadState(st optim.State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return optim.ErrClosed
	}
	byName, bad := s.checkState(st)
	if err := s.agree("LoadState", bad, stateFingerprint(st)); err != nil {
		return err
	}
	me := s.comm.Rank()
	local := optim.State{Tensors: make([]optim.TensorState, len(s.tensors))}
	for i, t := range s.tensors {
		ts := byName[t.name]
		first, rows := t.owned(me)
		lt := optim.TensorState{Name: t.name, Shape: slices.Clone(t.shape), Hyper: ts.Hyper, Step: ts.Step,
			Param: sliceRows(ts.Param, first*t.width, rows*t.width)}
		if len(t.shape) == 0 {
			lt.Shape = []int{rows}
		} else {
			lt.Shape[0] = rows
		}
		for k, v := range ts.State {
			w := t.stateWidth(k)
			lt.State = append(lt.State, sliceRows(v, first*w, rows*w))
		}
		local.Tensors[i] = lt
	}
	return s.loadLocal(local)
}

// checkState checks what the local optimizer cannot see of a whole state:
// every tensor there once, with its whole shape and lengths.
func (s *Adagrad) checkState(st optim.State) (map[string]*optim.TensorState, error) {
	if len(st.Tensors) != len(s.tensors) {
		return nil, fmt.Errorf("%w: state has %d tensors, optimizer %d", optim.ErrShape, len(st.Tensors), len(s.tensors))
	}
	byName := make(map[string]*optim.TensorState, len(st.Tensors))
	for i := range st.Tensors {
		ts := &st.Tensors[i]
		t, ok := s.byName[ts.Name]
		switch {
		case !ok:
			return nil, fmt.Errorf("%w %q", optim.ErrUnknownTensor, ts.Name)
		case byName[ts.Name] != nil:
			return nil, fmt.Errorf("%w: tensor %q twice in state", optim.ErrShape, ts.Name)
		case !slices.Equal(ts.Shape, t.shape):
			return nil, fmt.Errorf("%w: tensor %q has shape %v, state %v", optim.ErrShape, t.name, t.shape, ts.Shape)
		case len(ts.State) != t.states():
			return nil, fmt.Errorf("%w: tensor %q's rule %v keeps %d states, the state has %d", optim.ErrShape, t.name, t.hyper.Rule, t.states(), len(ts.State))
		}
		if err := t.checkLen(ts.Param, t.n); err != nil {
			return nil, err
		}
		for k, v := range ts.State {
			if err := t.checkLen(v, t.rows*t.stateWidth(k)); err != nil {
				return nil, err
			}
		}
		byName[ts.Name] = ts
	}
	return byName, nil
}

// stateFingerprint hashes a state's description (not its numbers), so that
// ranks given different checkpoints find out.
func stateFingerprint(st optim.State) []byte {
	h := sha256.New()
	for _, ts := range st.Tensors {
		fmt.Fprintf(h, "%q %v %d %+v\n", ts.Name, ts.Shape, ts.Step, ts.Hyper)
	}
	return h.Sum(nil)
}

// ShardState returns this rank's rows of the state, as an optim.State of
// its own (each tensor shaped as the rows this rank owns: see Shards). It
// does not communicate: it is what a rank writes to a checkpoint of its
// own.
func (s *Adagrad) ShardState() (optim.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return optim.State{}, optim.ErrClosed
	}
	return s.local.State()
}
