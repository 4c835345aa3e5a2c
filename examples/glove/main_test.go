package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNeighboursOnGoSpec trains on the Go spec with the defaults (a few
// seconds) and checks pairs any reader of the spec would expect.
func TestNeighboursOnGoSpec(t *testing.T) {
	dir := t.TempDir()
	c := config{device: "cpu", dim: 32, window: 8, minCount: 5, vocab: 3000, epochs: 25, batch: 512,
		lr: 0.05, xmax: 10, alpha: 0.75, queries: "true,len,slice", progress: "none",
		out: filepath.Join(dir, "vectors.txt"), csv: filepath.Join(dir, "loss.csv"), png: filepath.Join(dir, "loss.png")}
	var out bytes.Buffer
	m, err := run(c, &out)
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
