package main

import "github.com/adagrad-go/adagrad/lossplot"

// history is what a training run records of its losses: every step's (its
// batch's mean log-loss), for the plot, and each epoch's mean. A nil
// history records nothing (the tuning runs).
type history struct {
	curve  *lossplot.Curve
	epochs []epochLoss
}

type epochLoss struct {
	sum   float64
	steps int
}

func newHistory(name string, epochs int) *history {
	return &history{curve: &lossplot.Curve{Name: name}, epochs: make([]epochLoss, epochs)}
}

// add records the loss of global step g (from 1), in epoch e (from 0).
func (h *history) add(e, g int, loss float64) {
	if h == nil {
		return
	}
	h.curve.Add(g, loss)
	h.epochs[e].sum += loss
	h.epochs[e].steps++
}

// epochMean returns epoch e's mean loss and how many of its steps this run
// saw (fewer when it resumed from a checkpoint).
func (h *history) epochMean(e int) (float64, int) {
	l := h.epochs[e]
	return l.sum / float64(max(l.steps, 1)), l.steps
}
