package sharded_test

import (
	"fmt"
	"testing"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/collective/collectivetest"
	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/optim"
	"github.com/adagrad-go/adagrad/sharded"
)

// TestResumeOnOtherSize: a state gathered from 3 ranks, loaded on 2 ranks
// and on 1 (and into one optim.Adagrad), goes on bitwise as one process
// that ran all the steps.
func TestResumeOnOtherSize(t *testing.T) {
	sc := scenarios()[1] // decay and a starting accumulator: the step counts matter
	refDev := cpu.New()
	defer refDev.Close()
	ref, err := optim.New(refDev, params(sc, 1), sc.opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()

	// Steps 1-3 on three ranks; the reference is fed their sums.
	var saved optim.State
	err = collectivetest.OnEveryRank(inProcess(t, 3), func(c collective.Comm) error {
		dev := cpu.New()
		defer dev.Close()
		opt, err := sharded.New(c, dev, params(sc, 1), sc.opts...)
		if err != nil {
			return err
		}
		defer opt.Close()
		mine := ref
		if c.Rank() != 0 {
			// Only rank 0 steps the shared reference; the others keep one
			// of their own.
			own := cpu.New()
			defer own.Close()
			if mine, err = optim.New(own, params(sc, 1), sc.opts...); err != nil {
				return err
			}
			defer mine.Close()
		}
		if err := train(c, sc, opt, mine, 1, 3); err != nil {
			return err
		}
		st, err := opt.State()
		if c.Rank() == 0 {
			saved = st
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	refState, err := ref.State()
	if err != nil {
		t.Fatal(err)
	}

	for _, n := range []int{2, 1} {
		t.Run(fmt.Sprintf("on%d", n), func(t *testing.T) {
			err := collectivetest.OnEveryRank(inProcess(t, n), func(c collective.Comm) error {
				dev, refDev := cpu.New(), cpu.New()
				defer dev.Close()
				defer refDev.Close()
				// Made with other initial values: LoadState replaces them.
				opt, err := sharded.New(c, dev, params(sc, 2), sc.opts...)
				if err != nil {
					return err
				}
				defer opt.Close()
				again, err := optim.New(refDev, params(sc, 2), sc.opts...)
				if err != nil {
					return err
				}
				defer again.Close()
				if err := opt.LoadState(saved); err != nil {
					return err
				}
				if err := again.LoadState(refState); err != nil {
					return err
				}
				return train(c, sc, opt, again, 4, 6)
			})
			if err != nil {
				t.Error(err)
			}
		})
	}

	// And the gathered state resumes in one process too.
	one, err := optim.New(refDev, params(sc, 2), sc.opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	if err := one.LoadState(saved); err != nil {
		t.Fatal(err)
	}
	got, err := one.State()
	if err != nil {
		t.Fatal(err)
	}
	if err := sameState(got, refState); err != nil {
		t.Errorf("a 3-rank state loaded into optim: %v", err)
	}
}
