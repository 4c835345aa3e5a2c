package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
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
	data := filepath.Join(dir, "data.libsvm")
	os.WriteFile(data, []byte("+1 1:1\n-1 2:1\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-epochs", "0"}, "-epochs 0: want 1 to"},
		{[]string{"-epochs", "-2"}, "-epochs -2: want 1 to"},
		{[]string{"-epochs", "x"}, `invalid value "x" for flag -epochs`},
		{[]string{"-features", "0"}, "-features 0: want 2 to"},
		{[]string{"-features", "-3"}, "-features -3: want 2 to"},
		{[]string{"-features", "10"}, "-per-sample 20: want 1 to 5 (half of -features)"},
		{[]string{"-features", "3000000000"}, "-features 3000000000: want 2 to 67108864"},
		{[]string{"-per-sample", "0"}, "-per-sample 0"},
		{[]string{"-samples", "0"}, "-samples 0"},
		{[]string{"-samples", "30"}, "30 samples: too few"},
		{[]string{"-samples", "100000000"}, "-samples 100000000: want 1 to"},
		{[]string{"-batch", "0"}, "-batch 0"},
		{[]string{"-rare", "0"}, "-rare 0"},
		{[]string{"-lr", "-1"}, "-lr -1"},
		{[]string{"-lr", "NaN"}, "-lr NaN"},
		{[]string{"-sgd-lr", "Inf"}, "-sgd-lr +Inf"},
		{[]string{"-progress", "bars"}, `unknown progress mode "bars"`},
		{[]string{"-device", "bogus"}, `unknown backend "bogus"`},
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-test", data}, "-test needs -data"},
		{[]string{"-data", filepath.Join(dir, "missing.libsvm")}, "-data: stat"},
		{[]string{"-data", data, "-samples", "100"}, "-samples describes generated data"},
		{[]string{"-data", data, "-write-data", filepath.Join(dir, "w.libsvm")}, "-write-data describes generated data"},
		{[]string{"-csv", filepath.Join(dir, "loss.txt")}, "ending in .csv"},
		{[]string{"-png", filepath.Join(dir, "no", "loss.png")}, "-png: open"},
		{[]string{"-png", dir + "/folder.png/"}, "-png"},
		{[]string{"-checkpoint", filepath.Join(dir, "run.ckpt")}, "ending in .safetensors"},
		{[]string{"-write-data", filepath.Join(dir, "data.csv")}, "ending in .libsvm or .svm or .txt"},
	} {
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := command(c.args, &stdout, &stderr)
		msg := stderr.String()
		if code != 2 || !strings.HasPrefix(msg, "logreg: ") || !strings.Contains(msg, c.want) ||
			strings.Count(msg, "\n") != 1 || stdout.Len() != 0 {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want 2 and one line with %q", c.args, code, msg, stdout.String(), c.want)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%q: refused after %v: work was done first", c.args, took)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the checks left files behind: %v", entries)
	}

	var stdout, stderr bytes.Buffer
	if code := command([]string{"-h"}, &stdout, &stderr); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
	help := stderr.String()
	if !strings.HasPrefix(help, "logreg: logistic regression on sparse features, Adagrad against plain SGD.\n") ||
		!strings.Contains(help, "\n  logreg [flags]") || !strings.Contains(help, "-epochs int") {
		t.Errorf("-h:\n%s", help)
	}
}

// TestReport runs the defaults (about a second and a half) and reads the
// report as a newcomer would: what was trained on what, the held-out set,
// the tuned rates, and a verdict that says who won by how much, or that
// it is a draw within the noise; and checks the numbers behind it: the
// training loss falls, both optimizers beat the model without features by
// far, the verdict matches the difference and its noise.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	c := defaults()
	c.device, c.progress = "cpu", "none"
	c.csv, c.png = filepath.Join(dir, "loss.csv"), filepath.Join(dir, "loss.png")
	if p := os.Getenv("LOGREG_PNG"); p != "" {
		c.png = p // to look at
	}
	var stdout bytes.Buffer
	res, err := run(c, &stdout, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	t.Log("\n" + out)
	for _, want := range []string{
		"Logistic regression on sparse features: Adagrad against plain SGD",
		"20000 generated samples of 50000 features, 20 per sample",
		"16000 samples to train on and 4000 held out as the\n         test set, which neither optimizer sees",
		"tuned on a validation split", "3200) held out, the other 12800",
		"Held-out test set (4000 samples)", "lower is better",
		"with the rare features'", "the rare features (in fewer than 20\ntraining samples)",
		"Verdict: " + res.verdict + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// Each optimizer's rate is one of its grid's.
	for _, g := range []struct {
		name string
		grid []float64
	}{{"adagrad", adagradRates}, {"sgd", sgdRates}} {
		m := regexp.MustCompile(`  ` + g.name + ` \(lr ([0-9.]+)\) `).FindStringSubmatch(out)
		var lr float64
		if m != nil {
			fmt.Sscan(m[1], &lr)
		}
		if !slices.Contains(g.grid, lr) {
			t.Errorf("%s's rate %v is not from its grid %v", g.name, m, g.grid)
		}
	}
	if n := len(regexp.MustCompile(`[0-9]\*`).FindAllString(out, -1)); n != 2 {
		t.Errorf("the tuning table marks %d chosen rates, want 2", n)
	}

	for _, o := range []outcome{res.adagrad, res.sgd} {
		first, _ := o.hist.epochMean(0)
		last, _ := o.hist.epochMean(c.epochs - 1)
		if !(last < first) || !(o.all.loss < res.base.loss-0.05) {
			t.Errorf("training loss %v → %v, held-out %v against the base rate's %v", first, last, o.all.loss, res.base.loss)
		}
	}
	if d := res.adagrad.all.loss - res.sgd.all.loss; math.Abs(d-res.diff) > 1e-12 || !(res.stdErr > 0 && res.stdErr < 0.01) {
		t.Errorf("difference %v (scores differ by %v), standard error %v", res.diff, d, res.stdErr)
	}
	if want := verdict(res, 4000); res.verdict != want {
		t.Errorf("verdict %q", res.verdict)
	}

	if b, _ := os.ReadFile(c.csv); !bytes.HasPrefix(b, []byte("curve,step,loss,loss_ema\nadagrad,1,")) {
		t.Errorf("csv %.60q", b)
	}
	if st, err := os.Stat(c.png); err != nil || st.Size() < 10000 {
		t.Errorf("png: %v", err)
	}
}

// TestVerdict: who won, by how much, and a draw within twice the standard
// error.
func TestVerdict(t *testing.T) {
	score := func(ada, sgd, se float64) *result {
		return &result{adagrad: outcome{all: metrics{loss: ada}}, sgd: outcome{all: metrics{loss: sgd}}, diff: ada - sgd, stdErr: se}
	}
	for _, c := range []struct {
		res  *result
		want string
	}{
		{score(0.5, 0.55, 0.01), "Adagrad wins: held-out log-loss 0.5000 against SGD's 0.5500, 0.0500 lower (9.1%),\nmore than twice the noise of 4000 test samples\n(the standard error of the difference is 0.0100)."},
		{score(0.55, 0.5, 0.01), "SGD wins: held-out log-loss 0.5000 against Adagrad's 0.5500, 0.0500 lower (9.1%)"},
		{score(0.5351, 0.5343, 0.0033), "a draw. SGD's held-out log-loss is lower, 0.5343 against 0.5351, but by\n0.0008, less than twice"},
		{score(0.50, 0.51, 0.0051), "a draw. Adagrad's held-out log-loss is lower, 0.5000 against 0.5100"},
	} {
		if got := verdict(c.res, 4000); !strings.HasPrefix(got, c.want) {
			t.Errorf("verdict\n%s\nwant\n%s", got, c.want)
		}
	}
}

// TestHeldOutIsShuffled: a LIBSVM file sorted by label (as real ones often
// are) holds out a test set with both labels, not the last fifth in file
// order (all positives, accuracy 0.5 at best).
func TestHeldOutIsShuffled(t *testing.T) {
	data := generate(5000, 2000, 10, 3)
	slices.SortStableFunc(data, func(a, b example) int { return int(a.label - b.label) })
	train, test := holdOut(data, 1)
	if p, q := positives(train), positives(test); math.Abs(p-q) > 0.05 || p < 0.2 || p > 0.8 {
		t.Errorf("positives: %.2f in training, %.2f held out", p, q)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "sorted.libsvm")
	if err := writeFile(path, data); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := command([]string{"-device", "cpu", "-progress", "none", "-data", path, "-epochs", "2"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	m := regexp.MustCompile(`adagrad \(lr [0-9.]+\) +[0-9.]+ +([0-9.]+)%`).FindStringSubmatch(stdout.String())
	var accuracy float64
	if m != nil {
		fmt.Sscan(m[1], &accuracy)
	}
	if accuracy < 65 {
		t.Errorf("held-out accuracy %v%% on a label-sorted file:\n%s", accuracy, stdout.String())
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
	if n > 100 || !slices.EqualFunc(back, data, func(a, b example) bool {
		return a.label == b.label && slices.Equal(a.features, b.features) && slices.Equal(a.values, b.values)
	}) {
		t.Errorf("round trip differs (features %d)", n)
	}
	if ex, _, err := readLIBSVM(strings.NewReader("1 1:1\n0 2:1\n1.0 3:2.5 # x\n")); err != nil || ex[1].label != 0 || ex[2].label != 1 {
		t.Errorf("1/0 labels: %v, %v", ex, err)
	}
	for _, c := range []struct{ in, want string }{
		{"x 1:1\n", `line 1: label "x": want +1 or -1`},
		{"2 1:1\n", `label "2"`},
		{"0.5 1:1\n", `label "0.5"`},
		{"NaN 1:1\n", `label "NaN"`},
		{"+Inf 1:1\n", `label "+Inf"`},
		{"+1 1:1\n-1 1:1\n0 1:1\n", "line 3: label 0 after -1 on earlier lines"},
		{"1 0:1\n", `feature "0:1": want index:value`},
		{"1 3:1 2:1\n", `feature "2:1"`},
		{"1 2\n", `feature "2"`},
		{"1 2:y\n", `feature "2:y": want a finite float32 value`},
		{"1 2:NaN\n", `feature "2:NaN"`},
		{"1 2:-inf\n", `feature "2:-inf"`},
		{"1 2:1e39\n", `feature "2:1e39"`},
		{"1 1:1\n1 3000000000:1\n", "line 2: feature index 3000000000: more than the 67108864 features"},
		{"", "no samples"},
		{"# only a comment\n\n", "no samples"},
	} {
		if _, _, err := readLIBSVM(strings.NewReader(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
}

// TestBadFiles: a bad input file, an empty test file among them, ends the
// run with exit status 1 and a line naming the file; no NaN metrics.
func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	good, empty, labels := filepath.Join(dir, "good.libsvm"), filepath.Join(dir, "empty.libsvm"), filepath.Join(dir, "labels.libsvm")
	if err := writeFile(good, generate(200, 100, 5, 3)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(empty, nil, 0o644)
	os.WriteFile(labels, []byte("1 1:1\n3 2:1\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-data", good, "-test", empty}, empty + ": no samples"},
		{[]string{"-data", labels}, labels + ": line 2: label \"3\""},
		{[]string{"-data", good, "-batch", "200"}, good + ": 200 samples: too few"},
	} {
		var stdout, stderr bytes.Buffer
		code := command(append([]string{"-device", "cpu", "-progress", "none"}, c.args...), &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), c.want) || strings.Contains(stdout.String(), "NaN") {
			t.Errorf("%q: exit %d, stderr %q; want 1 and %q", c.args, code, stderr.String(), c.want)
		}
	}
}

// TestLIBSVMFileAndResume: generated data written to a file, trained from
// it with a checkpoint, and a second run that resumes from the finished
// checkpoint: nothing left to train, the same model.
func TestLIBSVMFileAndResume(t *testing.T) {
	dir := t.TempDir()
	file, ckpt := filepath.Join(dir, "all.libsvm"), filepath.Join(dir, "run.safetensors")
	base := []string{"-device", "cpu", "-progress", "none", "-epochs", "2"}
	var stdout, stderr bytes.Buffer
	if code := command(append(base, "-samples", "2000", "-features", "2000", "-write-data", file), &stdout, &stderr); code != 0 {
		t.Fatal(stderr.String())
	}
	c := defaults()
	c.device, c.progress, c.epochs, c.train, c.checkpoint = "cpu", "none", 2, file, ckpt
	first, err := run(c, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	again, err := run(c, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Adagrad resumed from "+ckpt+" after 100 of 100 steps") || again.adagrad.all != first.adagrad.all {
		t.Errorf("resumed run: %+v vs %+v\n%s", again.adagrad.all, first.adagrad.all, out.String())
	}
	// A checkpoint trained at another rate is refused, not silently used.
	c.lr = first.adagrad.tuning.rate * 2
	if _, err := run(c, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "was trained at learning rate") {
		t.Errorf("-lr %v with a checkpoint at %v: %v", c.lr, first.adagrad.tuning.rate, err)
	}
}
