package main

import (
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/adagrad-go/adagrad/cmdflag"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/progress"
)

// program is the name the help and the errors use: a go run binary's own
// name is a path in the build cache.
const program = "glove"

const about = `glove: GloVe word vectors from a text, trained with Adagrad on a device.

It counts which words occur near which in the text, fits vectors whose dot
products predict the log of those counts (weighted least squares, as GloVe
does), prints the mean training loss per epoch and the nearest neighbours of
a few words, and can write the vectors, one word and its numbers a line.

Usage:
  glove [flags]                          the Go language specification that ships with Go
  glove -corpus book.txt -out vectors.txt
  mpirun -np N glove [flags]             N ranks, each its slice of every batch (built with
                                         -tags mpi); only rank 0 prints
(in a checkout of the module: go run ./examples/glove [flags])

Flags:
`

// Limits that keep a typo from sizing the tables by it.
const (
	maxTable  = 1 << 26 // numbers in one embedding table: 256 MiB in float32
	maxDim    = 4096
	maxVocab  = 1 << 22
	maxWindow = 1000
	maxEpochs = 1 << 20
	maxBatch  = 1 << 22
)

// config is a run's settings, from the flags.
type config struct {
	device, corpus, out   string
	dim, window, minCount int
	vocab                 int
	epochs, batch         int
	lr, xmax, alpha       float64
	queries               string
	progress              progress.Mode
	csv, png              string
	slices                int // 0: not given (see parallel.go)
}

func defaults() config {
	return config{dim: 32, window: 8, minCount: 5, vocab: 3000, epochs: 25, batch: 512,
		lr: 0.05, xmax: 10, alpha: 0.75, queries: "true,len,slice,channel,string,goroutine", progress: progress.Auto}
}

// parseFlags reads and checks every flag before any work is done; -h
// writes the help to stderr and returns flag.ErrHelp.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	c := defaults()
	fs := flag.NewFlagSet(program, flag.ContinueOnError)
	fs.StringVar(&c.device, "device", "", "device: cpu, cuda[:N], opencl[:P:D] or auto (default $"+device.EnvVar+", else auto)")
	fs.StringVar(&c.corpus, "corpus", "", "plain-text (or HTML) corpus (default: the Go spec, $GOROOT/doc/go_spec.html)")
	fs.StringVar(&c.out, "out", "", "write the vectors to this .txt (or .vec) file, one word and its numbers a line")
	fs.IntVar(&c.dim, "dim", c.dim, "vector dimension")
	fs.IntVar(&c.window, "window", c.window, "co-occurrence window, in words")
	fs.IntVar(&c.minCount, "min-count", c.minCount, "ignore words seen fewer times")
	fs.IntVar(&c.vocab, "vocab", c.vocab, "keep at most this many words")
	fs.IntVar(&c.epochs, "epochs", c.epochs, "passes over the co-occurrence entries")
	fs.IntVar(&c.batch, "batch", c.batch, "co-occurrence entries per step")
	fs.Float64Var(&c.lr, "lr", c.lr, "Adagrad learning rate (GloVe's)")
	fs.Float64Var(&c.xmax, "xmax", c.xmax, "GloVe weighting cut-off: counts above it weigh 1")
	fs.Float64Var(&c.alpha, "alpha", c.alpha, "GloVe weighting exponent")
	fs.StringVar(&c.queries, "neighbours", c.queries, "comma-separated words whose nearest neighbours to print")
	fs.Var(&c.progress, "progress", progress.Usage)
	fs.StringVar(&c.csv, "csv", "", "write the training losses to this .csv file")
	fs.StringVar(&c.png, "png", "", "write a plot of the training losses to this .png file")
	fs.IntVar(&c.slices, "slices", 0, "compute every batch in this many slices, as as many ranks of mpirun do (default: the\nnumber of ranks; one process: 1); one process with -slices N prints what N ranks print")
	if err := cmdflag.Parse(fs, args, about, stderr); err != nil {
		return c, err
	}
	if c.corpus == "" {
		c.corpus = specPath()
		if err := cmdflag.Input("corpus", c.corpus); err != nil {
			return c, fmt.Errorf("the default corpus, the Go spec, is not there (%w): give one", err)
		}
	}
	return c, c.validate()
}

func (c config) validate() error {
	err := cmdflag.First(
		cmdflag.Device("device", c.device),
		cmdflag.Input("corpus", c.corpus),
		cmdflag.Int("dim", c.dim, 1, maxDim),
		cmdflag.Int("window", c.window, 1, maxWindow),
		cmdflag.Int("min-count", c.minCount, 1, math.MaxInt32),
		cmdflag.Int("vocab", c.vocab, 2, maxVocab),
		cmdflag.Int("epochs", c.epochs, 1, maxEpochs),
		cmdflag.Int("batch", c.batch, 1, maxBatch),
		cmdflag.Float("lr", c.lr, 1e-12, 1e6),
		cmdflag.Float("xmax", c.xmax, 1e-12, 1e12),
		cmdflag.Float("alpha", c.alpha, 0, 10),
		cmdflag.Int("slices", c.slices, 0, c.batch),
		cmdflag.Output("out", c.out, ".txt", ".vec"),
		cmdflag.Output("csv", c.csv, ".csv"),
		cmdflag.Output("png", c.png, ".png"),
	)
	if err == nil && c.vocab*c.dim > maxTable {
		err = fmt.Errorf("-vocab %d × -dim %d: more than %d numbers in a table", c.vocab, c.dim, maxTable)
	}
	return err
}
