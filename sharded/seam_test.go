package sharded_test

import (
	"github.com/adagrad-go/adagrad/optim"
	"github.com/adagrad-go/adagrad/sharded"
)

// trainerOptimizer is the method set the Trainer will drive (train.Optimizer,
// from the issue on seams), spelled out here until that package lands: the
// sharded optimizer has optim.Adagrad's signatures for all of it.
type trainerOptimizer interface {
	Step() error
	Sync() error
	Tensors() []optim.TensorInfo
	Read(name string, dst any) error
	ReadRows(name string, rows []int64, dst any) error
	Grad32(name string) ([]float32, error)
	Grad64(name string) ([]float64, error)
	SetGrad(name string, g any) error
	SetSparseGrad(name string, indices []int64, values any) error
	State() (optim.State, error)
	LoadState(st optim.State) error
	Stats() optim.Stats
}

var (
	_ trainerOptimizer = (*optim.Adagrad)(nil)
	_ trainerOptimizer = (*sharded.Adagrad)(nil)
)
