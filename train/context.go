package train

import (
	"errors"
	"fmt"

	"github.com/adagrad-go/adagrad/optim"
)

// StepContext is what an Objective sees of one step.
type StepContext struct {
	Epoch, Step int // within the epoch
	GlobalStep  int // from the start of the run
	tr          *Trainer
}

// Params32 returns the host copy of a float32 tensor's parameters as of
// the last fetch (see Trainer.FetchEvery). Do not modify it.
func (s *StepContext) Params32(name string) ([]float32, error) {
	v, err := s.params(name)
	if err != nil {
		return nil, err
	}
	p, ok := v.([]float32)
	if !ok {
		return nil, fmt.Errorf("%w: tensor %q is not float32", optim.ErrShape, name)
	}
	return p, nil
}

// Params64 is Params32 for a float64 tensor.
func (s *StepContext) Params64(name string) ([]float64, error) {
	v, err := s.params(name)
	if err != nil {
		return nil, err
	}
	p, ok := v.([]float64)
	if !ok {
		return nil, fmt.Errorf("%w: tensor %q is not float64", optim.ErrShape, name)
	}
	return p, nil
}

func (s *StepContext) params(name string) (any, error) {
	if s.tr.FetchEvery == 0 {
		return nil, errors.New("train: Trainer.FetchEvery is 0: no host copies (gather rows with Rows32/Rows64)")
	}
	v, ok := s.tr.host[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", optim.ErrUnknownTensor, name)
	}
	return v, nil
}

// Grad32 returns the staging slice for a float32 tensor's dense gradient
// (see optim.Adagrad.Grad32): fill it in place, from this goroutine.
func (s *StepContext) Grad32(name string) ([]float32, error) { return s.tr.Opt.Grad32(name) }

// Grad64 returns the staging slice for a float64 tensor's dense gradient.
func (s *StepContext) Grad64(name string) ([]float64, error) { return s.tr.Opt.Grad64(name) }

// SetGrad copies a dense gradient ([]float32 or []float64 of the tensor's
// dtype and length) in: the safe choice when other goroutines compute
// gradients.
func (s *StepContext) SetGrad(name string, g any) error { return s.tr.Opt.SetGrad(name, g) }

// SetSparseGrad gives a tensor a row-sparse gradient (see
// optim.Adagrad.SetSparseGrad).
func (s *StepContext) SetSparseGrad(name string, rows []int64, values any) error {
	return s.tr.Opt.SetSparseGrad(name, rows, values)
}

// Rows32 gathers the current parameters of the named rows of a float32
// tensor from the device (see optim.Adagrad.ReadRows).
func (s *StepContext) Rows32(name string, rows []int64, dst []float32) error {
	return s.tr.Opt.ReadRows(name, rows, dst)
}

// Rows64 is Rows32 for a float64 tensor.
func (s *StepContext) Rows64(name string, rows []int64, dst []float64) error {
	return s.tr.Opt.ReadRows(name, rows, dst)
}
