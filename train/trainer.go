package train

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/adagrad-go/adagrad/checkpoint"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// ErrTrainer: a Trainer's settings cannot run (no optimizer, negative or
// inconsistent counts, a checkpoint path that cannot be written).
var ErrTrainer = errors.New("train: bad Trainer settings")

// Objective computes one step's loss on the host and gives the optimizer
// its gradients through s (Grad32/Grad64 to fill dense gradients in place,
// SetGrad to copy one in, SetSparseGrad for rows). For a run that resumes
// bit for bit, it draws any randomness from s.GlobalStep, not from state of
// its own.
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
	Stats          optim.Stats
}

// Trainer runs an Objective for Epochs × StepsPerEpoch steps. Parameters and
// accumulators stay on the device: per step only gradients go in and the
// loss comes out. Parameters come back to the host every FetchEvery steps
// (stale-tolerant training in the manner of Downpour SGD), as the rows a
// sparse model asks for (StepContext.Rows32), at checkpoints, and when the
// caller reads them.
type Trainer struct {
	Opt           Optimizer
	Epochs        int
	StepsPerEpoch int
	// FetchEvery refreshes the host copies that StepContext.Params32 and
	// Params64 return every so many steps (1: every step); 0 never fetches
	// them, for objectives that gather rows or need no parameters.
	FetchEvery int
	// Observer, when set, is called after every step (on every rank of a
	// Distributed optimizer's group, with the same Progress).
	Observer func(Progress)
	// Logger, when set, gets one Info line every LogEvery steps (and at the
	// end); of a Distributed optimizer's group, rank 0's only.
	Logger   *slog.Logger
	LogEvery int
	// CheckpointPath, when set, receives a checkpoint (a .safetensors file,
	// see package checkpoint; a Checkpointer optimizer's own, for a sharded
	// one a .json manifest and a part file per rank) every CheckpointEvery
	// steps and at the end. CheckpointEvery is a multiple of FetchEvery, so
	// that a resumed run sees the same parameter copies. Run checks the
	// path before the first step: its directory exists and takes new files.
	CheckpointPath  string
	CheckpointEvery int

	pos  Position
	host map[string]any // parameter copies as of the last fetch
}

// Position returns where the run stands.
func (tr *Trainer) Position() Position { return tr.pos }

func (tr *Trainer) total() int { return tr.Epochs * tr.StepsPerEpoch }

func (tr *Trainer) global() int { return tr.pos.Epoch*tr.StepsPerEpoch + tr.pos.Step }

// check checks the counts.
func (tr *Trainer) check() error {
	switch {
	case tr.Opt == nil:
		return fmt.Errorf("%w: no optimizer", ErrTrainer)
	case tr.Epochs < 0 || tr.StepsPerEpoch <= 0:
		return fmt.Errorf("%w: %d epochs of %d steps", ErrTrainer, tr.Epochs, tr.StepsPerEpoch)
	case tr.Epochs > math.MaxInt/tr.StepsPerEpoch:
		return fmt.Errorf("%w: %d epochs of %d steps is more steps than an int counts", ErrTrainer, tr.Epochs, tr.StepsPerEpoch)
	case tr.FetchEvery < 0 || tr.LogEvery < 0 || tr.CheckpointEvery < 0:
		return fmt.Errorf("%w: negative FetchEvery, LogEvery or CheckpointEvery", ErrTrainer)
	case tr.FetchEvery > 0 && tr.CheckpointEvery > 0 && tr.CheckpointEvery%tr.FetchEvery != 0:
		return fmt.Errorf("%w: CheckpointEvery %d is not a multiple of FetchEvery %d: a resumed run would see other parameter copies",
			ErrTrainer, tr.CheckpointEvery, tr.FetchEvery)
	case tr.CheckpointEvery > 0 && tr.CheckpointPath == "":
		return fmt.Errorf("%w: CheckpointEvery %d without a CheckpointPath", ErrTrainer, tr.CheckpointEvery)
	}
	return nil
}

// Run trains from the current position to the end, or until ctx is done
// or the objective fails. It checks its settings, the checkpoint path
// included, before the first step.
func (tr *Trainer) Run(ctx context.Context, obj Objective) error {
	if err := tr.check(); err != nil {
		return err
	}
	if tr.CheckpointPath != "" {
		check := checkpoint.CheckPath
		if cp, ok := tr.Opt.(Checkpointer); ok {
			check = cp.CheckCheckpointPath
		}
		if err := check(tr.CheckpointPath); err != nil {
			return fmt.Errorf("%w: CheckpointPath: %w", ErrTrainer, err)
		}
	}
	group := tr.group()
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
			return fmt.Errorf("train: objective at epoch %d step %d: %w", s.Epoch, s.Step, err)
		}
		if err := tr.Opt.Step(); err != nil {
			return err
		}
		if group != nil {
			if loss, err = groupLoss(group, loss); err != nil {
				return err
			}
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
		if tr.Logger != nil && tr.LogEvery > 0 && (g+1)%tr.LogEvery == 0 && tr.leader() {
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
	if ran > 0 && tr.Logger != nil && tr.LogEvery > 0 && last.GlobalStep%tr.LogEvery != 0 && tr.leader() {
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
			if info.DType == device.Float64 {
				dst = make([]float64, info.Len)
			} else {
				dst = make([]float32, info.Len)
			}
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
// atomically (see checkpoint.Save); an optimizer that is a Checkpointer
// writes its own (a sharded one: each rank its rows, every rank calling
// Checkpoint).
func (tr *Trainer) Checkpoint(path string) error {
	if tr.Opt == nil {
		return fmt.Errorf("%w: no optimizer", ErrTrainer)
	}
	meta := map[string]string{metaEpoch: strconv.Itoa(tr.pos.Epoch), metaStep: strconv.Itoa(tr.pos.Step)}
	if cp, ok := tr.Opt.(Checkpointer); ok {
		return cp.SaveCheckpoint(path, meta)
	}
	st, err := tr.Opt.State()
	if err != nil {
		return err
	}
	return checkpoint.Save(path, st, meta)
}

// Resume loads a checkpoint written by Checkpoint: the optimizer's whole
// state and the position, so that Run continues where the run stopped and
// ends bitwise where an uninterrupted run would. A damaged checkpoint, or
// one of another model, changes nothing. Errors name the file; a run that
// may start afresh resumes with
//
//	if err := tr.Resume(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
//		return err
//	}
//
// An optimizer that is a Checkpointer reads its own (a sharded one: every
// rank calls Resume, and reads only its rows, from a checkpoint of any
// number of ranks or of one process).
func (tr *Trainer) Resume(path string) error {
	if err := tr.check(); err != nil {
		return err
	}
	var pos Position
	if cp, ok := tr.Opt.(Checkpointer); ok {
		err := cp.LoadCheckpoint(path, func(meta map[string]string) (err error) {
			pos, err = tr.position(path, meta)
			return err
		})
		if err != nil && !strings.Contains(err.Error(), path) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		if err != nil {
			return err
		}
		tr.pos, tr.host = pos, nil
		return nil
	}
	st, meta, err := checkpoint.Load(path)
	if err != nil {
		return err
	}
	if pos, err = tr.position(path, meta); err != nil {
		return err
	}
	if err := tr.Opt.LoadState(st); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tr.pos, tr.host = pos, nil
	return nil
}

// position reads the run's position from a checkpoint's metadata, if this
// trainer can resume there.
func (tr *Trainer) position(path string, meta map[string]string) (Position, error) {
	epoch, err1 := strconv.Atoi(meta[metaEpoch])
	step, err2 := strconv.Atoi(meta[metaStep])
	if err1 != nil || err2 != nil || epoch < 0 || step < 0 || step >= tr.StepsPerEpoch || epoch > math.MaxInt/tr.StepsPerEpoch-1 {
		return Position{}, fmt.Errorf("%w: %s: no trainer position that fits %d steps per epoch (epoch %q, step %q)",
			checkpoint.ErrCheckpoint, path, tr.StepsPerEpoch, meta[metaEpoch], meta[metaStep])
	}
	if g := epoch*tr.StepsPerEpoch + step; tr.FetchEvery > 0 && g%tr.FetchEvery != 0 {
		return Position{}, fmt.Errorf("%w: %s: checkpoint at step %d cannot resume bit for bit with FetchEvery %d", ErrTrainer, path, g, tr.FetchEvery)
	}
	return Position{Epoch: epoch, Step: step}, nil
}
