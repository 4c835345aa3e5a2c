package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func defaults() config {
	return config{device: "cpu", samples: 20000, features: 50000, perSample: 20, epochs: 3, batch: 32,
		lr: 0.1, sgdLR: 0.5, progress: "none", rare: 20}
}

// TestAdagradBeatsSGD runs the example's defaults (about a second): the
// training loss falls, and at equal steps Adagrad's test log-loss is below
// plain SGD's (at SGD's best rate of 0.25, 0.35, 0.5, 1 and 2 here), with
// all weights and with only the rare features' weights.
func TestAdagradBeatsSGD(t *testing.T) {
	dir := t.TempDir()
	c := defaults()
	c.csv, c.png = filepath.Join(dir, "loss.csv"), filepath.Join(dir, "loss.png")
	var out bytes.Buffer
	rep, err := run(c, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if !(rep.lastLoss < rep.firstLoss) {
		t.Errorf("training loss went from %v to %v", rep.firstLoss, rep.lastLoss)
	}
	if !(rep.adagrad.loss < rep.sgd.loss) || !(rep.adagrad.rareLoss < rep.sgd.rareLoss) {
		t.Errorf("adagrad %+v does not beat sgd %+v", rep.adagrad, rep.sgd)
	}
	for _, f := range []string{c.csv, c.png} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}

func TestLIBSVM(t *testing.T) {
	data := generate(50, 100, 5, 3)
	var buf bytes.Buffer
	if err := writeLIBSVM(&buf, data); err != nil {
		t.Fatal(err)
	}
	back, n, err := readLIBSVM(strings.NewReader("# a comment\n\n" + buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	if n > 100 || !reflect.DeepEqual(back, data) {
		t.Errorf("round trip differs (features %d)", n)
	}
	for _, bad := range []string{"x 1:1\n", "1 0:1\n", "1 3:1 2:1\n", "1 2\n", "1 2:y\n"} {
		if _, _, err := readLIBSVM(strings.NewReader(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestLIBSVMFileAndResume(t *testing.T) {
	dir := t.TempDir()
	c := defaults()
	c.samples, c.features, c.epochs = 2000, 2000, 2
	c.writeData = filepath.Join(dir, "all.libsvm")
	if _, err := run(c, io.Discard); err != nil {
		t.Fatal(err)
	}
	c.train, c.writeData = c.writeData, ""
	c.checkpoint = filepath.Join(dir, "ckpt.safetensors")
	first, err := run(c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// A second run resumes from the finished checkpoint: nothing left to
	// train, and the same model.
	var out bytes.Buffer
	again, err := run(c, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "resumed from") || again.adagrad != first.adagrad {
		t.Errorf("resumed run: %+v vs %+v\n%s", again.adagrad, first.adagrad, out.String())
	}
}
