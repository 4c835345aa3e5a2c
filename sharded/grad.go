package sharded

import (
	"fmt"
	"slices"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// Grad32 returns this rank's full-size staging slice for the dense
// gradient of a float32 tensor and marks the tensor for the next Step, as
// optim.Adagrad.Grad32 does. The slice is made on first use, stays valid
// until Close, and is not cleared between steps.
func (s *Adagrad) Grad32(name string) ([]float32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.stage(name, device.Float32)
	if err != nil {
		return nil, err
	}
	return t.grad32, nil
}

// Grad64 is Grad32 for a float64 tensor.
func (s *Adagrad) Grad64(name string) ([]float64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.stage(name, device.Float64)
	if err != nil {
		return nil, err
	}
	return t.grad64, nil
}

// stage marks t's dense gradient pending, making its staging slice.
func (s *Adagrad) stage(name string, dt device.DType) (*tensor, error) {
	t, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	if t.dt != dt {
		return nil, fmt.Errorf("%w: tensor %q is %v, not %v", optim.ErrShape, name, t.dt, dt)
	}
	switch {
	case dt == device.Float32 && t.grad32 == nil:
		t.grad32 = make([]float32, t.n)
	case dt == device.Float64 && t.grad64 == nil:
		t.grad64 = make([]float64, t.n)
	}
	t.pending, t.sparse = dense, nil
	return t, nil
}

// SetGrad copies g ([]float32 or []float64 of the tensor's dtype and
// length) into the tensor's staging slice and marks it for the next Step.
func (s *Adagrad) SetGrad(name string, g any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookup(name)
	if err != nil {
		return err
	}
	dt, n, err := device.DTypeOf(g)
	if err != nil {
		return err
	}
	if dt != t.dt || n != t.n {
		return fmt.Errorf("%w: tensor %q takes %d %v, got %d %v", optim.ErrShape, name, t.n, t.dt, n, dt)
	}
	if _, err := s.stage(name, dt); err != nil {
		return err
	}
	switch g := g.(type) {
	case []float32:
		copy(t.grad32, g)
	case []float64:
		copy(t.grad64, g)
	}
	return nil
}

// SetSparseGrad gives the named tensor this rank's row-sparse gradient for
// the next Step, as optim.Adagrad.SetSparseGrad does: indices name rows of
// the whole tensor, duplicates allowed; values holds one row per index.
// The rows of all ranks are concatenated in rank order at each row's
// owner. Bad input changes nothing and is refused with optim's errors
// (optim.ErrIndex, optim.ErrSparseWeightDecay, optim.ErrNoSparse,
// optim.ErrShape).
func (s *Adagrad) SetSparseGrad(name string, indices []int64, values any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookup(name)
	if err != nil {
		return err
	}
	if err := s.checkSparse(t); err != nil {
		return err
	}
	dt, nv, err := device.DTypeOf(values)
	if err != nil {
		return err
	}
	if dt != t.dt || nv != len(indices)*t.width {
		return fmt.Errorf("%w: tensor %q takes %d rows of %d %v for %d indices, got %d %v",
			optim.ErrShape, name, len(indices), t.width, t.dt, len(indices), nv, dt)
	}
	if err := t.checkRows(indices); err != nil {
		return err
	}
	sg := &sparseGrad{indices: slices.Clone(indices)}
	switch v := values.(type) {
	case []float32:
		sg.values = slices.Clone(v)
	case []float64:
		sg.values = slices.Clone(v)
	}
	t.pending, t.sparse = rowSparse, sg
	return nil
}

// checkSparse refuses a row-sparse gradient for t as optim would.
func (s *Adagrad) checkSparse(t *tensor) error {
	rule := t.hyper.Rule
	if rule == 0 {
		rule = device.Adagrad
	}
	if !s.dev.Capabilities().Supports(rule, t.dt, true) {
		return fmt.Errorf("%w: %v has no row-sparse %v for %v (tensor %q)", optim.ErrNoSparse, s.dev, rule, t.dt, t.name)
	}
	for _, c := range t.spec().Coefs {
		if c.Name == "weight_decay" && c.DenseOnly && t.hyper.WeightDecay != 0 {
			return fmt.Errorf("%w: tensor %q has WeightDecay %v", optim.ErrSparseWeightDecay, t.name, t.hyper.WeightDecay)
		}
	}
	return nil
}

// checkRows returns an optim.ErrIndex error for the first index that is
// not a row of t.
func (t *tensor) checkRows(indices []int64) error {
	for i, r := range indices {
		if r < 0 || r >= int64(t.rows) {
			return fmt.Errorf("%w: index %d is row %d of tensor %q's %d", optim.ErrIndex, i, r, t.name, t.rows)
		}
	}
	return nil
}

// ZeroGrad drops every pending gradient of this rank. It does not
// communicate.
func (s *Adagrad) ZeroGrad() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tensors {
		t.pending, t.sparse = none, nil
	}
}
