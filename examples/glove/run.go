package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/examples/internal/group"
	"github.com/adagrad-go/adagrad/lossplot"
)

// model is what a run learned.
type model struct {
	vocab   []string
	index   map[string]int
	vectors [][]float64 // word vector + context vector, as GloVe reports
	losses  []float64   // mean training loss per epoch
}

// run is the whole program after the flags, in one process.
func run(c config, stdout, stderr io.Writer) (*model, error) {
	return runIn(group.New(collective.One(), stdout, stderr), c)
}

// runIn is the whole program after the flags on one rank of a group: the
// corpus, the training, the report on stdout and the files asked for
// (rank 0's).
func runIn(g *group.Group, c config) (*model, error) {
	stdout, stderr := g.Stdout, g.Stderr
	par, c, err := newParallel(g, c)
	if err != nil {
		return nil, err
	}
	words, err := readCorpus(c.corpus)
	if err != nil {
		return nil, err
	}
	vocab, index := vocabulary(words, c.minCount, c.vocab)
	entries := cooccurrences(words, index, c.window)
	if len(entries) < c.batch {
		return nil, fmt.Errorf("%s: %d co-occurrence entries of %d words: fewer than a batch of %d", c.corpus, len(entries), len(vocab), c.batch)
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
	perEpoch := len(entries) / c.batch
	fmt.Fprintf(stdout, "GloVe word vectors from %s\n\n", c.corpus)
	fmt.Fprintf(stdout, "corpus    %d words; vocabulary: the %d words seen at least %d times (at most %d);\n", len(words), len(vocab), c.minCount, c.vocab)
	fmt.Fprintf(stdout, "          %d co-occurrence entries (pairs of words within %d words of each other)\n", len(entries), c.window)
	fmt.Fprintf(stdout, "training  %d epochs of %d steps of %d entries; %d-dimensional vectors; Adagrad, lr %g\n", c.epochs, perEpoch, c.batch, c.dim, c.lr)
	fmt.Fprintf(stdout, "device    %v\n", dev)
	par.printSetup(stdout, c.batch)
	fmt.Fprintln(stdout)

	curve := &lossplot.Curve{Name: "glove"}
	tables, err := fitTables(gloveRun{dev: dev, words: len(vocab), dim: c.dim, epochs: c.epochs, batch: c.batch,
		lr: c.lr, xmax: c.xmax, alpha: c.alpha, progress: c.progress, log: stderr, par: par}, entries, curve)
	if err != nil {
		return nil, err
	}
	m := &model{vocab: vocab, index: index, losses: tables.losses, vectors: make([][]float64, len(vocab))}
	printLosses(stdout, m.losses)
	for i := range m.vectors {
		v := make([]float64, c.dim)
		for d := range v {
			v[d] = float64(tables.w[i*c.dim+d]) + float64(tables.c[i*c.dim+d])
		}
		m.vectors[i] = v
	}
	printNeighbours(stdout, m, c.queries, c.epochs)
	fmt.Fprintf(stdout, "\nThe tables' digest: %s, a SHA-256 of their bits, the same on any number\n"+
		"of ranks: their gradient rows reach the optimizer in batch order however cut.\n", group.Digest(tables.w, tables.c))
	fmt.Fprintf(stdout, "\nTransfers: to the device %.1f MB, from it %.1f MB over %d steps (the tables: %.1f MB)\n",
		float64(tables.toDevice)/1e6, float64(tables.fromDevice)/1e6, c.epochs*perEpoch, float64(4*(2*len(vocab)*c.dim+2*len(vocab)))/1e6)
	par.printCommunication(stdout, tables.comm, len(vocab), c.dim)
	if c.out != "" {
		if err := m.write(c.out); err != nil {
			return nil, err
		}
	}
	fig := &lossplot.Figure{
		Title:  "GloVe on " + c.corpus,
		XLabel: fmt.Sprintf("step (one batch of %d co-occurrence entries)", c.batch),
		YLabel: "training loss of the batch (weighted squared error of log counts)",
		Curves: []*lossplot.Curve{curve},
	}
	for _, path := range []string{c.csv, c.png} {
		if path != "" {
			if err := fig.Save(path); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// printLosses prints the mean training loss of about five epochs spread
// over the run, the first and the last among them, each once.
func printLosses(w io.Writer, losses []float64) {
	fmt.Fprintln(w, "Mean training loss per epoch: GloVe's weighted squared error per co-occurrence")
	fmt.Fprintln(w, "entry, f(count)·(w·c + b_w + b_c − log count)²/2, lower is better (with -progress log,")
	fmt.Fprintln(w, "each log line's mean_loss is its epoch's, the same number)")
	for _, e := range printedEpochs(len(losses)) {
		fmt.Fprintf(w, "  epoch %3d  %.6g\n", e+1, losses[e])
	}
	fmt.Fprintln(w)
}

// printedEpochs returns the epochs (from 0) that printLosses shows: every
// epochs/5-th and the last.
func printedEpochs(epochs int) []int {
	var out []int
	stride := max(1, epochs/5)
	for e := range epochs {
		if e%stride == 0 || e == epochs-1 {
			out = append(out, e)
		}
	}
	return out
}

func printNeighbours(w io.Writer, m *model, queries string, epochs int) {
	fmt.Fprintln(w, "Nearest neighbours, closest first (cosine similarity of word + context vectors):")
	if d := defaults().epochs; epochs < d {
		fmt.Fprintf(w, "(after %d epochs: the default %d give better neighbours)\n", epochs, d)
	}
	for _, q := range strings.Split(queries, ",") {
		if q = strings.TrimSpace(q); q == "" {
			continue
		}
		nb := m.neighbours(q, 5)
		if nb == nil {
			fmt.Fprintf(w, "  %-10s (not in the vocabulary)\n", q)
			continue
		}
		fmt.Fprintf(w, "  %-10s %s\n", q, strings.Join(nb, " "))
	}
}
