package optim_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/optim"
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

func (r *regression) objective(s *optim.StepContext) (float64, error) {
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

func newTrainer(t *testing.T, r *regression) *optim.Trainer {
	t.Helper()
	dev := cpu.New()
	t.Cleanup(func() { dev.Close() })
	opt, err := optim.New(dev, r.params(), optim.LR(0.5), optim.LRDecay(0.01))
	if err != nil {
		t.Fatal(err)
	}
	return &optim.Trainer{Opt: opt, Epochs: 3, StepsPerEpoch: 5, FetchEvery: 2, CheckpointEvery: 4}
}

func TestTrainerLossFallsAndCounts(t *testing.T) {
	r := newRegression()
	tr := newTrainer(t, r)
	var losses []float64
	var last optim.Progress
	tr.Observer = func(p optim.Progress) { losses = append(losses, p.Loss); last = p }
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
	if tr.Position() != (optim.Position{Epoch: 3}) {
		t.Errorf("position %+v", tr.Position())
	}
}

func TestTrainerResumesBitwise(t *testing.T) {
	r := newRegression()
	whole := newTrainer(t, r)
	if err := whole.Run(context.Background(), r.objective); err != nil {
		t.Fatal(err)
	}
	want, _ := whole.Opt.State()

	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	first := newTrainer(t, r)
	first.CheckpointPath = path
	ctx, stop := context.WithCancel(context.Background())
	first.Observer = func(p optim.Progress) {
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
	if resumed.Position() != (optim.Position{Epoch: 1, Step: 3}) {
		t.Errorf("resumed at %+v, want epoch 1 step 3", resumed.Position())
	}
	if err := resumed.Run(context.Background(), r.objective); err != nil {
		t.Fatal(err)
	}
	got, _ := resumed.Opt.State()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resumed run ends elsewhere than the uninterrupted one")
	}
}

func TestTrainerRefuses(t *testing.T) {
	r := newRegression()
	tr := newTrainer(t, r)
	tr.CheckpointEvery = 3 // not a multiple of FetchEvery 2
	if err := tr.Run(context.Background(), r.objective); err == nil {
		t.Errorf("CheckpointEvery 3 with FetchEvery 2 accepted")
	}
	tr = newTrainer(t, r)
	boom := errors.New("boom")
	err := tr.Run(context.Background(), func(*optim.StepContext) (float64, error) { return math.NaN(), boom })
	if !errors.Is(err, boom) {
		t.Errorf("objective error lost: %v", err)
	}
	if err := tr.Resume(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Errorf("resumed from a missing file")
	}
}
