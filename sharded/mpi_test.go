//go:build mpi

package sharded_test

import (
	"os"
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
