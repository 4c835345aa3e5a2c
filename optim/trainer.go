package optim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// Objective computes one step's loss on the host and gives the optimizer
// its gradients through s (Grad32/Grad64 to fill dense gradients in place,
// SetSparseGrad for rows). For a run that resumes bit for bit, it draws any
// randomness from s.GlobalStep, not from state of its own.
type Objective func(s *StepContext) (loss float64, err error)

// Position is where a run stands: the next step to run, counted within its
// epoch.
type Position struct{ Epoch, Step int }

// Progress is what the trainer reports after each step.
type Progress struct {
	Epoch, Step    int // the step just run, within its epoch
	GlobalStep     int // steps run so far in the whole run, this one included
	TotalSteps     int
	Loss           float64
	StepsPerSecond float64 // over this Run call
	Elapsed        time.Duration
	Stats          Stats
}

// Trainer runs an Objective for Epochs × StepsPerEpoch steps. Parameters and
// accumulators stay on the device: per step only gradients go in and the
// loss comes out. Parameters come back to the host every FetchEvery steps
// (stale-tolerant training in the manner of Downpour SGD), as the rows a
// sparse model asks for (StepContext.Rows32), at checkpoints, and when the
// caller reads them.
type Trainer struct {
	Opt           *Adagrad
	Epochs        int
	StepsPerEpoch int
	// FetchEvery refreshes the host copies that StepContext.Params32 and
	// Params64 return every so many steps (1: every step); 0 never fetches
	// them, for objectives that gather rows or need no parameters.
	FetchEvery int
	// Observer, when set, is called after every step.
	Observer func(Progress)
	// Logger, when set, gets one Info line every LogEvery steps (and at the
	// end).
	Logger   *slog.Logger
	LogEvery int
	// CheckpointPath, when set, receives a checkpoint every
	// CheckpointEvery steps and at the end (a multiple of FetchEvery, so
	// that a resumed run sees the same parameter copies).
	CheckpointPath  string
	CheckpointEvery int

	pos  Position
	host map[string]any // parameter copies as of the last fetch
}

// Position returns where the run stands.
func (tr *Trainer) Position() Position { return tr.pos }

func (tr *Trainer) total() int { return tr.Epochs * tr.StepsPerEpoch }

func (tr *Trainer) global() int { return tr.pos.Epoch*tr.StepsPerEpoch + tr.pos.Step }

func (tr *Trainer) check() error {
	switch {
	case tr.Opt == nil:
		return errors.New("optim: Trainer without an optimizer")
	case tr.Epochs < 0 || tr.StepsPerEpoch <= 0:
		return fmt.Errorf("optim: Trainer of %d epochs of %d steps", tr.Epochs, tr.StepsPerEpoch)
	case tr.FetchEvery < 0 || tr.LogEvery < 0 || tr.CheckpointEvery < 0:
		return errors.New("optim: negative FetchEvery, LogEvery or CheckpointEvery")
	case tr.FetchEvery > 0 && tr.CheckpointEvery > 0 && tr.CheckpointEvery%tr.FetchEvery != 0:
		return fmt.Errorf("optim: CheckpointEvery %d is not a multiple of FetchEvery %d: a resumed run would see other parameter copies",
			tr.CheckpointEvery, tr.FetchEvery)
	}
	return nil
}

// Run trains from the current position to the end, or until ctx is done
// or the objective fails.
func (tr *Trainer) Run(ctx context.Context, obj Objective) error {
	if err := tr.check(); err != nil {
		return err
	}
	start := time.Now()
	ran := 0
	var last Progress
	for g := tr.global(); g < tr.total(); g++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if tr.FetchEvery > 0 && (g%tr.FetchEvery == 0 || tr.host == nil) {
			if err := tr.fetch(); err != nil {
				return err
			}
		}
		s := &StepContext{Epoch: tr.pos.Epoch, Step: tr.pos.Step, GlobalStep: g, tr: tr}
		loss, err := obj(s)
		if err != nil {
			return fmt.Errorf("optim: objective at epoch %d step %d: %w", s.Epoch, s.Step, err)
		}
		if err := tr.Opt.Step(); err != nil {
			return err
		}
		ran++
		tr.pos.Step++
		if tr.pos.Step == tr.StepsPerEpoch {
			tr.pos = Position{Epoch: tr.pos.Epoch + 1}
		}
		elapsed := time.Since(start)
		last = Progress{Epoch: s.Epoch, Step: s.Step, GlobalStep: g + 1, TotalSteps: tr.total(), Loss: loss,
			StepsPerSecond: float64(ran) / elapsed.Seconds(), Elapsed: elapsed, Stats: tr.Opt.Stats()}
		if tr.Observer != nil {
			tr.Observer(last)
		}
		if tr.Logger != nil && tr.LogEvery > 0 && (g+1)%tr.LogEvery == 0 {
			tr.log(last)
		}
		if tr.CheckpointPath != "" && tr.CheckpointEvery > 0 && (g+1)%tr.CheckpointEvery == 0 {
			if err := tr.Checkpoint(tr.CheckpointPath); err != nil {
				return err
			}
		}
	}
	if err := tr.Opt.Sync(); err != nil {
		return err
	}
	if ran > 0 && tr.Logger != nil && tr.LogEvery > 0 && last.GlobalStep%tr.LogEvery != 0 {
		tr.log(last)
	}
	if ran > 0 && tr.CheckpointPath != "" {
		return tr.Checkpoint(tr.CheckpointPath)
	}
	return nil
}

func (tr *Trainer) log(p Progress) {
	tr.Logger.Info("adagrad", "epoch", p.Epoch, "step", p.GlobalStep, "of", p.TotalSteps, "loss", p.Loss,
		"steps/s", fmt.Sprintf("%.1f", p.StepsPerSecond),
		"to_device", p.Stats.BytesToDevice, "from_device", p.Stats.BytesFromDevice,
		"transfer", p.Stats.TransferTime.Round(time.Microsecond), "compute", p.Stats.ComputeTime.Round(time.Microsecond))
}

// fetch refreshes the host copy of every tensor's parameters.
func (tr *Trainer) fetch() error {
	if tr.host == nil {
		tr.host = map[string]any{}
	}
	for _, info := range tr.Opt.Tensors() {
		dst, ok := tr.host[info.Name]
		if !ok {
			dst = filled(info.DType, info.Len, 0)
			tr.host[info.Name] = dst
		}
		if err := tr.Opt.Read(info.Name, dst); err != nil {
			return err
		}
	}
	return nil
}

// Checkpoint metadata keys of the trainer's position.
const (
	metaEpoch = "trainer.epoch"
	metaStep  = "trainer.step"
)

// Checkpoint writes the optimizer's state and the run's position to path,
// atomically.
func (tr *Trainer) Checkpoint(path string) error {
	return tr.Opt.SaveCheckpoint(path, map[string]string{
		metaEpoch: strconv.Itoa(tr.pos.Epoch), metaStep: strconv.Itoa(tr.pos.Step),
	})
}

// Resume loads a checkpoint written by Checkpoint: the optimizer's whole
// state and the position, so that Run continues where the run stopped and
// ends bitwise where an uninterrupted run would. A damaged checkpoint, or
// one of another model, changes nothing.
func (tr *Trainer) Resume(path string) error {
	if err := tr.check(); err != nil {
		return err
	}
	b, err := readFile(path)
	if err != nil {
		return err
	}
	st, extra, err := DecodeCheckpoint(b)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	epoch, err1 := strconv.Atoi(extra[metaEpoch])
	step, err2 := strconv.Atoi(extra[metaStep])
	if err1 != nil || err2 != nil || epoch < 0 || step < 0 || step >= max(tr.StepsPerEpoch, 1) {
		return fmt.Errorf("%w: %s: no trainer position that fits %d steps per epoch", ErrCheckpoint, path, tr.StepsPerEpoch)
	}
	pos := Position{Epoch: epoch, Step: step}
	if g := epoch*tr.StepsPerEpoch + step; tr.FetchEvery > 0 && g%tr.FetchEvery != 0 {
		return fmt.Errorf("optim: checkpoint at step %d cannot resume bit for bit with FetchEvery %d", g, tr.FetchEvery)
	}
	if err := tr.Opt.LoadState(st); err != nil {
		return err
	}
	tr.pos, tr.host = pos, nil
	return nil
}

// StepContext is what an Objective sees of one step.
type StepContext struct {
	Epoch, Step int // within the epoch
	GlobalStep  int // from the start of the run
	tr          *Trainer
}

// Params32 returns the host copy of a float32 tensor's parameters as of
// the last fetch (see Trainer.FetchEvery). Do not modify it.
func (s *StepContext) Params32(name string) ([]float32, error) {
	v, err := s.params(name)
	if err != nil {
		return nil, err
	}
	p, ok := v.([]float32)
	if !ok {
		return nil, fmt.Errorf("%w: tensor %q is not float32", ErrShape, name)
	}
	return p, nil
}

// Params64 is Params32 for a float64 tensor.
func (s *StepContext) Params64(name string) ([]float64, error) {
	v, err := s.params(name)
	if err != nil {
		return nil, err
	}
	p, ok := v.([]float64)
	if !ok {
		return nil, fmt.Errorf("%w: tensor %q is not float64", ErrShape, name)
	}
	return p, nil
}

func (s *StepContext) params(name string) (any, error) {
	if s.tr.FetchEvery == 0 {
		return nil, errors.New("optim: Trainer.FetchEvery is 0: no host copies (gather rows with Rows32/Rows64)")
	}
	v, ok := s.tr.host[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownTensor, name)
	}
	return v, nil
}

// Grad32 returns the staging slice for a float32 tensor's dense gradient
// (see Adagrad.Grad32).
func (s *StepContext) Grad32(name string) ([]float32, error) { return s.tr.Opt.Grad32(name) }

// Grad64 returns the staging slice for a float64 tensor's dense gradient.
func (s *StepContext) Grad64(name string) ([]float64, error) { return s.tr.Opt.Grad64(name) }

// SetSparseGrad gives a tensor a row-sparse gradient (see
// Adagrad.SetSparseGrad).
func (s *StepContext) SetSparseGrad(name string, rows []int64, values any) error {
	return s.tr.Opt.SetSparseGrad(name, rows, values)
}

// Rows32 gathers the current parameters of the named rows of a float32
// tensor from the device (see Adagrad.ReadRows).
func (s *StepContext) Rows32(name string, rows []int64, dst []float32) error {
	return s.tr.Opt.ReadRows(name, rows, dst)
}

// Rows64 is Rows32 for a float64 tensor.
func (s *StepContext) Rows64(name string, rows []int64, dst []float64) error {
	return s.tr.Opt.ReadRows(name, rows, dst)
}
