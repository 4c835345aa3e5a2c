package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/adagrad-go/adagrad/cmdflag"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/progress"
)

// program is the name the help and the errors use: a go run binary's own
// name is a path in the build cache.
const program = "logreg"

const about = `logreg: logistic regression on sparse features, Adagrad against plain SGD.

Both optimizers train on the same batches (Adagrad on a device, SGD on the
host), each at its learning rate tuned on a validation split of the training
data; the report says which predicts a held-out test set better, by how much
against the test set's noise, and what each learned from the rare features.

Usage:
  logreg [flags]                                  generated data (power-law feature frequencies)
  logreg -data train.libsvm [-test test.libsvm]   LIBSVM/SVMlight files
  mpirun -np N logreg [flags]                     N ranks, each its slice of every batch
                                                  (built with -tags mpi); only rank 0 prints
(in a checkout of the module: go run ./examples/logreg [flags])

Flags:
`

// Limits that keep a typo or a hostile file from sizing tables by it.
const (
	maxFeatures    = 1 << 26 // a weight table of 256 MiB in float32
	maxOccurrences = 1 << 26 // generated samples × features per sample
	maxEpochs      = 1 << 20
	maxBatch       = 1 << 20
	maxRate        = 1e6
)

// config is a run's settings, from the flags.
type config struct {
	device            string
	train, test       string // LIBSVM files; empty: generated
	writeData         string // write the generated data here
	samples, features int
	perSample         int
	epochs, batch     int
	lr, sgdLR         float64 // 0: tuned on the validation split
	progress          progress.Mode
	csv, png          string
	checkpoint        string
	rare              int
	slices            int     // 0: not given (see parallel.go)
	sparsity          string  // the L1 study's rule (sparsity.go), or ""
	l1                float64 // its L1 strength; 0: tuned
}

func defaults() config {
	return config{samples: 20000, features: 50000, perSample: 20, epochs: 3, batch: 32,
		progress: progress.Auto, rare: 20}
}

// parseFlags reads and checks every flag before any work is done; -h
// writes the help to stderr and returns flag.ErrHelp.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	c := defaults()
	fs := flag.NewFlagSet(program, flag.ContinueOnError)
	fs.StringVar(&c.device, "device", "", "device: cpu, cuda[:N], opencl[:P:D] or auto (default $"+device.EnvVar+", else auto)")
	fs.StringVar(&c.train, "data", "", "training data, LIBSVM format (default: generated with power-law feature frequencies)")
	fs.StringVar(&c.test, "test", "", "test data, LIBSVM format (default: a held-out fifth of the shuffled training data)")
	fs.StringVar(&c.writeData, "write-data", "", "write the generated data to this .libsvm file")
	fs.IntVar(&c.samples, "samples", c.samples, "generated samples")
	fs.IntVar(&c.features, "features", c.features, "generated features")
	fs.IntVar(&c.perSample, "per-sample", c.perSample, "active features per generated sample (at most half of -features)")
	fs.IntVar(&c.epochs, "epochs", c.epochs, "passes over the training data")
	fs.IntVar(&c.batch, "batch", c.batch, "samples per step")
	fs.Float64Var(&c.lr, "lr", 0, "Adagrad learning rate (default: tuned on a validation split)")
	fs.Float64Var(&c.sgdLR, "sgd-lr", 0, "plain SGD learning rate (default: tuned on a validation split)")
	fs.Var(&c.progress, "progress", progress.Usage)
	fs.StringVar(&c.csv, "csv", "", "write the training losses to this .csv file")
	fs.StringVar(&c.png, "png", "", "write a plot of the training losses to this .png file")
	fs.StringVar(&c.checkpoint, "checkpoint", "", "Adagrad checkpoint (.safetensors, or a .json manifest with a part file per rank): resumed from when present, written every epoch")
	fs.IntVar(&c.rare, "rare", c.rare, "a feature seen in fewer training samples than this is rare")
	fs.IntVar(&c.slices, "slices", 0, "compute every batch's gradient in this many slices, summed in slice order, as as many ranks of\nmpirun do (default: the number of ranks; one process: 1); one process with -slices N prints what N ranks print")
	fs.StringVar(&c.sparsity, "sparsity", "", "also train Adagrad with an L1 penalty on the weights, by rule proximal (TensorFlow's ProximalAdagrad, dense gradients), proximal-lazy (the same, row-sparse gradients) or da (its AdagradDA), and report its exactly-zero weights and held-out log-loss against plain Adagrad")
	fs.Float64Var(&c.l1, "l1", 0, "the L1 strength of -sparsity (default: tuned on the validation split, with its rate)")
	if err := cmdflag.Parse(fs, args, about, stderr); err != nil {
		return c, err
	}
	return c, c.validate(cmdflag.Given(fs))
}

// validate checks the settings; given holds the flags set on the command
// line.
func (c config) validate(given map[string]bool) error {
	if err := cmdflag.Device("device", c.device); err != nil {
		return err
	}
	if c.train == "" {
		if c.test != "" {
			return errors.New("-test needs -data (generated data holds out its own test set)")
		}
		if err := c.validateGenerated(); err != nil {
			return err
		}
	} else {
		for _, name := range []string{"samples", "features", "per-sample", "write-data"} {
			if given[name] {
				return fmt.Errorf("-%s describes generated data: it cannot go with -data", name)
			}
		}
	}
	if given["slices"] {
		if err := cmdflag.Int("slices", c.slices, 1, c.batch); err != nil {
			return fmt.Errorf("%w (at most -batch)", err)
		}
	}
	if _, ok := sparsityRules[c.sparsity]; c.sparsity != "" && !ok {
		return fmt.Errorf("-sparsity %q: want proximal, proximal-lazy or da", c.sparsity)
	}
	if given["l1"] && c.sparsity == "" {
		return errors.New("-l1 is the L1 strength of -sparsity: give -sparsity too")
	}
	// 0 is no rate: it asks for tuning.
	return cmdflag.First(
		cmdflag.Input("data", c.train),
		cmdflag.Input("test", c.test),
		cmdflag.Int("epochs", c.epochs, 1, maxEpochs),
		cmdflag.Int("batch", c.batch, 1, maxBatch),
		cmdflag.Int("rare", c.rare, 1, maxOccurrences),
		cmdflag.Float("lr", c.lr, 0, maxRate),
		cmdflag.Float("sgd-lr", c.sgdLR, 0, maxRate),
		cmdflag.Float("l1", c.l1, 0, maxRate),
		cmdflag.Output("csv", c.csv, ".csv"),
		cmdflag.Output("png", c.png, ".png"),
		cmdflag.Output("checkpoint", c.checkpoint, ".safetensors", ".json"),
		cmdflag.Output("write-data", c.writeData, ".libsvm", ".svm", ".txt"),
	)
}

func (c config) validateGenerated() error {
	if err := cmdflag.Int("features", c.features, 2, maxFeatures); err != nil {
		return err
	}
	// Each sample draws distinct features from a power law: with nearly
	// all of them per sample, the draws would take all but forever.
	if err := cmdflag.Int("per-sample", c.perSample, 1, c.features/2); err != nil {
		return fmt.Errorf("%w (half of -features)", err)
	}
	if err := cmdflag.Int("samples", c.samples, 1, maxOccurrences/c.perSample); err != nil {
		return fmt.Errorf("%w (at most %d feature occurrences)", err, maxOccurrences)
	}
	if _, err := splitSizes(c.samples, true, c.batch); err != nil {
		return fmt.Errorf("-samples %d: %w", c.samples, err)
	}
	return nil
}
