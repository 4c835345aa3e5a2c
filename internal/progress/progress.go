// Package progress shows a training run's progress for the example
// commands: a progress bar (github.com/cheggaaa/pb/v3) when stderr is a
// terminal, one plain log line every so many steps when it is not (CI
// logs), or nothing.
package progress

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/cheggaaa/pb/v3"
	"golang.org/x/term"

	"github.com/adagrad-go/adagrad/train"
)

// Modes are the values of the examples' -progress flag.
const (
	Auto = "auto" // a bar on a terminal, else log lines
	Bar  = "bar"
	Log  = "log"
	None = "none"
)

// Reporter turns train.Progress into a bar or log lines.
type Reporter struct {
	bar    *pb.ProgressBar
	logger *slog.Logger
	every  int
}

// New returns a reporter for a run of total steps, writing to w (stderr in
// the examples), with a log line every `every` steps in Log mode.
func New(mode string, w *os.File, total, every int) (*Reporter, error) {
	if mode == Auto {
		mode = Log
		if term.IsTerminal(int(w.Fd())) {
			mode = Bar
		}
	}
	r := &Reporter{every: max(every, 1)}
	switch mode {
	case Bar:
		r.bar = pb.New(total).SetWriter(w).SetTemplateString(
			`{{counters .}} {{bar .}} {{percent .}} {{string . "loss"}} {{speed . "%s steps/s"}} {{rtime . "ETA %s"}}`)
		r.bar.Start()
	case Log:
		r.logger = slog.New(slog.NewTextHandler(w, nil))
	case None:
	default:
		return nil, fmt.Errorf("progress: unknown mode %q (want auto, bar, log or none)", mode)
	}
	return r, nil
}

// Observe is a train.Trainer observer.
func (r *Reporter) Observe(p train.Progress) {
	switch {
	case r.bar != nil:
		r.bar.Set("loss", fmt.Sprintf("loss %.5g", p.Loss))
		r.bar.SetCurrent(int64(p.GlobalStep))
	case r.logger != nil && (p.GlobalStep%r.every == 0 || p.GlobalStep == p.TotalSteps):
		r.logger.Info("train", "epoch", p.Epoch, "step", p.GlobalStep, "of", p.TotalSteps,
			"loss", fmt.Sprintf("%.6g", p.Loss), "steps/s", fmt.Sprintf("%.1f", p.StepsPerSecond),
			"to_device_MB", fmt.Sprintf("%.2f", float64(p.Stats.BytesToDevice)/1e6),
			"from_device_MB", fmt.Sprintf("%.2f", float64(p.Stats.BytesFromDevice)/1e6),
			"transfer", p.Stats.TransferTime.Round(1e3), "compute", p.Stats.ComputeTime.Round(1e3))
	}
}

// Finish ends the bar.
func (r *Reporter) Finish() {
	if r.bar != nil {
		r.bar.Finish()
	}
}
