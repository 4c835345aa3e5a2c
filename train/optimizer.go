package train

import "github.com/adagrad-go/adagrad/optim"

// Optimizer is what a Trainer needs of an optimizer: *optim.Adagrad is one,
// and an optimizer whose state is sharded across processes can be another
// and drive the same Trainer. Its methods are those of optim.Adagrad, with
// the same contracts.
type Optimizer interface {
	// Step applies the pending gradients; Sync waits for the device.
	Step() error
	Sync() error
	// Tensors describes every tensor, in the order the model gave them.
	Tensors() []optim.TensorInfo
	// Read copies a tensor's parameters to dst; ReadRows gathers rows.
	Read(name string, dst any) error
	ReadRows(name string, rows []int64, dst any) error
	// Grad32 and Grad64 return a tensor's gradient staging slice; SetGrad
	// copies a gradient in; SetSparseGrad gives row-sparse gradients.
	Grad32(name string) ([]float32, error)
	Grad64(name string) ([]float64, error)
	SetGrad(name string, g any) error
	SetSparseGrad(name string, rows []int64, values any) error
	// State and LoadState export and restore everything a resumed run
	// needs (see optim.State).
	State() (optim.State, error)
	LoadState(optim.State) error
	// Stats counts what crossed between host and device.
	Stats() optim.Stats
}

var _ Optimizer = (*optim.Adagrad)(nil)
