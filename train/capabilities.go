package train

import (
	"fmt"

	"github.com/adagrad-go/adagrad/collective"
)

// Checkpointer is the optional capability of an Optimizer that writes and
// reads its own checkpoints. The Trainer finds it by type assertion and
// then uses it in place of checkpoint.CheckPath, of State with
// checkpoint.Save, and of checkpoint.Load with LoadState. A sharded
// optimizer (sharded.Adagrad) has it: each rank writes its own rows and
// reads back only its own, so the state is never gathered in one place.
type Checkpointer interface {
	// CheckCheckpointPath reports whether SaveCheckpoint could write path.
	CheckCheckpointPath(path string) error
	// SaveCheckpoint writes the state and the caller's metadata to path,
	// atomically.
	SaveCheckpoint(path string, meta map[string]string) error
	// LoadCheckpoint restores the state from path, once accept (when not
	// nil) has seen the checkpoint's metadata without error: a refused or
	// damaged checkpoint changes nothing. A missing one is an error for
	// which errors.Is(err, fs.ErrNotExist) holds.
	LoadCheckpoint(path string, accept func(meta map[string]string) error) error
}

// Distributed is the optional capability of an Optimizer that is one rank
// of a group of processes training together, each on its own share of
// every step (sharded.Adagrad: each rank gives the gradients of its slice
// of the global batch). Every rank runs the same Trainer, and then:
//
//   - each rank's Objective returns its share of the step's loss (its
//     part of a sum over the global batch), and Progress.Loss is the sum
//     of the ranks' shares in rank order, the same bits on every rank
//     (one all-gather of 8 bytes per step);
//   - the Observer is called on every rank, with the same Progress, and
//     the Logger on rank 0 only;
//   - every rank runs the same steps, and each step's collective calls
//     (Rows32, Step, fetches, checkpoints) in the same order.
//
// A rank whose objective fails returns the error without taking part in
// the step: its program exits, and the launcher ends the job (see package
// collective/mpi on faults). In a group of one (collective.One) the run is
// a single-process one.
type Distributed interface {
	Comm() collective.Comm
}

// group returns the optimizer's group, or nil when it has none.
func (tr *Trainer) group() collective.Comm {
	if d, ok := tr.Opt.(Distributed); ok {
		return d.Comm()
	}
	return nil
}

// leader reports whether this process prints: rank 0 of the group, or a
// process that is not in one.
func (tr *Trainer) leader() bool {
	c := tr.group()
	return c == nil || c.Rank() == 0
}

// groupLoss returns the sum of the ranks' losses in rank order, alike on
// every rank: ((l₀ + l₁) + l₂) + …, as the ranks' gradients are summed.
func groupLoss(c collective.Comm, loss float64) (float64, error) {
	all := make([][]float64, c.Size())
	for r := range all {
		all[r] = make([]float64, 1)
	}
	if err := collective.AllGatherOf(c, []float64{loss}, all); err != nil {
		return 0, fmt.Errorf("train: summing the ranks' losses: %w", err)
	}
	sum := all[0][0]
	for _, l := range all[1:] {
		sum += l[0]
	}
	return sum, nil
}
