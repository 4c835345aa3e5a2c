package main

// Every use of the library's Trainer and of checkpoints in this example is
// in this file: the Adagrad runs on the device, sharded over the ranks of
// the group (one rank alone: see parallel.go).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"time"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/examples/internal/group"
	"github.com/adagrad-go/adagrad/optim"
	"github.com/adagrad-go/adagrad/progress"
	"github.com/adagrad-go/adagrad/sharded"
	"github.com/adagrad-go/adagrad/train"
)

// adagradRun is how to run Adagrad: on which device, how long, with which
// checkpoint file and progress display (both optional).
type adagradRun struct {
	dev           device.Backend
	features      int
	epochs, batch int
	checkpoint    string
	progress      progress.Mode // "" for none
	log           io.Writer     // where the progress goes
	par           parallel      // the group, and how batches are cut
	// options follow the rate's (another update rule, as the -proximal
	// study's); weightOptions apply to the weights only.
	options, weightOptions []optim.Option
	// denseWeights sends the weights' gradient whole, zero where no
	// sample touched them, instead of row-sparse.
	denseWeights bool
}

// adagradResult is what a run gives back besides the model.
type adagradResult struct {
	resumed                  string // where it resumed from, or ""
	toDevice, fromDevice     int64  // bytes
	transferTime, updateTime time.Duration
	elapsed                  time.Duration
	comm                     []group.RankReport // every rank's, of the final training run
}

// trainAdagrad trains the weights and the bias on the device with Adagrad
// at rate lr, recording each step's loss in h. With a checkpoint file it
// resumes from it when there is one and writes it after every epoch.
func trainAdagrad(r adagradRun, samples []example, lr float64, h *history) (model, adagradResult, error) {
	var res adagradResult
	opt, err := sharded.New(r.par.group.Comm, r.dev, []optim.Param{
		{Name: "w", Init: make([]float32, r.features), Options: r.weightOptions},
		{Name: "b", Init: make([]float32, 1)},
	}, append([]optim.Option{optim.LR(lr), optim.Eps(1e-10)}, r.options...)...)
	if err != nil {
		return model{}, res, err
	}
	defer opt.Close()

	b := newBatcher(samples, r.batch)
	tr := &train.Trainer{Opt: opt, Epochs: r.epochs, StepsPerEpoch: b.perEp}
	if r.checkpoint != "" {
		tr.CheckpointPath, tr.CheckpointEvery = r.checkpoint, b.perEp
		if err := tr.Resume(r.checkpoint); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return model{}, res, err
		}
		// The checkpoint's learning rate is the one training goes on with.
		if got := opt.Tensors()[0].Hyper.LR; got != lr {
			return model{}, res, fmt.Errorf("%s was trained at learning rate %g, not %g: pass -lr %g, or another -checkpoint",
				r.checkpoint, got, lr, got)
		}
		if pos := tr.Position(); pos != (train.Position{}) {
			res.resumed = fmt.Sprintf("%s after %d of %d steps", r.checkpoint, pos.Epoch*b.perEp+pos.Step, r.epochs*b.perEp)
		}
	}
	// The final training run (the one with a history) measures the
	// traffic between the ranks, and counts it on paper.
	var meter *group.Meter
	var paper *group.Paper
	if h != nil {
		meter, paper = group.NewMeter(opt), group.NewPaper(r.par.group.Size(), opt.Tensors())
	}
	observe := func(p train.Progress) {
		if meter != nil {
			meter.End()
		}
		h.add(p.Epoch, p.GlobalStep, p.Loss)
	}
	if r.progress != "" {
		rep, err := progress.New(r.progress, r.log, tr.Epochs*b.perEp, max(b.perEp/4, 1))
		if err != nil {
			return model{}, res, err
		}
		defer rep.Finish()
		tr.Observer = func(p train.Progress) {
			rep.Step(p.GlobalStep, p.Loss, slog.Int("epoch", p.Epoch+1),
				slog.String("to_device_MB", fmt.Sprintf("%.2f", float64(p.Stats.BytesToDevice)/1e6)),
				slog.String("from_device_MB", fmt.Sprintf("%.2f", float64(p.Stats.BytesFromDevice)/1e6)))
			observe(p)
		}
	} else {
		tr.Observer = observe
	}
	start := time.Now()
	err = tr.Run(context.Background(), r.par.objective(b, newGradients(r.features), r.denseWeights, meter, paper))
	if err != nil {
		return model{}, res, err
	}
	res.elapsed = time.Since(start)
	m, err := readModel(opt, r.features)
	st := opt.Stats()
	res.toDevice, res.fromDevice = st.BytesToDevice, st.BytesFromDevice
	res.transferTime, res.updateTime = st.TransferTime, st.ComputeTime
	if err == nil && meter != nil {
		res.comm, err = r.par.report(opt, meter, paper) // reads the state held: after the counts
	}
	return m, res, err
}

// readModel reads the trained weights and bias back from the device (from
// their owners: every rank calls it).
func readModel(opt *sharded.Adagrad, features int) (model, error) {
	w, bias := make([]float32, features), make([]float32, 1)
	if err := opt.Read("w", w); err != nil {
		return model{}, err
	}
	if err := opt.Read("b", bias); err != nil {
		return model{}, err
	}
	m := model{w: make([]float64, features), b: float64(bias[0])}
	for i, v := range w {
		m.w[i] = float64(v)
	}
	return m, nil
}
