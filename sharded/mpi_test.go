//go:build mpi

package sharded_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/adagrad-go/adagrad/collective/mpi"
	"github.com/adagrad-go/adagrad/internal/mpirun"
)

func TestMain(m *testing.M) { os.Exit(mpirun.Main(m)) }

func needWorld(t *testing.T) *mpi.Comm { return mpirun.World(t) }

// TestUnderMpirun runs the rank tests on 1, 2 and 3 processes with the
// CPU backend: every scenario bitwise equal to one process, the ranks'
// agreement checks, and the traffic against the analytic figures.
func TestUnderMpirun(t *testing.T) {
	mpirun.OnSizes(t, "^TestRank(Scenarios|Agreement|Traffic)$")
}

func TestRankScenarios(t *testing.T) {
	w := needWorld(t)
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			if err := run(w, sc); err != nil {
				t.Errorf("rank %d of %d: %v", w.Rank(), w.Size(), err)
			}
		})
	}
}

func TestRankAgreement(t *testing.T) {
	w := needWorld(t)
	for _, ch := range rankChecks() {
		t.Run(ch.name, func(t *testing.T) {
			if w.Size() < ch.min {
				t.Skipf("needs %d ranks", ch.min)
			}
			if err := ch.run(w); err != nil {
				t.Errorf("rank %d of %d: %v", w.Rank(), w.Size(), err)
			}
		})
	}
}

func TestRankTraffic(t *testing.T) {
	w := needWorld(t)
	line, err := checkTraffic(w)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(line)
}

// TestCheckpointUnderMpirun: 1, 2 and 3 processes each save their rows of
// a checkpoint (a part file each, the manifest last); each checkpoint
// consolidates into the file one process writes, byte for byte; a launch
// on another number of processes resumes from it, every rank reading its
// rows, bitwise as one process that never stopped; and the refusals are
// the same on every rank and change nothing. The default scenario, then
// row-wise Adagrad (its per-row state saved by each rank's rows).
func TestCheckpointUnderMpirun(t *testing.T) {
	dir := t.TempDir()
	for _, sc := range []scenario{ckptScenario, scenarioNamed("Rowwise")} {
		manifest := func(n int) string { return filepath.Join(dir, sc.name, fmt.Sprint(n), "run.json") }
		env := "ADAGRAD_CKPT_SCENARIO=" + sc.name
		for n := 1; n <= 3; n++ {
			if err := os.MkdirAll(filepath.Dir(manifest(n)), 0o755); err != nil {
				t.Fatal(err)
			}
			mpirun.Test(t, n, "^TestRankCheckpointSave$", "ADAGRAD_CKPT="+manifest(n), env)
			if err := sameFile(sc, manifest(n), n); err != nil {
				t.Error(err)
			}
		}
		for _, fromTo := range [][2]int{{3, 2}, {2, 3}, {1, 3}, {3, 1}} {
			from, to := fromTo[0], fromTo[1]
			t.Run(fmt.Sprintf("%s/%dto%d", sc.name, from, to), func(t *testing.T) {
				mpirun.Test(t, to, "^TestRankCheckpointResume$", "ADAGRAD_CKPT="+manifest(from), fmt.Sprintf("ADAGRAD_CKPT_FROM=%d", from), env)
			})
		}
	}
	mpirun.Test(t, 3, "^TestRankCheckpointRefusals$", "ADAGRAD_CKPT_DIR="+dir)
}

func TestRankCheckpointSave(t *testing.T) {
	w := needWorld(t)
	path := os.Getenv("ADAGRAD_CKPT")
	if path == "" {
		t.Skip("launched by TestCheckpointUnderMpirun")
	}
	if err := saveRank(w, scenarioNamed(os.Getenv("ADAGRAD_CKPT_SCENARIO")), path); err != nil {
		t.Fatalf("rank %d of %d: %v", w.Rank(), w.Size(), err)
	}
}

func TestRankCheckpointResume(t *testing.T) {
	w := needWorld(t)
	path := os.Getenv("ADAGRAD_CKPT")
	from, err := strconv.Atoi(os.Getenv("ADAGRAD_CKPT_FROM"))
	if path == "" || err != nil {
		t.Skip("launched by TestCheckpointUnderMpirun")
	}
	if err := resumeRank(w, scenarioNamed(os.Getenv("ADAGRAD_CKPT_SCENARIO")), path, from); err != nil {
		t.Fatalf("rank %d of %d, from %d ranks: %v", w.Rank(), w.Size(), from, err)
	}
}

func TestRankCheckpointRefusals(t *testing.T) {
	w := needWorld(t)
	dir := os.Getenv("ADAGRAD_CKPT_DIR")
	if dir == "" {
		t.Skip("launched by TestCheckpointUnderMpirun")
	}
	for _, ch := range checkpointChecks(dir) {
		if err := ch.run(w); err != nil {
			t.Errorf("rank %d of %d: %s: %v", w.Rank(), w.Size(), ch.name, err)
		}
	}
}
