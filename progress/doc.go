// Package progress shows how a training run is going, for command-line
// programs: a progress bar (github.com/cheggaaa/pb/v3) when the output is a
// terminal, one plain log line every so many steps when it is not (CI logs,
// files), or nothing.
//
// It knows nothing about the trainer: give it each step's loss, and any
// extra fields the log lines should carry.
//
//	mode := progress.Auto
//	flag.Var(&mode, "progress", progress.Usage)
//	flag.Parse() // an unknown mode is a flag error
//	...
//	rep, err := progress.New(mode, os.Stderr, totalSteps, stepsPerLine)
//	for step := 1; step <= totalSteps; step++ {
//		loss := train()
//		rep.Step(step, loss, slog.Int("epoch", epoch))
//	}
//	rep.Finish()
//
// A log line reports the mean loss over the steps since the previous line
// (mean_loss, with the steps it covers), so that a line every epoch shows
// the epoch's mean loss, not one batch's.
package progress
