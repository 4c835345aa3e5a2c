package main

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFlags: every bad flag is refused before any work, with one line on
// stderr and exit status 2; -h starts with what the program does.
func TestFlags(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-epochs", "0"}, "-epochs 0: want 1 to"},
		{[]string{"-epochs", "-1"}, "-epochs -1"},
		{[]string{"-batch", "0"}, "-batch 0"},
		{[]string{"-dim", "-1"}, "-dim -1: want 1 to 4096"},
		{[]string{"-dim", "0"}, "-dim 0: want 1 to 4096"},
		{[]string{"-window", "0"}, "-window 0"},
		{[]string{"-min-count", "0"}, "-min-count 0"},
		{[]string{"-vocab", "1"}, "-vocab 1"},
		{[]string{"-vocab", "1000000", "-dim", "1000"}, "-vocab 1000000 × -dim 1000: more than"},
		{[]string{"-lr", "0"}, "-lr 0"},
		{[]string{"-lr", "NaN"}, "-lr NaN"},
		{[]string{"-xmax", "-1"}, "-xmax -1"},
		{[]string{"-alpha", "Inf"}, "-alpha +Inf"},
		{[]string{"-progress", "x"}, `unknown progress mode "x"`},
		{[]string{"-device", "gpu"}, `unknown backend "gpu"`},
		{[]string{"-corpus", filepath.Join(dir, "none.txt")}, "-corpus: stat"},
		{[]string{"-out", filepath.Join(dir, "vectors.csv")}, "-out " + filepath.Join(dir, "vectors.csv") + ": want a file name ending in .txt or .vec"},
		{[]string{"-csv", filepath.Join(dir, "no", "loss.csv")}, "-csv: open"},
		{[]string{"-png", filepath.Join(dir, "loss.svg")}, "ending in .png"},
		{[]string{"book.txt"}, `unexpected argument "book.txt"`},
	} {
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := command(c.args, &stdout, &stderr)
		msg := stderr.String()
		if code != 2 || !strings.HasPrefix(msg, "glove: ") || !strings.Contains(msg, c.want) ||
			strings.Count(msg, "\n") != 1 || stdout.Len() != 0 {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want 2 and one line with %q", c.args, code, msg, stdout.String(), c.want)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%q: refused after %v: work was done first", c.args, took)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := command([]string{"-h"}, &stdout, &stderr); code != 0 ||
		!strings.HasPrefix(stderr.String(), "glove: GloVe word vectors from a text, trained with Adagrad on a device.\n") ||
		!strings.Contains(stderr.String(), "\n  glove [flags]") {
		t.Errorf("-h: exit %d\n%s", code, stderr.String())
	}
}

// writeCorpus writes a small text of sentences drawn from two topics, for
// runs that take a fraction of a second.
func writeCorpus(t *testing.T) string {
	topics := [][]string{
		{"cat", "dog", "pet", "fur", "tail", "paw", "bark", "purr"},
		{"int", "float", "type", "value", "slice", "map", "len", "cap"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for range 400 {
		words := topics[rng.IntN(2)]
		for range 8 {
			b.WriteString(words[rng.IntN(len(words))] + " ")
		}
		b.WriteString("the end.\n")
	}
	path := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPrinting: with -epochs 3 each epoch's loss is printed once (the last
// one fell on the print stride and was printed twice), under a header that
// says what it is; the log line of an epoch shows the same number; the
// neighbour lines have a header.
func TestPrinting(t *testing.T) {
	corpus := writeCorpus(t)
	var stdout, stderr bytes.Buffer
	args := []string{"-device", "cpu", "-corpus", corpus, "-epochs", "3", "-batch", "64", "-dim", "8", "-min-count", "2",
		"-progress", "log", "-neighbours", "cat,slice,zebra"}
	if code := command(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	t.Log("\n" + out + stderr.String())
	epochs := regexp.MustCompile(`(?m)^  epoch +(\d+)  (\S+)$`).FindAllStringSubmatch(out, -1)
	var got []string
	for _, e := range epochs {
		got = append(got, e[1])
	}
	if !slices.Equal(got, []string{"1", "2", "3"}) {
		t.Errorf("epochs printed: %v, want 1 2 3 once each", got)
	}
	for _, want := range []string{"Mean training loss per epoch:", "Nearest neighbours, closest first",
		"\n  zebra      (not in the vocabulary)\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	logs := regexp.MustCompile(`mean_loss=(\S+) over_steps=\S+ steps/s=\S+ epoch=(\d+)`).FindAllStringSubmatch(stderr.String(), -1)
	if len(logs) != 3 || len(epochs) != 3 {
		t.Fatalf("%d log lines, %d epoch lines", len(logs), len(epochs))
	}
	for i, l := range logs {
		if l[1] != epochs[i][2] || l[2] != epochs[i][1] {
			t.Errorf("epoch %s: log line says %s, stdout %s", l[2], l[1], epochs[i][2])
		}
	}
}

func TestPrintedEpochs(t *testing.T) {
	for _, c := range []struct {
		epochs int
		want   []int
	}{{1, []int{0}}, {3, []int{0, 1, 2}}, {5, []int{0, 1, 2, 3, 4}}, {10, []int{0, 2, 4, 6, 8, 9}}, {25, []int{0, 5, 10, 15, 20, 24}}} {
		if got := printedEpochs(c.epochs); !slices.Equal(got, c.want) {
			t.Errorf("%d epochs: %v, want %v", c.epochs, got, c.want)
		}
	}
}

// TestSmallCorpus: a corpus with fewer co-occurrences than a batch is
// refused with exit status 1, naming the file.
func TestSmallCorpus(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.txt")
	os.WriteFile(path, []byte("a b a b a b a b a b"), 0o644)
	var stdout, stderr bytes.Buffer
	if code := command([]string{"-device", "cpu", "-corpus", path}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), path+": 4 co-occurrence entries of 2 words: fewer than a batch of 512") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}

// TestNeighboursOnGoSpec trains on the Go spec with the defaults (a few
// seconds) and checks pairs any reader of the spec would expect.
func TestNeighboursOnGoSpec(t *testing.T) {
	dir := t.TempDir()
	c := defaults()
	c.device, c.corpus, c.queries, c.progress = "cpu", specPath(), "true,len,slice", "none"
	c.out, c.csv, c.png = filepath.Join(dir, "vectors.txt"), filepath.Join(dir, "loss.csv"), filepath.Join(dir, "loss.png")
	if p := os.Getenv("GLOVE_PNG"); p != "" {
		c.png = p // to look at
	}
	var out, log bytes.Buffer
	m, err := run(c, &out, &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if !(m.losses[len(m.losses)-1] < m.losses[0]/2) {
		t.Errorf("loss went from %v to %v", m.losses[0], m.losses[len(m.losses)-1])
	}
	expect := []struct {
		word   string
		within int
		any    []string
	}{
		{"true", 3, []string{"false"}},
		{"len", 5, []string{"cap"}},
		{"slice", 5, []string{"array", "capacity", "length", "map"}},
	}
	for _, e := range expect {
		nb := m.neighbours(e.word, e.within)
		if !slices.ContainsFunc(nb, func(w string) bool { return slices.Contains(e.any, w) }) {
			t.Errorf("nearest %d to %q are %v: none of %v", e.within, e.word, nb, e.any)
		}
	}
	f, err := os.Open(c.out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	lines := 0
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) != 1+c.dim {
			t.Fatalf("vector line %q has %d fields", sc.Text(), len(fields))
		}
		lines++
	}
	if lines != len(m.vocab) {
		t.Errorf("%d vector lines for %d words", lines, len(m.vocab))
	}
	for _, p := range []string{c.csv, c.png} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestCorpusHelpers(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.html")
	os.WriteFile(p, []byte("<p>The <b>len</b> &amp; cap of a slice.</p> The END"), 0o644)
	words, err := readCorpus(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(words, " ") != "the len cap of a slice the end" {
		t.Errorf("words %q", words)
	}
	vocab, index := vocabulary(words, 2, 10)
	if len(vocab) != 1 || vocab[0] != "the" || index["the"] != 0 {
		t.Errorf("vocab %v", vocab)
	}
	co := cooccurrences([]string{"a", "b", "a"}, map[string]int{"a": 0, "b": 1}, 2)
	want := []cooc{{0, 0, 1}, {0, 1, 2}, {1, 0, 2}} // a-a at distance 2 both ways: 0.5+0.5
	if !slices.Equal(co, want) {
		t.Errorf("cooccurrences %v, want %v", co, want)
	}
}
