//go:build mpi

package sharded_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/adagrad-go/adagrad/collective/mpi"
	"github.com/adagrad-go/adagrad/internal/mpirun"
)

// world is this rank's MPI world when the test binary runs under mpirun
// (launched by TestUnderMpirun); nil otherwise.
var world *mpi.Comm

func TestMain(m *testing.M) {
	os.Exit(mpirun.Main(m, func() (err error) {
		world, err = mpi.Open(mpi.Options{Timeout: mpirun.Timeout()})
		return err
	}, func() error { return world.Close() }))
}

func needWorld(t *testing.T) *mpi.Comm {
	t.Helper()
	if world == nil {
		t.Skip("runs on the ranks that TestUnderMpirun launches")
	}
	return world
}

// TestUnderMpirun runs the rank tests on 1, 2 and 3 processes with the
// CPU backend: every scenario bitwise equal to one process, the ranks'
// agreement checks, and the traffic against the analytic figures.
func TestUnderMpirun(t *testing.T) {
	for _, np := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(np), func(t *testing.T) { mpirun.Test(t, np, "^TestRank(Scenarios|Agreement|Traffic)$") })
	}
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
