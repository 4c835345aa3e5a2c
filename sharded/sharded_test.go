package sharded_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/collective/collectivetest"
)

// inProcess returns an in-process world of n ranks.
func inProcess(t *testing.T, n int) []collective.Comm {
	t.Helper()
	comms, err := collective.InProcess(n, collective.Options{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return comms
}

// TestWorldOfOne: the untagged single-process path is bitwise optim's.
func TestWorldOfOne(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			if err := run(collective.One(), sc); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestInProcess: 1, 2 and 3 ranks are bitwise one process given the
// summed gradients.
func TestInProcess(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		for _, sc := range scenarios() {
			t.Run(fmt.Sprintf("%d/%s", n, sc.name), func(t *testing.T) {
				if err := collectivetest.OnEveryRank(inProcess(t, n), func(c collective.Comm) error { return run(c, sc) }); err != nil {
					t.Error(err)
				}
			})
		}
	}
}
