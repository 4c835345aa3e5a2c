package devicetest

import (
	"testing"

	"github.com/adagrad-go/adagrad/optim"
)

// testState checks that State and LoadState resume a run bit for bit, also
// on a fresh device.
func testState(t *testing.T, open Opener) {
	for _, dt := range dtypes {
		t.Run(dt.String(), func(t *testing.T) {
			m := newModel(dt, 5)
			want, err := m.run(mustOpen(t, open))
			if err != nil {
				t.Fatal(err)
			}
			first, err := optim.New(mustOpen(t, open), m.params())
			if err != nil {
				t.Fatal(err)
			}
			if err := m.runSteps(first, 0, 3); err != nil {
				t.Fatal(err)
			}
			st, err := first.State()
			if err != nil {
				t.Fatal(err)
			}
			first.Close()
			// The resumed optimizer starts from other values and other
			// hyperparameters: LoadState must replace all of them.
			ps := m.params()
			for i := range ps {
				ps[i].Init = zeros(dt, len(m.init[i]))
				ps[i].Options = []optim.Option{optim.LR(1), optim.InitialAccumulatorValue(3)}
			}
			resumed, err := optim.New(mustOpen(t, open), ps)
			if err != nil {
				t.Fatal(err)
			}
			defer resumed.Close()
			if err := resumed.LoadState(st); err != nil {
				t.Fatal(err)
			}
			if err := m.runSteps(resumed, 3, modelSteps); err != nil {
				t.Fatal(err)
			}
			got, err := readResult(resumed)
			if err != nil {
				t.Fatal(err)
			}
			if d := got.diff(want); d != "" {
				t.Errorf("resumed run differs from an uninterrupted one: %s", d)
			}
		})
	}
}
