package collectivetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/adagrad-go/adagrad/collective"
)

// Check is one conformance check, run on every rank of a world.
type Check struct {
	Name string
	Run  func(c collective.Comm) error
}

// Checks returns the suite in the order every rank runs it.
func Checks() []Check {
	return []Check{
		{"RankSize", checkRankSize},
		{"Barrier", checkBarrier},
		{"AllToAll", checkAllToAll},
		{"AllToAllLarge", checkAllToAllLarge},
		{"AllGather", checkAllGather},
		{"Typed", checkTyped},
		{"ReduceScatter", checkReduceScatter},
		{"AllReduce", checkAllReduce},
		{"Stats", checkStats},
	}
}

// Run runs the suite on this process's rank of a world whose other ranks
// run it too (each rank a process, under a launcher).
func Run(t *testing.T, c collective.Comm) {
	for _, ch := range Checks() {
		t.Run(ch.Name, func(t *testing.T) {
			if err := ch.Run(c); err != nil {
				t.Errorf("rank %d of %d: %v", c.Rank(), c.Size(), err)
			}
		})
	}
}

// RunWorld runs the suite on every rank of an in-process world, each rank
// in a goroutine of its own.
func RunWorld(t *testing.T, comms []collective.Comm) {
	for _, ch := range Checks() {
		t.Run(ch.Name, func(t *testing.T) {
			if err := OnEveryRank(comms, ch.Run); err != nil {
				t.Error(err)
			}
		})
	}
}

// OnEveryRank runs f on every rank of an in-process world, each in a
// goroutine, and joins the ranks' errors.
func OnEveryRank(comms []collective.Comm, f func(c collective.Comm) error) error {
	errs := make([]error, len(comms))
	var wg sync.WaitGroup
	for r, c := range comms {
		wg.Go(func() {
			if err := f(c); err != nil {
				errs[r] = fmt.Errorf("rank %d of %d: %w", r, len(comms), err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
