package progress

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/cheggaaa/pb/v3"
	"golang.org/x/term"
)

// Reporter shows the progress of one run.
type Reporter struct {
	bar    *pb.ProgressBar
	logger *slog.Logger
	total  int
	every  int
	start  time.Time
	steps  int // steps seen, for the speed

	// The current window: the steps since the last log line.
	first, n int
	sum      float64
	closed   bool // a window has closed
}

// New returns a reporter for a run of total steps that writes to w
// (stderr, usually), with a log line every `every` steps (and at the last)
// in Log mode. Auto picks Bar when w is a terminal.
func New(mode Mode, w io.Writer, total, every int) (*Reporter, error) {
	if total < 0 {
		return nil, fmt.Errorf("progress: %d total steps", total)
	}
	if mode == Auto {
		mode = Log
		if f, ok := w.(interface{ Fd() uintptr }); ok && term.IsTerminal(int(f.Fd())) {
			mode = Bar
		}
	}
	r := &Reporter{total: total, every: max(every, 1), start: time.Now()}
	switch mode {
	case Bar:
		r.bar = pb.New(total).SetWriter(w).SetTemplateString(
			`{{counters .}} {{bar .}} {{percent .}} {{string . "loss"}} {{speed . "%s steps/s"}} {{rtime . "ETA %s"}}`)
		r.bar.Start()
	case Log:
		r.logger = slog.New(slog.NewTextHandler(w, nil))
	case None:
	default:
		var m Mode
		return nil, m.Set(string(mode))
	}
	return r, nil
}

// Step records that `done` steps of the run's total are done, the last one
// with the given loss. Every `every`-th step, and the last, closes a window:
// in Log mode it writes a line with the window's mean loss and attrs; the
// bar shows the last closed window's mean (the open one's before that).
func (r *Reporter) Step(done int, loss float64, attrs ...slog.Attr) {
	r.steps++
	if r.n == 0 {
		r.first = done
	}
	r.n++
	r.sum += loss
	mean := r.sum / float64(r.n)
	closes := done%r.every == 0 || done == r.total
	switch {
	case r.bar != nil:
		if closes || !r.closed {
			r.bar.Set("loss", fmt.Sprintf("mean loss %.5g", mean))
		}
		r.bar.SetCurrent(int64(done))
	case r.logger != nil && closes:
		args := []any{"step", done, "of", r.total, "mean_loss", fmt.Sprintf("%.6g", mean),
			"over_steps", fmt.Sprintf("%d-%d", r.first, done),
			"steps/s", fmt.Sprintf("%.1f", float64(r.steps)/time.Since(r.start).Seconds())}
		for _, a := range attrs {
			args = append(args, a)
		}
		r.logger.Info("train", args...)
	}
	if closes {
		r.n, r.sum, r.closed = 0, 0, true
	}
}

// Finish ends the bar; it does nothing in the other modes.
func (r *Reporter) Finish() {
	if r.bar != nil {
		r.bar.Finish()
	}
}
