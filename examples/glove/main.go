// Glove learns word vectors with GloVe (Pennington, Socher and Manning,
// 2014): weighted least squares on the log of a word co-occurrence matrix,
// trained with Adagrad as the paper does. Every step touches a few hundred
// rows of the embedding tables, so each gathers those rows from the device
// and sends back row-sparse gradients.
//
//	go run ./examples/glove -device auto              # the Go spec that ships with Go
//	go run ./examples/glove -corpus book.txt -out vectors.txt
//
// It prints the nearest neighbours of a few words and can write the vectors
// in the usual text format (a word and its numbers per line).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"

	_ "github.com/adagrad-go/adagrad/cpu"  // always built
	_ "github.com/adagrad-go/adagrad/cuda" // registers with -tags cuda
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/curve"
	"github.com/adagrad-go/adagrad/internal/progress"
	_ "github.com/adagrad-go/adagrad/opencl" // registers with -tags opencl
	"github.com/adagrad-go/adagrad/optim"
	"github.com/adagrad-go/adagrad/train"
)

type config struct {
	device, corpus, out   string
	dim, window, minCount int
	vocab                 int
	epochs, batch         int
	lr, xmax, alpha       float64
	queries               string
	progress, csv, png    string
}

func main() {
	var c config
	flag.StringVar(&c.device, "device", "", "device: cpu, cuda[:N], opencl[:P:D] or auto (default $"+device.EnvVar+", else auto)")
	flag.StringVar(&c.corpus, "corpus", "", "plain-text (or HTML) corpus (default: the Go spec, "+specPath()+")")
	flag.StringVar(&c.out, "out", "", "write the vectors here, one word and its numbers a line")
	flag.IntVar(&c.dim, "dim", 32, "vector dimension")
	flag.IntVar(&c.window, "window", 8, "co-occurrence window, in words")
	flag.IntVar(&c.minCount, "min-count", 5, "ignore words seen fewer times")
	flag.IntVar(&c.vocab, "vocab", 3000, "keep at most this many words")
	flag.IntVar(&c.epochs, "epochs", 25, "passes over the co-occurrence entries")
	flag.IntVar(&c.batch, "batch", 512, "co-occurrence entries per step")
	flag.Float64Var(&c.lr, "lr", 0.05, "Adagrad learning rate (GloVe's)")
	flag.Float64Var(&c.xmax, "xmax", 10, "GloVe weighting cut-off")
	flag.Float64Var(&c.alpha, "alpha", 0.75, "GloVe weighting exponent")
	flag.StringVar(&c.queries, "neighbours", "true,len,slice,channel,string,goroutine", "words whose nearest neighbours to print")
	flag.StringVar(&c.progress, "progress", progress.Auto, "progress: auto, bar, log or none")
	flag.StringVar(&c.csv, "csv", "", "write the training losses as CSV here")
	flag.StringVar(&c.png, "png", "", "write a plot of the training losses (PNG) here")
	flag.Parse()
	if _, err := run(c, os.Stdout); err != nil {
		log.SetFlags(0)
		log.Fatal(err)
	}
}

// model is what a run learned.
type model struct {
	vocab   []string
	index   map[string]int
	vectors [][]float64 // word vector + context vector, as GloVe reports
	losses  []float64   // mean loss per epoch
}

func run(c config, out io.Writer) (*model, error) {
	path := c.corpus
	if path == "" {
		path = specPath()
	}
	words, err := readCorpus(path)
	if err != nil {
		return nil, err
	}
	vocab, index := vocabulary(words, c.minCount, c.vocab)
	entries := cooccurrences(words, index, c.window)
	if len(entries) < c.batch {
		return nil, fmt.Errorf("%s: %d co-occurrences of %d words: too small a corpus", path, len(entries), len(vocab))
	}
	fmt.Fprintf(out, "corpus: %s, %d words, vocabulary %d, %d co-occurrence entries\n", path, len(words), len(vocab), len(entries))

	dev, err := device.Open(c.device)
	if err != nil {
		return nil, err
	}
	defer dev.Close()
	fmt.Fprintf(out, "device: %v\n", dev)

	V, D := len(vocab), c.dim
	rng := rand.New(rand.NewPCG(7, 7))
	initTable := func(n int) []float32 {
		t := make([]float32, n)
		for i := range t {
			t[i] = float32((rng.Float64() - 0.5) / float64(D))
		}
		return t
	}
	opt, err := optim.New(dev, []optim.Param{
		{Name: "w", Init: initTable(V * D), Shape: []int{V, D}},
		{Name: "c", Init: initTable(V * D), Shape: []int{V, D}},
		{Name: "bw", Init: make([]float32, V)},
		{Name: "bc", Init: make([]float32, V)},
	}, optim.LR(c.lr), optim.Eps(1e-8))
	if err != nil {
		return nil, err
	}
	defer opt.Close()

	perEpoch := len(entries) / c.batch
	tr := &train.Trainer{Opt: opt, Epochs: c.epochs, StepsPerEpoch: perEpoch}
	rep, err := progress.New(c.progress, os.Stderr, c.epochs*perEpoch, perEpoch)
	if err != nil {
		return nil, err
	}
	m := &model{vocab: vocab, index: index, losses: make([]float64, c.epochs)}
	lossCurve := &curve.Curve{Name: "glove"}
	tr.Observer = func(p train.Progress) {
		rep.Observe(p)
		m.losses[p.Epoch] += p.Loss / float64(perEpoch)
		lossCurve.Add(p.GlobalStep, p.Loss)
	}
	var order []int
	orderEpoch := -1
	err = tr.Run(context.Background(), func(s *train.StepContext) (float64, error) {
		if s.Epoch != orderEpoch {
			order, orderEpoch = rand.New(rand.NewPCG(uint64(s.Epoch), 3)).Perm(len(entries)), s.Epoch
		}
		batch := make([]cooc, c.batch)
		for k := range batch {
			batch[k] = entries[order[s.Step*c.batch+k]]
		}
		return gloveStep(s, batch, D, c.xmax, c.alpha)
	})
	rep.Finish()
	if err != nil {
		return nil, err
	}
	for e := 0; e < c.epochs; e += max(1, c.epochs/5) {
		fmt.Fprintf(out, "epoch %3d  loss %.5f\n", e, m.losses[e])
	}
	fmt.Fprintf(out, "epoch %3d  loss %.5f\n", c.epochs-1, m.losses[c.epochs-1])

	w, cv := make([]float32, V*D), make([]float32, V*D)
	if err := opt.Read("w", w); err != nil {
		return nil, err
	}
	if err := opt.Read("c", cv); err != nil {
		return nil, err
	}
	m.vectors = make([][]float64, V)
	for i := range m.vectors {
		v := make([]float64, D)
		for d := range v {
			v[d] = float64(w[i*D+d]) + float64(cv[i*D+d])
		}
		m.vectors[i] = v
	}
	for _, q := range strings.Split(c.queries, ",") {
		if q = strings.TrimSpace(q); q == "" {
			continue
		}
		nb := m.neighbours(q, 5)
		if nb == nil {
			fmt.Fprintf(out, "%-10s (not in the vocabulary)\n", q)
			continue
		}
		fmt.Fprintf(out, "%-10s %s\n", q, strings.Join(nb, " "))
	}
	st := opt.Stats()
	fmt.Fprintf(out, "host→device %.1f MB, device→host %.1f MB over %d steps (tables: %.1f MB)\n",
		float64(st.BytesToDevice)/1e6, float64(st.BytesFromDevice)/1e6, st.Steps, float64(4*(2*V*D+2*V))/1e6)
	if c.out != "" {
		if err := m.write(c.out); err != nil {
			return nil, err
		}
	}
	if c.csv != "" {
		if err := (curve.Set{lossCurve}).WriteCSV(c.csv); err != nil {
			return nil, err
		}
	}
	if c.png != "" {
		if err := (curve.Set{lossCurve}).WritePNG(c.png, "GloVe on "+path, "weighted squared error"); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// gloveStep computes the GloVe loss of a batch of co-occurrences and its
// row-sparse gradients, from the rows it gathers.
func gloveStep(s *train.StepContext, batch []cooc, D int, xmax, alpha float64) (float64, error) {
	var wi, cj []int64
	for _, e := range batch {
		wi, cj = append(wi, int64(e.i)), append(cj, int64(e.j))
	}
	rowsW, rowsC := slices.Compact(sortedCopy(wi)), slices.Compact(sortedCopy(cj))
	W, C := make([]float32, len(rowsW)*D), make([]float32, len(rowsC)*D)
	BW, BC := make([]float32, len(rowsW)), make([]float32, len(rowsC))
	for _, g := range []struct {
		name string
		rows []int64
		dst  []float32
	}{{"w", rowsW, W}, {"c", rowsC, C}, {"bw", rowsW, BW}, {"bc", rowsC, BC}} {
		if err := s.Rows32(g.name, g.rows, g.dst); err != nil {
			return 0, err
		}
	}
	atW, atC := positions(rowsW), positions(rowsC)
	gW, gC := make([]float32, len(batch)*D), make([]float32, len(batch)*D)
	gBW, gBC := make([]float32, len(batch)), make([]float32, len(batch))
	loss := 0.0
	for k, e := range batch {
		a, b := atW[int64(e.i)], atC[int64(e.j)]
		dot := 0.0
		for d := range D {
			dot += float64(W[a*D+d]) * float64(C[b*D+d])
		}
		diff := dot + float64(BW[a]) + float64(BC[b]) - math.Log(e.x)
		f := 1.0
		if e.x < xmax {
			f = math.Pow(e.x/xmax, alpha)
		}
		loss += 0.5 * f * diff * diff
		fd := f * diff
		for d := range D {
			gW[k*D+d] = float32(fd * float64(C[b*D+d]))
			gC[k*D+d] = float32(fd * float64(W[a*D+d]))
		}
		gBW[k], gBC[k] = float32(fd), float32(fd)
	}
	// Duplicated rows (a word in several pairs) are summed by the optimizer.
	for _, g := range []struct {
		name string
		rows []int64
		vals []float32
	}{{"w", wi, gW}, {"c", cj, gC}, {"bw", wi, gBW}, {"bc", cj, gBC}} {
		if err := s.SetSparseGrad(g.name, g.rows, g.vals); err != nil {
			return 0, err
		}
	}
	return loss / float64(len(batch)), nil
}

func sortedCopy(s []int64) []int64 {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func positions(rows []int64) map[int64]int {
	m := make(map[int64]int, len(rows))
	for i, r := range rows {
		m[r] = i
	}
	return m
}

// neighbours returns the k words whose vectors are closest to word's by
// cosine, nearest first, or nil when word is unknown.
func (m *model) neighbours(word string, k int) []string {
	q, ok := m.index[word]
	if !ok {
		return nil
	}
	type scored struct {
		w string
		s float64
	}
	var all []scored
	for i, v := range m.vectors {
		if i != q {
			all = append(all, scored{m.vocab[i], cosine(m.vectors[q], v)})
		}
	}
	sort.Slice(all, func(a, b int) bool { return all[a].s > all[b].s })
	out := make([]string, 0, k)
	for _, s := range all[:min(k, len(all))] {
		out = append(out, s.w)
	}
	return out
}

func cosine(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}

// write saves the vectors in the usual text format.
func (m *model) write(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i, word := range m.vocab {
		w.WriteString(word)
		for _, x := range m.vectors[i] {
			fmt.Fprintf(w, " %.6f", x)
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
