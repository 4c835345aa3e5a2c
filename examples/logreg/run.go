package main

import (
	"io"
	"time"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/examples/internal/group"
	"github.com/adagrad-go/adagrad/lossplot"
)

// result is what a run measured, for the tests.
type result struct {
	adagrad, sgd outcome
	base         metrics // the base-rate model, without features
	rare         int     // rare features
	// Adagrad's held-out log-loss minus SGD's, and its standard error.
	diff, stdErr float64
	verdict      string
	comm         []group.RankReport // the ranks' traffic and state (see parallel.go)
	proximal     *proximalResult    // with -sparsity
}

// outcome is one optimizer's part of a run.
type outcome struct {
	tuning tuning
	hist   *history
	// Held-out scores with all weights, and with the rare features'
	// weights set to 0.
	all, withoutRare metrics
}

// run is the whole program after the flags, in one process.
func run(c config, stdout, stderr io.Writer) (*result, error) {
	return runIn(group.New(collective.One(), stdout, stderr), c)
}

// runIn is the whole program after the flags on one rank of a group: the
// data, the tuning, the two trainings, the report on stdout and the files
// asked for (rank 0's).
func runIn(g *group.Group, c config) (*result, error) {
	stdout, stderr := g.Stdout, g.Stderr
	par, c, err := newParallel(g, c)
	if err != nil {
		return nil, err
	}
	d, err := loadData(c)
	if err != nil {
		return nil, err
	}
	spec, err := g.Device(c.device)
	if err != nil {
		return nil, err
	}
	dev, err := device.Open(spec)
	if err != nil {
		return nil, err
	}
	defer dev.Close()
	isRare := rareFeatures(d.train, d.features, c.rare)
	res := &result{rare: count(isRare), base: baseRate(d.train).evaluate(d.test, nil)}
	printSetup(stdout, c, d, dev, res.rare)
	par.printSetup(stdout, c.batch)

	ada := adagradRun{dev: dev, features: d.features, epochs: c.epochs, batch: c.batch, par: par}
	start := time.Now()
	if res.adagrad.tuning, res.sgd.tuning, err = tuneRates(c, d, ada); err != nil {
		return nil, err
	}
	printTuning(stdout, c, d, res, time.Since(start))

	res.adagrad.hist, res.sgd.hist = newHistory("adagrad", c.epochs), newHistory("sgd", c.epochs)
	ada.checkpoint, ada.progress, ada.log = c.checkpoint, c.progress, stderr
	adaModel, cost, err := trainAdagrad(ada, d.train, res.adagrad.tuning.rate, res.adagrad.hist)
	if err != nil {
		return nil, err
	}
	start = time.Now()
	sgdModel := trainSGD(d.train, d.features, res.sgd.tuning.rate, c.epochs, c.batch, res.sgd.hist)
	sgdTime := time.Since(start)
	printTraining(stdout, c, d, res, cost)
	printDigest(stdout, adaModel)

	frequent := make([]bool, len(isRare))
	for f, r := range isRare {
		frequent[f] = !r
	}
	res.adagrad.all, res.adagrad.withoutRare = adaModel.evaluate(d.test, nil), adaModel.evaluate(d.test, frequent)
	res.sgd.all, res.sgd.withoutRare = sgdModel.evaluate(d.test, nil), sgdModel.evaluate(d.test, frequent)
	res.diff, res.stdErr = difference(adaModel, sgdModel, d.test)
	res.verdict = verdict(res, len(d.test))
	printResults(stdout, c, d, res)
	if c.sparsity != "" {
		if res.proximal, err = runProximal(c, d, ada, res, adaModel, stdout); err != nil {
			return nil, err
		}
	}
	printCost(stdout, cost, sgdTime)
	par.printCommunication(stdout, cost.comm, d.features)
	res.comm = cost.comm
	return res, writePlots(c, res)
}

// tuneRates chooses each optimizer's learning rate on a validation split:
// the last fifth of the (shuffled) training samples is held out, the rest
// trained on. The test set plays no part.
func tuneRates(c config, d *dataset, ada adagradRun) (adagrad, sgd tuning, err error) {
	fit, val := holdOut(d.train, 2)
	adagrad, err = tune(adagradRates, c.lr, fit, val, func(data []example, lr float64) (model, error) {
		m, _, err := trainAdagrad(ada, data, lr, nil)
		return m, err
	})
	if err != nil {
		return adagrad, sgd, err
	}
	sgd, err = tune(sgdRates, c.sgdLR, fit, val, func(data []example, lr float64) (model, error) {
		return trainSGD(data, d.features, lr, c.epochs, c.batch, nil), nil
	})
	return adagrad, sgd, err
}

// rareFeatures marks the features seen in fewer than limit training
// samples.
func rareFeatures(train []example, features, limit int) []bool {
	seen := make([]int32, features)
	for _, ex := range train {
		for _, f := range ex.features {
			seen[f]++
		}
	}
	rare := make([]bool, features)
	for f, n := range seen {
		rare[f] = int(n) < limit
	}
	return rare
}

func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// writePlots writes the training losses to the -csv and -png files.
func writePlots(c config, res *result) error {
	fig := &lossplot.Figure{
		Title:  "Logistic regression on sparse features: Adagrad and SGD, each at its tuned rate",
		XLabel: "step (one batch of " + itoa(c.batch) + " training samples)",
		YLabel: "training log-loss of the batch (nats per sample)",
		Curves: []*lossplot.Curve{res.adagrad.hist.curve, res.sgd.hist.curve},
	}
	for _, path := range []string{c.csv, c.png} {
		if path != "" {
			if err := fig.Save(path); err != nil {
				return err
			}
		}
	}
	return nil
}
