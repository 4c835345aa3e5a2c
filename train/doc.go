// Package train runs a training loop over an optimizer: an Objective
// written in Go computes each step's loss and gradients on the host, and
// the Trainer steps the optimizer, reports progress (an Observer, log/slog
// lines), refreshes host copies of the parameters every so often, and
// writes checkpoints (package checkpoint) from which a run resumes bit for
// bit.
//
// The Trainer drives any Optimizer: *optim.Adagrad, or an optimizer whose
// state is sharded across processes (sharded.Adagrad), which it finds out
// by two optional capabilities, as database/sql finds a driver's: a
// Distributed optimizer is one rank of a group (each rank's objective
// gives its share of the step; the loss reported is the ranks' sum, in
// rank order; only rank 0 logs), and a Checkpointer writes and reads its
// own checkpoints (a sharded one: each rank its rows, a manifest last; a
// resume on any number of ranks reads each rank's rows only). The
// single-process path is unchanged by either.
//
//	tr := &train.Trainer{Opt: opt, Epochs: 3, StepsPerEpoch: 500, FetchEvery: 1,
//		CheckpointPath: "run.safetensors", CheckpointEvery: 500}
//	if err := tr.Resume("run.safetensors"); err != nil && !errors.Is(err, fs.ErrNotExist) {
//		return err // a damaged checkpoint, or one of another model
//	}
//	err := tr.Run(ctx, func(s *train.StepContext) (float64, error) {
//		w, err := s.Params32("w") // host copy as of the last fetch
//		...
//		g, err := s.Grad32("w") // fill the gradient in place
//		...
//		return loss, nil
//	})
package train
