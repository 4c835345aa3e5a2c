//go:build mpi

package mpirun

import (
	"fmt"
	"os"
	"testing"

	"github.com/adagrad-go/adagrad/collective/mpi"
)

// world is this rank's MPI world in a launched rank; nil elsewhere.
var world *mpi.Comm

// Main is TestMain for a package whose tests run under mpirun: in a rank
// it opens the world before the tests and closes it after (a rank must
// finalise MPI to exit cleanly); elsewhere it runs the tests as usual (the
// launching ones). It returns the exit code.
func Main(m *testing.M) int {
	if !Launched() {
		return m.Run()
	}
	var err error
	if world, err = mpi.Open(mpi.Options{Timeout: Timeout()}); err != nil {
		fmt.Fprintln(os.Stderr, "opening the MPI world:", err)
		return 2
	}
	code := m.Run()
	if err := world.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "closing the MPI world:", err)
		code = 1
	}
	return code
}

// World returns this rank's world, or skips t outside a launched rank.
func World(t *testing.T) *mpi.Comm {
	t.Helper()
	if world == nil {
		t.Skip("runs on the ranks that a launching test starts")
	}
	return world
}

// OnSizes runs the tests matching pattern on 1, 2 and 3 ranks, a subtest
// each.
func OnSizes(t *testing.T, pattern string, env ...string) {
	for _, np := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(np), func(t *testing.T) { Test(t, np, pattern, env...) })
	}
}
