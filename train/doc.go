// Package train runs a training loop over an optimizer: an Objective
// written in Go computes each step's loss and gradients on the host, and
// the Trainer steps the optimizer, reports progress (an Observer, log/slog
// lines), refreshes host copies of the parameters every so often, and
// writes checkpoints (package checkpoint) from which a run resumes bit for
// bit.
//
// The Trainer drives any Optimizer: *optim.Adagrad, or an optimizer whose
// state is sharded across processes.
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
