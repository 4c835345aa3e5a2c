// Logreg trains logistic regression on sparse features with Adagrad, the
// setting Adagrad was made for: rare features get large steps. The weights
// are a table of one row per feature on the device; each step gathers the
// rows its batch touches, and sends back only their gradient rows.
//
//	go run ./examples/logreg -device auto                 # generated power-law data
//	go run ./examples/logreg -data train.libsvm -test test.libsvm
//
// It trains plain SGD on the host on the same batches, for comparison, and
// prints test log-loss and accuracy for both, and the same with only the
// weights of rare features (seen in fewer than -rare training samples)
// kept: what each optimizer learned about the rare features.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"

	_ "github.com/adagrad-go/adagrad/cpu"  // always built
	_ "github.com/adagrad-go/adagrad/cuda" // registers with -tags cuda
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/curve"
	"github.com/adagrad-go/adagrad/internal/progress"
	_ "github.com/adagrad-go/adagrad/opencl" // registers with -tags opencl
	"github.com/adagrad-go/adagrad/optim"
	training "github.com/adagrad-go/adagrad/train"
)

type config struct {
	device            string
	train, test       string // LIBSVM files; empty: generated
	writeData         string // write the generated training data here
	samples, features int
	perSample         int
	epochs, batch     int
	lr, sgdLR         float64
	progress          string
	csv, png          string
	checkpoint        string
	rare              int
}

func main() {
	var c config
	flag.StringVar(&c.device, "device", "", "device: cpu, cuda[:N], opencl[:P:D] or auto (default $"+device.EnvVar+", else auto)")
	flag.StringVar(&c.train, "data", "", "training data, LIBSVM format (default: generated with power-law feature frequencies)")
	flag.StringVar(&c.test, "test", "", "test data, LIBSVM format (default: a held-out fifth of the training data)")
	flag.StringVar(&c.writeData, "write-data", "", "write the generated data to this file in LIBSVM format")
	flag.IntVar(&c.samples, "samples", 20000, "generated samples")
	flag.IntVar(&c.features, "features", 50000, "generated features")
	flag.IntVar(&c.perSample, "per-sample", 20, "active features per generated sample")
	flag.IntVar(&c.epochs, "epochs", 3, "passes over the training data")
	flag.IntVar(&c.batch, "batch", 32, "samples per step")
	flag.Float64Var(&c.lr, "lr", 0.1, "Adagrad learning rate")
	flag.Float64Var(&c.sgdLR, "sgd-lr", 0.5, "plain SGD learning rate, for the comparison")
	flag.StringVar(&c.progress, "progress", progress.Auto, "progress: auto, bar, log or none")
	flag.StringVar(&c.csv, "csv", "", "write the training losses as CSV here")
	flag.StringVar(&c.png, "png", "", "write a plot of the training losses (PNG) here")
	flag.StringVar(&c.checkpoint, "checkpoint", "", "checkpoint file: resumed from when present, written at the end")
	flag.IntVar(&c.rare, "rare", 20, "a feature seen in fewer training samples than this is rare")
	flag.Parse()
	if _, err := run(c, os.Stdout); err != nil {
		log.SetFlags(0)
		log.Fatal(err)
	}
}

// report is what a run measured, for tests.
type report struct {
	adagrad, sgd        metrics
	firstLoss, lastLoss float64 // Adagrad's mean training loss in the first and last epoch
	rareFeatures        int
}

type metrics struct{ loss, accuracy, rareLoss, rareAccuracy float64 }

func loadData(c config, out io.Writer) (train, test []example, features int, err error) {
	if c.train == "" {
		all := generate(c.samples, c.features, c.perSample, 1)
		cut := len(all) * 4 / 5
		train, test, features = all[:cut], all[cut:], c.features
		if c.writeData != "" {
			f, err := os.Create(c.writeData)
			if err != nil {
				return nil, nil, 0, err
			}
			if err := writeLIBSVM(f, all); err != nil {
				f.Close()
				return nil, nil, 0, err
			}
			if err := f.Close(); err != nil {
				return nil, nil, 0, err
			}
		}
		fmt.Fprintf(out, "data: %d generated samples of %d power-law features (%d each); %d for training\n",
			len(all), features, c.perSample, len(train))
		return train, test, features, nil
	}
	read := func(path string) ([]example, int, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, 0, err
		}
		defer f.Close()
		d, n, err := readLIBSVM(f)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		return d, n, nil
	}
	if train, features, err = read(c.train); err != nil {
		return nil, nil, 0, err
	}
	if c.test == "" {
		cut := len(train) * 4 / 5
		train, test = train[:cut], train[cut:]
	} else {
		var nt int
		if test, nt, err = read(c.test); err != nil {
			return nil, nil, 0, err
		}
		features = max(features, nt)
	}
	fmt.Fprintf(out, "data: %s, %d training and %d test samples, %d features\n", c.train, len(train), len(test), features)
	return train, test, features, nil
}

// batches returns the samples of global step g: a fresh shuffle every
// epoch, drawn from the epoch number alone, so runs resume bit for bit.
type batcher struct {
	data    []example
	size    int
	perEp   int
	epoch   int
	shuffle []int
}

func (b *batcher) at(g int) []example {
	epoch, step := g/b.perEp, g%b.perEp
	if b.shuffle == nil || epoch != b.epoch {
		b.epoch = epoch
		b.shuffle = rand.New(rand.NewPCG(uint64(epoch), 5)).Perm(len(b.data))
	}
	out := make([]example, 0, b.size)
	for _, i := range b.shuffle[step*b.size : min((step+1)*b.size, len(b.data))] {
		out = append(out, b.data[i])
	}
	return out
}

func run(c config, out io.Writer) (*report, error) {
	train, test, features, err := loadData(c, out)
	if err != nil {
		return nil, err
	}
	if len(train) < c.batch || c.batch <= 0 {
		return nil, fmt.Errorf("%d training samples: need at least one batch of %d", len(train), c.batch)
	}
	dev, err := device.Open(c.device)
	if err != nil {
		return nil, err
	}
	defer dev.Close()
	fmt.Fprintf(out, "device: %v\n", dev)

	opt, err := optim.New(dev, []optim.Param{
		{Name: "w", Init: make([]float32, features)},
		{Name: "b", Init: make([]float32, 1)},
	}, optim.LR(c.lr), optim.Eps(1e-10))
	if err != nil {
		return nil, err
	}
	defer opt.Close()

	perEpoch := len(train) / c.batch
	tr := &training.Trainer{Opt: opt, Epochs: c.epochs, StepsPerEpoch: perEpoch}
	if c.checkpoint != "" {
		tr.CheckpointPath, tr.CheckpointEvery = c.checkpoint, perEpoch
		if _, err := os.Stat(c.checkpoint); err == nil {
			if err := tr.Resume(c.checkpoint); err != nil {
				return nil, err
			}
			fmt.Fprintf(out, "resumed from %s at %+v\n", c.checkpoint, tr.Position())
		}
	}
	rep, err := progress.New(c.progress, os.Stderr, tr.Epochs*perEpoch, max(perEpoch/4, 1))
	if err != nil {
		return nil, err
	}
	adaCurve, sgdCurve := &curve.Curve{Name: "adagrad"}, &curve.Curve{Name: "sgd"}
	epochLoss := make([]float64, c.epochs)
	tr.Observer = func(p training.Progress) {
		rep.Observe(p)
		adaCurve.Add(p.GlobalStep, p.Loss)
		epochLoss[p.Epoch] += p.Loss / float64(perEpoch)
	}
	b := &batcher{data: train, size: c.batch, perEp: perEpoch}
	err = tr.Run(context.Background(), func(s *training.StepContext) (float64, error) {
		batch := b.at(s.GlobalStep)
		rows := touched(batch)
		cur := make([]float32, len(rows))
		if err := s.Rows32("w", rows, cur); err != nil {
			return 0, err
		}
		bias := make([]float32, 1)
		if err := s.Rows32("b", []int64{0}, bias); err != nil {
			return 0, err
		}
		g := gradient(batch, rows, cur, float64(bias[0]))
		if err := s.SetSparseGrad("w", g.rows, g.grads); err != nil {
			return 0, err
		}
		gb, err := s.Grad32("b")
		if err != nil {
			return 0, err
		}
		gb[0] = float32(g.bias)
		return g.loss, nil
	})
	rep.Finish()
	if err != nil {
		return nil, err
	}
	for e, l := range epochLoss {
		fmt.Fprintf(out, "epoch %d  adagrad training loss %.4f\n", e, l)
	}

	// The comparison: plain SGD on the host, same batches, same steps.
	sgdW, sgdB := make([]float64, features), 0.0
	sb := &batcher{data: train, size: c.batch, perEp: perEpoch}
	for g := range c.epochs * perEpoch {
		batch := sb.at(g)
		rows := touched(batch)
		cur := make([]float32, len(rows))
		for i, r := range rows {
			cur[i] = float32(sgdW[r])
		}
		gr := gradient(batch, rows, cur, sgdB)
		for i, r := range rows {
			sgdW[r] -= c.sgdLR * float64(gr.grads[i])
		}
		sgdB -= c.sgdLR * gr.bias
		sgdCurve.Add(g+1, gr.loss)
	}

	w := make([]float32, features)
	if err := opt.Read("w", w); err != nil {
		return nil, err
	}
	bias := make([]float32, 1)
	if err := opt.Read("b", bias); err != nil {
		return nil, err
	}
	isRare := rareFeatures(train, features, c.rare)
	res := &report{firstLoss: epochLoss[0], lastLoss: epochLoss[len(epochLoss)-1]}
	for _, r := range isRare {
		if r {
			res.rareFeatures++
		}
	}
	weights := func(get func(int64) float64, onlyRare bool) func(int64) float64 {
		return func(f int64) float64 {
			if int(f) >= features || (onlyRare && !isRare[f]) {
				return 0
			}
			return get(f)
		}
	}
	ada := func(f int64) float64 { return float64(w[f]) }
	sgd := func(f int64) float64 { return sgdW[f] }
	res.adagrad.loss, res.adagrad.accuracy = evaluate(test, weights(ada, false), float64(bias[0]))
	res.adagrad.rareLoss, res.adagrad.rareAccuracy = evaluate(test, weights(ada, true), float64(bias[0]))
	res.sgd.loss, res.sgd.accuracy = evaluate(test, weights(sgd, false), sgdB)
	res.sgd.rareLoss, res.sgd.rareAccuracy = evaluate(test, weights(sgd, true), sgdB)
	fmt.Fprintf(out, "\n%d steps of %d samples each, %d test samples; %d of %d features are rare (in < %d training samples)\n",
		c.epochs*perEpoch, c.batch, len(test), res.rareFeatures, features, c.rare)
	fmt.Fprintf(out, "%-8s %10s %9s   %s\n", "", "log-loss", "accuracy", "with rare-feature weights only: log-loss, accuracy")
	for _, r := range []struct {
		name string
		m    metrics
	}{{"adagrad", res.adagrad}, {"sgd", res.sgd}} {
		fmt.Fprintf(out, "%-8s %10.4f %9.4f   %10.4f %9.4f\n", r.name, r.m.loss, r.m.accuracy, r.m.rareLoss, r.m.rareAccuracy)
	}
	st := opt.Stats()
	fmt.Fprintf(out, "host→device %.1f MB, device→host %.1f MB, transfers %v, compute %v\n",
		float64(st.BytesToDevice)/1e6, float64(st.BytesFromDevice)/1e6, st.TransferTime.Round(1e6), st.ComputeTime.Round(1e6))
	set := curve.Set{adaCurve, sgdCurve}
	if c.csv != "" {
		if err := set.WriteCSV(c.csv); err != nil {
			return nil, err
		}
	}
	if c.png != "" {
		if err := set.WritePNG(c.png, "logistic regression on sparse features", "training log-loss"); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// rareFeatures marks the features seen in fewer than limit training
// samples.
func rareFeatures(train []example, features, limit int) []bool {
	count := make([]int, features)
	for _, ex := range train {
		for _, f := range ex.features {
			count[f]++
		}
	}
	rare := make([]bool, features)
	for f, n := range count {
		rare[f] = n < limit
	}
	return rare
}
