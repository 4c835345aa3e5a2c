package train_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adagrad-go/adagrad/checkpoint"
	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/collective/collectivetest"
	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/optim"
	"github.com/adagrad-go/adagrad/sharded"
	"github.com/adagrad-go/adagrad/train"
)

// The distributed model: every step's global batch of 7 examples is cut
// into slices, as ranks cut it; a rank computes the loss and gradients of
// its slice, one process those of every slice, one after the other, summed
// in slice order as the ranks' are (dense gradients and losses summed,
// sparse rows concatenated). Then the two are bitwise equal.

const globalBatch = 7

type example struct {
	x  [6]float64
	y  float64
	id int64 // the row of emb it touches
}

func batchAt(step int) []example {
	rng := rand.New(rand.NewPCG(uint64(step), 9))
	out := make([]example, globalBatch)
	for k := range out {
		for i := range out[k].x {
			out[k].x[i] = rng.NormFloat64()
		}
		out[k].y, out[k].id = rng.NormFloat64()*3, int64(rng.IntN(10))
	}
	return out
}

func distParams() []optim.Param {
	return []optim.Param{
		{Name: "w", Init: make([]float64, 6)},
		{Name: "emb", Init: make([]float32, 10*3), Shape: []int{10, 3}},
	}
}

var distOpts = []optim.Option{optim.LR(0.3), optim.LRDecay(0.01)}

// slicesObjective computes slices [lo, hi) of slices of each step's batch.
func slicesObjective(lo, hi, slices int) train.Objective {
	return func(s *train.StepContext) (float64, error) {
		w, err := s.Params64("w")
		if err != nil {
			return 0, err
		}
		all := batchAt(s.GlobalStep)
		var dense []float64
		var rows []int64
		var vals []float32
		var loss float64
		for sl := lo; sl < hi; sl++ {
			part := all[collective.Bound(globalBatch, slices, sl):collective.Bound(globalBatch, slices, sl+1)]
			g, l := make([]float64, len(w)), 0.0
			ids := make([]int64, len(part))
			for k, e := range part {
				d := -e.y
				for i := range w {
					d += w[i] * e.x[i]
				}
				l += d * d / globalBatch
				for i := range g {
					g[i] += 2 * d * e.x[i] / globalBatch
				}
				ids[k] = e.id
			}
			cur := make([]float32, 3*len(ids))
			if err := s.Rows32("emb", ids, cur); err != nil {
				return 0, err
			}
			for k, e := range part {
				for j := range 3 {
					vals = append(vals, (cur[3*k+j]-float32(e.y))/globalBatch)
				}
			}
			rows = append(rows, ids...)
			if sl == lo {
				dense, loss = g, l
				continue
			}
			for i := range dense {
				dense[i] += g[i]
			}
			loss += l
		}
		gw, err := s.Grad64("w")
		if err != nil {
			return 0, err
		}
		copy(gw, dense)
		return loss, s.SetSparseGrad("emb", rows, vals)
	}
}

// run is what one process or rank ran: the loss of every step, the final
// state and the log.
type run struct {
	losses []float64
	state  optim.State
	log    string
}

// aloneOptimizer is the optimizer of one process.
func aloneOptimizer(t *testing.T) *optim.Adagrad {
	t.Helper()
	dev := cpu.New()
	t.Cleanup(func() { dev.Close() })
	opt, err := optim.New(dev, distParams(), distOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { opt.Close() })
	return opt
}

// runAlone trains one optim.Adagrad, computing every slice itself.
func runAlone(t *testing.T, slices, epochs int) run {
	t.Helper()
	opt := aloneOptimizer(t)
	var r run
	var log bytes.Buffer
	tr := &train.Trainer{Opt: opt, Epochs: epochs, StepsPerEpoch: 4, FetchEvery: 1,
		Observer: func(p train.Progress) { r.losses = append(r.losses, p.Loss) },
		Logger:   slog.New(slog.NewTextHandler(&log, nil)), LogEvery: 2}
	if err := tr.Run(context.Background(), slicesObjective(0, slices, slices)); err != nil {
		t.Fatal(err)
	}
	r.state, r.log = state(t, opt), log.String()
	return r
}

// onRanks runs f on every rank of an in-process world of n, each with a
// sharded optimizer (over params made with the seed: other values than
// distParams' when not 0), and returns what each ran.
func onRanks(t *testing.T, n int, f func(c collective.Comm, opt *sharded.Adagrad, r *run) error) []run {
	t.Helper()
	comms, err := collective.InProcess(n, collective.Options{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	runs := make([]run, n)
	var mu sync.Mutex
	err = collectivetest.OnEveryRank(comms, func(c collective.Comm) error {
		dev := cpu.New()
		defer dev.Close()
		opt, err := sharded.New(c, dev, distParams(), distOpts...)
		if err != nil {
			return err
		}
		defer opt.Close()
		var r run
		if err := f(c, opt, &r); err != nil {
			return fmt.Errorf("rank %d of %d: %w", c.Rank(), n, err)
		}
		if r.state, err = opt.State(); err != nil {
			return err
		}
		mu.Lock()
		runs[c.Rank()] = r
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// rankTrainer is rank c's Trainer: its slice of n, a log of its own.
func rankTrainer(c collective.Comm, opt *sharded.Adagrad, r *run, epochs int, log *bytes.Buffer) *train.Trainer {
	return &train.Trainer{Opt: opt, Epochs: epochs, StepsPerEpoch: 4, FetchEvery: 1,
		Observer: func(p train.Progress) { r.losses = append(r.losses, p.Loss) },
		Logger:   slog.New(slog.NewTextHandler(log, nil)), LogEvery: 2}
}

func sameBits(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// TestDistributedTrainer: the Trainer runs unchanged on every rank of 1, 2
// and 3 ranks over a sharded optimizer, each rank computing its slice of
// every batch: every rank reports the losses, and ends with the state, of
// one process that computes the same slices one after the other, bit for
// bit; only rank 0 logs.
func TestDistributedTrainer(t *testing.T) {
	for n := 1; n <= 3; n++ {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			want := runAlone(t, n, 3)
			runs := onRanks(t, n, func(c collective.Comm, opt *sharded.Adagrad, r *run) error {
				var log bytes.Buffer
				tr := rankTrainer(c, opt, r, 3, &log)
				err := tr.Run(context.Background(), slicesObjective(c.Rank(), c.Rank()+1, c.Size()))
				r.log = log.String()
				return err
			})
			for rank, r := range runs {
				if !sameBits(r.losses, want.losses) {
					t.Errorf("rank %d: losses %v, one process %v", rank, r.losses, want.losses)
				}
				if !reflect.DeepEqual(r.state, want.state) {
					t.Errorf("rank %d: the state differs from one process's", rank)
				}
				if lines := strings.Count(r.log, "\n"); (rank == 0) != (lines > 0) || (rank == 0 && lines != strings.Count(want.log, "\n")) {
					t.Errorf("rank %d logged %d lines (one process %d)", rank, lines, strings.Count(want.log, "\n"))
				}
			}
		})
	}
	// The world of one computing three slices is one process computing
	// three.
	want := runAlone(t, 3, 2)
	r := onRanks(t, 1, func(c collective.Comm, opt *sharded.Adagrad, r *run) error {
		var log bytes.Buffer
		return rankTrainer(c, opt, r, 2, &log).Run(context.Background(), slicesObjective(0, 3, 3))
	})[0]
	if !sameBits(r.losses, want.losses) || !reflect.DeepEqual(r.state, want.state) {
		t.Errorf("one rank computing three slices differs from one process")
	}
}

// TestDistributedCheckpoints: 3 ranks train an epoch with checkpoints (a
// part file each, a manifest), which consolidate into the file one process
// writes, byte for byte; 2 ranks resume from it (each reading its rows)
// and end bitwise where one process that never stopped ends.
func TestDistributedCheckpoints(t *testing.T) {
	dir := t.TempDir()
	manifest, one := filepath.Join(dir, "run.json"), filepath.Join(dir, "one.safetensors")
	// One process: an epoch in 3 slices, then two more in 2.
	opt := aloneOptimizer(t)
	ref := &train.Trainer{Opt: opt, Epochs: 1, StepsPerEpoch: 4, FetchEvery: 1, CheckpointPath: one, CheckpointEvery: 2}
	if err := ref.Run(context.Background(), slicesObjective(0, 3, 3)); err != nil {
		t.Fatal(err)
	}
	ref.Epochs = 3
	ref.CheckpointPath, ref.CheckpointEvery = "", 0
	if err := ref.Run(context.Background(), slicesObjective(0, 2, 2)); err != nil {
		t.Fatal(err)
	}
	want := state(t, opt)

	onRanks(t, 3, func(c collective.Comm, opt *sharded.Adagrad, r *run) error {
		var log bytes.Buffer
		tr := rankTrainer(c, opt, r, 1, &log)
		tr.CheckpointPath, tr.CheckpointEvery = manifest, 2
		return tr.Run(context.Background(), slicesObjective(c.Rank(), c.Rank()+1, 3))
	})
	consolidated := filepath.Join(dir, "consolidated.safetensors")
	if err := checkpoint.Consolidate(manifest, consolidated); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(one)
	b, _ := os.ReadFile(consolidated)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("3 ranks' checkpoint consolidated: %d bytes, not the %d bytes one process wrote", len(b), len(a))
	}
	runs := onRanks(t, 2, func(c collective.Comm, opt *sharded.Adagrad, r *run) error {
		var log bytes.Buffer
		tr := rankTrainer(c, opt, r, 3, &log)
		if err := tr.Resume(manifest); err != nil {
			return err
		}
		if tr.Position() != (train.Position{Epoch: 1}) {
			return fmt.Errorf("resumed at %+v", tr.Position())
		}
		return tr.Run(context.Background(), slicesObjective(c.Rank(), c.Rank()+1, 2))
	})
	for rank, r := range runs {
		if !reflect.DeepEqual(r.state, want) {
			t.Errorf("rank %d of 2, resumed from 3 ranks' checkpoint: the state differs from one process's", rank)
		}
	}
	// The file one process wrote resumes on 3 ranks too, as one process
	// resumes from it.
	again := aloneOptimizer(t)
	alone := &train.Trainer{Opt: again, Epochs: 3, StepsPerEpoch: 4, FetchEvery: 1}
	if err := alone.Resume(one); err != nil {
		t.Fatal(err)
	}
	if err := alone.Run(context.Background(), slicesObjective(0, 3, 3)); err != nil {
		t.Fatal(err)
	}
	runs = onRanks(t, 3, func(c collective.Comm, opt *sharded.Adagrad, r *run) error {
		var log bytes.Buffer
		tr := rankTrainer(c, opt, r, 3, &log)
		if err := tr.Resume(one); err != nil {
			return err
		}
		return tr.Run(context.Background(), slicesObjective(c.Rank(), c.Rank()+1, 3))
	})
	if !reflect.DeepEqual(runs[0].state, state(t, again)) {
		t.Errorf("3 ranks resumed from one process's file: the state differs from one process resumed from it")
	}
}

// TestDistributedRefusals: refusals are the same on every rank, before
// the first step or before anything changes.
func TestDistributedRefusals(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "run.json")
	onRanks(t, 3, func(c collective.Comm, opt *sharded.Adagrad, r *run) error {
		var log bytes.Buffer
		tr := rankTrainer(c, opt, r, 1, &log)
		// A whole file on more than one rank.
		tr.CheckpointPath = filepath.Join(dir, "run.safetensors")
		called := false
		err := tr.Run(context.Background(), func(*train.StepContext) (float64, error) { called = true; return 0, nil })
		if !errors.Is(err, train.ErrTrainer) || !errors.Is(err, checkpoint.ErrPath) || called {
			return fmt.Errorf("a .safetensors CheckpointPath on 3 ranks: %v (objective called: %v)", err, called)
		}
		tr.CheckpointPath, tr.CheckpointEvery = manifest, 4
		if err := tr.Run(context.Background(), slicesObjective(c.Rank(), c.Rank()+1, 3)); err != nil {
			return err
		}
		before, err := opt.State()
		if err != nil {
			return err
		}
		// A position this trainer cannot resume at: refused on every rank,
		// nothing changed.
		other := rankTrainer(c, opt, r, 3, &log)
		other.FetchEvery = 3
		if err := other.Resume(manifest); !errors.Is(err, train.ErrTrainer) || !strings.Contains(err.Error(), manifest) {
			return fmt.Errorf("position off the FetchEvery grid: %v", err)
		}
		after, err := opt.State()
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(before, after) || other.Position() != (train.Position{}) {
			return errors.New("a refused Resume changed the state or the position")
		}
		return nil
	})
}
