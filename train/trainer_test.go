package train_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/checkpoint"
	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/optim"
	"github.com/adagrad-go/adagrad/train"
)

// regression is a small model: a dense float64 weight vector fitted by
// least squares, and a float32 embedding table updated by rows; every
// step's data comes from the step number alone.
type regression struct{ target []float64 }

func newRegression() *regression {
	rng := rand.New(rand.NewPCG(3, 4))
	r := &regression{target: make([]float64, 6)}
	for i := range r.target {
		r.target[i] = rng.NormFloat64()
	}
	return r
}

func (r *regression) params() []optim.Param {
	return []optim.Param{
		{Name: "w", Init: make([]float64, len(r.target))},
		{Name: "emb", Init: make([]float32, 10*3), Shape: []int{10, 3}},
	}
}

func (r *regression) objective(s *train.StepContext) (float64, error) {
	w, err := s.Params64("w")
	if err != nil {
		return 0, err
	}
	g, err := s.Grad64("w")
	if err != nil {
		return 0, err
	}
	loss := 0.0
	for i := range w {
		d := w[i] - r.target[i]
		loss += d * d
		g[i] = 2 * d
	}
	rng := rand.New(rand.NewPCG(uint64(s.GlobalStep), 1))
	rows := []int64{int64(rng.IntN(10)), int64(rng.IntN(10)), 2}
	cur := make([]float32, 3*len(rows))
	if err := s.Rows32("emb", rows, cur); err != nil {
		return 0, err
	}
	vals := make([]float32, len(cur))
	for i, v := range cur {
		vals[i] = v - 1 // pulls every touched row towards 1
	}
	return loss, s.SetSparseGrad("emb", rows, vals)
}

func newOptimizer(t *testing.T, r *regression) *optim.Adagrad {
	t.Helper()
	dev := cpu.New()
	t.Cleanup(func() { dev.Close() })
	opt, err := optim.New(dev, r.params(), optim.LR(0.5), optim.LRDecay(0.01))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { opt.Close() })
	return opt
}

func newTrainer(t *testing.T, r *regression) *train.Trainer {
	t.Helper()
	return &train.Trainer{Opt: newOptimizer(t, r), Epochs: 3, StepsPerEpoch: 5, FetchEvery: 2}
}

func state(t *testing.T, opt train.Optimizer) optim.State {
	t.Helper()
	st, err := opt.State()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestTrainerLossFallsAndCounts(t *testing.T) {
	r := newRegression()
	tr := newTrainer(t, r)
	var losses []float64
	var last train.Progress
	tr.Observer = func(p train.Progress) { losses = append(losses, p.Loss); last = p }
	var logs strings.Builder
	tr.Logger, tr.LogEvery = slog.New(slog.NewTextHandler(&logs, nil)), 4
	if err := tr.Run(context.Background(), r.objective); err != nil {
		t.Fatal(err)
	}
	if len(losses) != 15 || !(losses[14] < losses[0]/10) {
		t.Errorf("losses %v: want 15, falling tenfold", losses)
	}
	if last.GlobalStep != 15 || last.TotalSteps != 15 || last.Epoch != 2 || last.Step != 4 {
		t.Errorf("last progress %+v", last)
	}
	st := tr.Opt.Stats()
	// Per step: 48 bytes of dense gradient, 3 rows of 3 float32 and 3
	// indices; parameters fetched every 2 steps, rows gathered every step.
	if st.Steps != 15 || st.BytesToDevice < 15*(48+36+24) || st.BytesFromDevice < 8*48+15*36 {
		t.Errorf("stats %+v", st)
	}
	if n := strings.Count(logs.String(), "msg=adagrad"); n != 4 { // steps 4, 8, 12 and the end
		t.Errorf("%d log lines, want 4:\n%s", n, logs.String())
	}
	if tr.Position() != (train.Position{Epoch: 3}) {
		t.Errorf("position %+v", tr.Position())
	}
}

func TestTrainerResumesBitwise(t *testing.T) {
	r := newRegression()
	whole := newTrainer(t, r)
	if err := whole.Run(context.Background(), r.objective); err != nil {
		t.Fatal(err)
	}
	want := state(t, whole.Opt)

	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	first := newTrainer(t, r)
	first.CheckpointPath, first.CheckpointEvery = path, 4
	ctx, stop := context.WithCancel(context.Background())
	first.Observer = func(p train.Progress) {
		if p.GlobalStep == 9 { // interrupted after step 9: the checkpoint is from step 8
			stop()
		}
	}
	if err := first.Run(ctx, r.objective); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	resumed := newTrainer(t, r)
	if err := resumed.Resume(path); err != nil {
		t.Fatal(err)
	}
	if resumed.Position() != (train.Position{Epoch: 1, Step: 3}) {
		t.Errorf("resumed at %+v, want epoch 1 step 3", resumed.Position())
	}
	if err := resumed.Run(context.Background(), r.objective); err != nil {
		t.Fatal(err)
	}
	if got := state(t, resumed.Opt); !reflect.DeepEqual(got, want) {
		t.Errorf("resumed run ends elsewhere than the uninterrupted one")
	}
}

// counting is an Optimizer of its own that wraps one: the Trainer drives
// any implementation of the interface.
type counting struct {
	*optim.Adagrad
	steps int
}

func (c *counting) Step() error { c.steps++; return c.Adagrad.Step() }

func TestTrainerOverInterface(t *testing.T) {
	r := newRegression()
	opt := &counting{Adagrad: newOptimizer(t, r)}
	path := filepath.Join(t.TempDir(), "run.safetensors")
	tr := &train.Trainer{Opt: opt, Epochs: 2, StepsPerEpoch: 3, FetchEvery: 1, CheckpointPath: path, CheckpointEvery: 3}
	if err := tr.Run(context.Background(), r.objective); err != nil {
		t.Fatal(err)
	}
	if opt.steps != 6 {
		t.Errorf("%d steps through the interface, want 6", opt.steps)
	}
	st, meta, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta["trainer.epoch"] != "2" || meta["trainer.step"] != "0" || !reflect.DeepEqual(st, state(t, opt)) {
		t.Errorf("final checkpoint at %v differs", meta)
	}
}

func TestTrainerRefusesBeforeTheFirstStep(t *testing.T) {
	r := newRegression()
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(tr *train.Trainer)
		want   error
	}{
		{"CheckpointEvery not a multiple of FetchEvery", func(tr *train.Trainer) {
			tr.CheckpointPath, tr.CheckpointEvery = filepath.Join(dir, "a.safetensors"), 3
		}, train.ErrTrainer},
		{"CheckpointEvery without a path", func(tr *train.Trainer) { tr.CheckpointEvery = 2 }, train.ErrTrainer},
		{"checkpoint in a missing directory", func(tr *train.Trainer) {
			tr.CheckpointPath = filepath.Join(dir, "missing", "run.safetensors")
		}, fs.ErrNotExist},
		{"checkpoint under a file", func(tr *train.Trainer) { tr.CheckpointPath = filepath.Join(notDir, "run.safetensors") }, train.ErrTrainer},
		{"checkpoint of an unknown extension", func(tr *train.Trainer) { tr.CheckpointPath = filepath.Join(dir, "run.ckpt") }, checkpoint.ErrPath},
		{"checkpoint path a directory", func(tr *train.Trainer) {
			tr.CheckpointPath = filepath.Join(dir, "d.safetensors")
			if err := os.MkdirAll(tr.CheckpointPath, 0o755); err != nil {
				t.Fatal(err)
			}
		}, train.ErrTrainer},
		{"no optimizer", func(tr *train.Trainer) { tr.Opt = nil }, train.ErrTrainer},
		{"negative epochs", func(tr *train.Trainer) { tr.Epochs = -1 }, train.ErrTrainer},
		{"no steps per epoch", func(tr *train.Trainer) { tr.StepsPerEpoch = 0 }, train.ErrTrainer},
		{"more steps than an int", func(tr *train.Trainer) { tr.Epochs, tr.StepsPerEpoch = math.MaxInt/2, 3 }, train.ErrTrainer},
		{"negative FetchEvery", func(tr *train.Trainer) { tr.FetchEvery = -1 }, train.ErrTrainer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTrainer(t, r)
			tc.change(tr)
			called := false
			err := tr.Run(context.Background(), func(s *train.StepContext) (float64, error) {
				called = true
				return r.objective(s)
			})
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if called {
				t.Errorf("the objective ran before the refusal")
			}
			if tr.CheckpointPath != "" && err != nil && !strings.Contains(err.Error(), tr.CheckpointPath) &&
				!strings.Contains(err.Error(), "CheckpointEvery") {
				t.Errorf("error does not name the path: %v", err)
			}
		})
	}
	tr := newTrainer(t, r)
	boom := errors.New("boom")
	err := tr.Run(context.Background(), func(*train.StepContext) (float64, error) { return math.NaN(), boom })
	if !errors.Is(err, boom) {
		t.Errorf("objective error lost: %v", err)
	}
}

func TestResumeRefusesAndChangesNothing(t *testing.T) {
	r := newRegression()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.safetensors")
	tr := newTrainer(t, r)
	if err := tr.Resume(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing checkpoint: err = %v, want fs.ErrNotExist naming the file", err)
	}
	// A good checkpoint, then damaged copies of it.
	good := filepath.Join(dir, "good.safetensors")
	src := newTrainer(t, r)
	src.CheckpointPath = good
	src.Epochs = 1
	if err := src.Run(context.Background(), r.objective); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(dir, "damaged.safetensors")
	b[len(b)-1] ^= 1
	if err := os.WriteFile(damaged, b, 0o644); err != nil {
		t.Fatal(err)
	}
	before := state(t, tr.Opt)
	if err := tr.Resume(damaged); !errors.Is(err, checkpoint.ErrCheckpoint) || !strings.Contains(err.Error(), damaged) {
		t.Errorf("damaged checkpoint: err = %v, want ErrCheckpoint naming the file", err)
	}
	// A checkpoint at a position this trainer cannot have.
	other := newTrainer(t, r)
	other.FetchEvery = 3 // the checkpoint is at step 5, between two fetches
	if err := other.Resume(good); !errors.Is(err, train.ErrTrainer) || !strings.Contains(err.Error(), good) {
		t.Errorf("position off the FetchEvery grid: err = %v", err)
	}
	short := newTrainer(t, r)
	short.FetchEvery = 1
	short.StepsPerEpoch = 1 // epoch 1 step 0 fits
	if err := short.Resume(good); err != nil {
		t.Errorf("a checkpoint that fits: %v", err)
	}
	// Another model's checkpoint.
	dev := cpu.New()
	defer dev.Close()
	otherOpt, err := optim.New(dev, []optim.Param{{Name: "w", Init: make([]float64, 3)}})
	if err != nil {
		t.Fatal(err)
	}
	otherModel := &train.Trainer{Opt: otherOpt, Epochs: 3, StepsPerEpoch: 5}
	if err := otherModel.Resume(good); !errors.Is(err, optim.ErrShape) || !strings.Contains(err.Error(), good) {
		t.Errorf("another model's checkpoint: err = %v", err)
	}
	if after := state(t, tr.Opt); !reflect.DeepEqual(before, after) || tr.Position() != (train.Position{}) {
		t.Errorf("a refused Resume changed the optimizer or the position")
	}
}
