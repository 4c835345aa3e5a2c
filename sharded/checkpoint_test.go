package sharded_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/checkpoint"
	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/collective/collectivetest"
	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/optim"
	"github.com/adagrad-go/adagrad/sharded"
)

// The checkpoint checks run on in-process worlds here and under mpirun in
// mpi_test.go (a launch to save, others to resume on other sizes). The
// first scenario has decay and a starting accumulator: step counts
// matter; the others keep a state per row (row-wise Adagrad: each rank
// saves its rows' accumulators) and two states per element (dual
// averaging).
var (
	ckptScenario  = scenarios()[1]
	ckptScenarios = []scenario{ckptScenario, scenarioNamed("Rowwise"), scenarioNamed("DualAveraging")}
	ckptMeta      = map[string]string{"trainer.epoch": "1", "trainer.step": "3"}
)

// scenarioNamed is the scenario of that name (the default one when none).
func scenarioNamed(name string) scenario {
	for _, sc := range scenarios() {
		if sc.name == name {
			return sc
		}
	}
	return ckptScenario
}

// reference is one process given the sums of n ranks' gradients for steps
// 1-3: the state that a checkpoint of n ranks after step 3 holds.
func reference(sc scenario, n int) (optim.State, error) {
	dev := cpu.New()
	defer dev.Close()
	ref, err := optim.New(dev, params(sc, 1), sc.opts...)
	if err != nil {
		return optim.State{}, err
	}
	defer ref.Close()
	for step := 1; step <= 3; step++ {
		for j, ts := range model {
			if err := combine(sc, n, step, j).give(ref, ts.name); err != nil {
				return optim.State{}, err
			}
		}
		if err := ref.Step(); err != nil {
			return optim.State{}, err
		}
	}
	return ref.State()
}

// saveRank is one rank's part of a run of steps 1-3 that saves a
// checkpoint at path.
func saveRank(c collective.Comm, sc scenario, path string) error {
	dev, err := openDevice()
	if err != nil {
		return err
	}
	defer dev.Close()
	opt, err := sharded.New(c, dev, params(sc, 1), sc.opts...)
	if err != nil {
		return err
	}
	defer opt.Close()
	for step := 1; step <= 3; step++ {
		for j, ts := range model {
			if err := gradientOf(sc, c.Rank(), c.Size(), step, j).give(opt, ts.name); err != nil {
				return err
			}
		}
		if err := opt.Step(); err != nil {
			return err
		}
	}
	if err := opt.CheckCheckpointPath(path); err != nil {
		return err
	}
	return opt.SaveCheckpoint(path, ckptMeta)
}

// resumeRank is one rank's part of a run that resumes from the checkpoint
// at path, saved by from ranks, and goes on for steps 4-6, comparing each
// step with one process that ran every step (fed the sums of from ranks,
// then of this world's).
func resumeRank(c collective.Comm, sc scenario, path string, from int) error {
	want, err := reference(sc, from)
	if err != nil {
		return err
	}
	dev, refDev := cpu.New(), cpu.New()
	defer refDev.Close()
	defer dev.Close()
	opt, err := sharded.New(c, dev, params(sc, 2), sc.opts...) // other values: the checkpoint's replace them
	if err != nil {
		return err
	}
	defer opt.Close()
	ref, err := optim.New(refDev, params(sc, 2), sc.opts...)
	if err != nil {
		return err
	}
	defer ref.Close()
	if err := ref.LoadState(want); err != nil {
		return err
	}
	var meta map[string]string
	if err := opt.LoadCheckpoint(path, func(m map[string]string) error { meta = m; return nil }); err != nil {
		return err
	}
	if !maps.Equal(meta, ckptMeta) {
		return fmt.Errorf("metadata %v, want %v", meta, ckptMeta)
	}
	return train(c, sc, opt, ref, 4, 6)
}

// sameFile compares a consolidated checkpoint with the file one process
// writes for the reference state.
func sameFile(sc scenario, manifest string, from int) error {
	want, err := reference(sc, from)
	if err != nil {
		return err
	}
	dir := filepath.Dir(manifest)
	one, got := filepath.Join(dir, "one.safetensors"), filepath.Join(dir, "consolidated.safetensors")
	if err := checkpoint.Save(one, want, ckptMeta); err != nil {
		return err
	}
	if err := checkpoint.Consolidate(manifest, got); err != nil {
		return err
	}
	a, err := os.ReadFile(one)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(got)
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("%d ranks' checkpoint consolidated: %d bytes, not the %d bytes one process writes", from, len(b), len(a))
	}
	return nil
}

// partFiles counts the part files beside a manifest.
func partFiles(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "run.") && strings.HasSuffix(e.Name(), checkpoint.Ext) {
			n++
		}
	}
	return n
}

// TestCheckpointAcrossSizes: a checkpoint of 1, 2 or 3 ranks (a part file
// each and a manifest) consolidates into the file one process writes, byte
// for byte, and resumes on 1, 2 or 3 ranks bitwise as one process that
// never stopped; so does a whole file that one process wrote. Each of
// ckptScenarios: per-element state, per-row state, two states.
func TestCheckpointAcrossSizes(t *testing.T) {
	for _, sc := range ckptScenarios {
		for n := 1; n <= 3; n++ {
			t.Run(fmt.Sprintf("%s/from%d", sc.name, n), func(t *testing.T) {
				dir := t.TempDir()
				manifest := filepath.Join(dir, "run.json")
				if err := collectivetest.OnEveryRank(inProcess(t, n), func(c collective.Comm) error { return saveRank(c, sc, manifest) }); err != nil {
					t.Fatal(err)
				}
				if got := partFiles(t, dir); got != n {
					t.Errorf("%d part files for %d ranks", got, n)
				}
				if err := sameFile(sc, manifest, n); err != nil {
					t.Error(err)
				}
				whole := filepath.Join(dir, "one.safetensors") // written by sameFile
				for m := 1; m <= 3; m++ {
					for _, path := range []string{manifest, whole} {
						t.Run(fmt.Sprintf("on%d/%s", m, filepath.Ext(path)), func(t *testing.T) {
							err := collectivetest.OnEveryRank(inProcess(t, m), func(c collective.Comm) error { return resumeRank(c, sc, path, n) })
							if err != nil {
								t.Error(err)
							}
						})
					}
				}
			})
		}
	}
}

// TestCheckpointOneRankWhole: on one rank a .safetensors path is the file
// one process writes, byte for byte; on more it is refused, on every rank,
// before anything is written.
func TestCheckpointOneRankWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.safetensors")
	if err := saveRank(collective.One(), ckptScenario, path); err != nil {
		t.Fatal(err)
	}
	want, err := reference(ckptScenario, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(dir, "ref.safetensors")
	if err := checkpoint.Save(ref, want, ckptMeta); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(ref)
	b, _ := os.ReadFile(path)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("one rank's .safetensors: %d bytes, not the %d bytes one process writes", len(b), len(a))
	}
	other := filepath.Join(dir, "two.safetensors")
	err = collectivetest.OnEveryRank(inProcess(t, 2), func(c collective.Comm) error {
		err := saveRank(c, ckptScenario, other)
		if !errors.Is(err, checkpoint.ErrPath) || !strings.Contains(err.Error(), "save a .json manifest") {
			return fmt.Errorf("rank %d: %v, want checkpoint.ErrPath", c.Rank(), err)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(other); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("refused, yet written: %v", err)
	}
}

// checkpointChecks are the refusals, run on 3 ranks in-process and under
// mpirun: each changes nothing and is the same on every rank.
func checkpointChecks(dir string) []rankCheck {
	return []rankCheck{
		{"CheckpointRefusals", 2, withOptimizer(func(c collective.Comm, opt *sharded.Adagrad) error {
			return checkpointRefusals(c, opt, dir)
		})},
	}
}

func checkpointRefusals(c collective.Comm, opt *sharded.Adagrad, dir string) error {
	// Only rank 0's dir counts: every rank must be given the same one.
	gathered := make([][]byte, c.Size())
	for r := range gathered {
		gathered[r] = make([]byte, len(dir))
	}
	if err := c.AllGather([]byte(dir), gathered); err != nil {
		return err
	}
	dir = string(gathered[0])
	manifest := filepath.Join(dir, "refusals.json")
	before, err := opt.State()
	if err != nil {
		return err
	}
	if err := opt.SaveCheckpoint(manifest, ckptMeta); err != nil {
		return err
	}
	unchanged := func(what string, err error, want ...error) error {
		for _, w := range want {
			if !errors.Is(err, w) {
				return fmt.Errorf("%s: rank %d: %v, want %v", what, c.Rank(), err, w)
			}
		}
		if err == nil {
			return fmt.Errorf("%s: rank %d: no error", what, c.Rank())
		}
		after, serr := opt.State()
		if serr != nil {
			return serr
		}
		if d := sameState(after, before); d != nil {
			return fmt.Errorf("%s: rank %d: the state changed: %v", what, c.Rank(), d)
		}
		return nil
	}
	// The ranks give different metadata: refused before the manifest.
	meta := maps.Clone(ckptMeta)
	meta["rank"] = fmt.Sprint(c.Rank())
	if err := unchanged("different metadata", opt.SaveCheckpoint(manifest, meta), sharded.ErrMismatch); err != nil {
		return err
	}
	var seen map[string]string
	if err := opt.LoadCheckpoint(manifest, func(m map[string]string) error { seen = m; return nil }); err != nil {
		return fmt.Errorf("rank %d: the checkpoint before the refused save: %v", c.Rank(), err)
	}
	if !maps.Equal(seen, ckptMeta) {
		return fmt.Errorf("rank %d: the refused save replaced the manifest: %v", c.Rank(), seen)
	}
	// accept refuses it.
	errNo := errors.New("not this one")
	if err := unchanged("accept refuses", opt.LoadCheckpoint(manifest, func(map[string]string) error { return errNo }), errNo); err != nil {
		return err
	}
	// No checkpoint: fs.ErrNotExist on every rank.
	if err := unchanged("no checkpoint", opt.LoadCheckpoint(filepath.Join(dir, "absent.json"), nil), fs.ErrNotExist); err != nil {
		return err
	}
	// Another model's checkpoint.
	st, err := opt.State()
	if err != nil {
		return err
	}
	st.Tensors[0].Name = "renamed"
	other := filepath.Join(dir, "other.safetensors")
	if c.Rank() == 0 {
		err = checkpoint.Save(other, st, nil)
	}
	if err := errors.Join(err, c.Barrier()); err != nil {
		return err
	}
	if err := unchanged("another model", opt.LoadCheckpoint(other, nil), checkpoint.ErrCheckpoint); err != nil {
		return err
	}
	// The last rank's part file damaged: the last rank finds it, the
	// others hear so, and every rank refuses it alike.
	m, err := checkpoint.ReadManifest(manifest)
	if err != nil {
		return err
	}
	last := filepath.Join(dir, m.Shards[len(m.Shards)-1].File)
	if c.Rank() == c.Size()-1 {
		b, rerr := os.ReadFile(last)
		if rerr == nil {
			b[len(b)-1] ^= 1
			rerr = os.WriteFile(last, b, 0o644)
		}
		err = rerr
	}
	if err := errors.Join(err, c.Barrier()); err != nil {
		return err
	}
	return unchanged("a part file damaged", opt.LoadCheckpoint(manifest, nil), checkpoint.ErrCheckpoint)
}

func TestCheckpointRefusals(t *testing.T) {
	for _, ch := range checkpointChecks(t.TempDir()) {
		t.Run(ch.name, func(t *testing.T) {
			if err := collectivetest.OnEveryRank(inProcess(t, 3), ch.run); err != nil {
				t.Error(err)
			}
		})
	}
}
