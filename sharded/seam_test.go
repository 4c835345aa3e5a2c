package sharded_test

import (
	"github.com/adagrad-go/adagrad/sharded"
	trainer "github.com/adagrad-go/adagrad/train"
)

// The Trainer drives the sharded optimizer unchanged on every rank: it is
// a train.Optimizer, with the two capabilities the Trainer looks for.
var (
	_ trainer.Optimizer    = (*sharded.Adagrad)(nil)
	_ trainer.Distributed  = (*sharded.Adagrad)(nil)
	_ trainer.Checkpointer = (*sharded.Adagrad)(nil)
)
