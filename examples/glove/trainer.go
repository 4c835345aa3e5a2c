package main

// Every use of the library's Trainer in this example is in this file: the
// tables live on the device, sharded over the ranks of the group (one rank
// alone: see parallel.go).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/examples/internal/group"
	"github.com/adagrad-go/adagrad/lossplot"
	"github.com/adagrad-go/adagrad/optim"
	"github.com/adagrad-go/adagrad/progress"
	"github.com/adagrad-go/adagrad/sharded"
	"github.com/adagrad-go/adagrad/train"
)

// gloveRun is how to train: on which device, the tables' sizes, the
// schedule, GloVe's weighting and the progress display.
type gloveRun struct {
	dev             device.Backend
	words, dim      int
	epochs, batch   int
	lr, xmax, alpha float64
	progress        progress.Mode
	log             io.Writer // where the progress goes
	par             parallel  // the group, and how batches are cut
}

// trained is what training gives back: the word and context tables (words
// × dim, row-major), the mean loss of each epoch, and the bytes moved.
type trained struct {
	w, c                 []float32
	losses               []float64
	toDevice, fromDevice int64
	comm                 []group.RankReport // every rank's traffic and state
}

// fitTables fits the GloVe tables to the co-occurrence entries with Adagrad,
// recording each step's loss in curve.
func fitTables(r gloveRun, entries []cooc, curve *lossplot.Curve) (*trained, error) {
	V, D := r.words, r.dim
	rng := rand.New(rand.NewPCG(7, 7))
	initTable := func(n int) []float32 {
		t := make([]float32, n)
		for i := range t {
			t[i] = float32((rng.Float64() - 0.5) / float64(D))
		}
		return t
	}
	opt, err := sharded.New(r.par.group.Comm, r.dev, []optim.Param{
		{Name: "w", Init: initTable(V * D), Shape: []int{V, D}},
		{Name: "c", Init: initTable(V * D), Shape: []int{V, D}},
		{Name: "bw", Init: make([]float32, V)},
		{Name: "bc", Init: make([]float32, V)},
	}, optim.LR(r.lr), optim.Eps(1e-8))
	if err != nil {
		return nil, err
	}
	defer opt.Close()

	perEpoch := len(entries) / r.batch
	tr := &train.Trainer{Opt: opt, Epochs: r.epochs, StepsPerEpoch: perEpoch}
	// A log line every epoch: its mean_loss is the epoch's mean, computed
	// as the one printed on stdout (a sum in step order, divided).
	rep, err := progress.New(r.progress, r.log, r.epochs*perEpoch, perEpoch)
	if err != nil {
		return nil, err
	}
	defer rep.Finish()
	sums := make([]float64, r.epochs)
	meter, paper := group.NewMeter(opt), group.NewPaper(r.par.group.Size(), opt.Tensors())
	tr.Observer = func(p train.Progress) {
		meter.End()
		rep.Step(p.GlobalStep, p.Loss, slog.Int("epoch", p.Epoch+1),
			slog.String("to_device_MB", fmt.Sprintf("%.2f", float64(p.Stats.BytesToDevice)/1e6)),
			slog.String("from_device_MB", fmt.Sprintf("%.2f", float64(p.Stats.BytesFromDevice)/1e6)))
		sums[p.Epoch] += p.Loss
		curve.Add(p.GlobalStep, p.Loss)
	}
	var order []int
	orderEpoch := -1
	err = tr.Run(context.Background(), func(s *train.StepContext) (float64, error) {
		if s.Epoch != orderEpoch {
			order, orderEpoch = rand.New(rand.NewPCG(uint64(s.Epoch), 3)).Perm(len(entries)), s.Epoch
		}
		batch := make([]cooc, r.batch)
		for k := range batch {
			batch[k] = entries[order[s.Step*r.batch+k]]
		}
		return r.par.step(s, batch, r, meter, paper)
	})
	if err != nil {
		return nil, err
	}
	out := &trained{w: make([]float32, V*D), c: make([]float32, V*D), losses: make([]float64, r.epochs)}
	for e, s := range sums {
		out.losses[e] = s / float64(perEpoch)
	}
	if err := opt.Read("w", out.w); err != nil {
		return nil, err
	}
	if err := opt.Read("c", out.c); err != nil {
		return nil, err
	}
	st := opt.Stats()
	out.toDevice, out.fromDevice = st.BytesToDevice, st.BytesFromDevice
	if out.comm, err = r.par.report(opt, meter, paper); err != nil { // reads the state held: after the counts
		return nil, err
	}
	return out, nil
}
