// Package grouptest is what the examples' tests share to check a run of
// several ranks against one process: OnRanks runs the ranks of an
// in-process world, Compare checks what they printed, and, with -tags mpi,
// UnderMpirun and RankCommand do the same through mpirun.
package grouptest

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/examples/internal/group"
)

// OnRanks runs run on every rank of an in-process world of n, each with
// its group writing to a buffer of its own, and returns what each wrote to
// stdout, and the first error. It is how the examples' tests try a run of
// n ranks without a launcher.
func OnRanks(n int, run func(g *group.Group) error) ([]string, error) {
	comms, err := collective.InProcess(n, collective.Options{Timeout: 5 * time.Minute})
	if err != nil {
		return nil, err
	}
	out := make([]bytes.Buffer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r, c := range comms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := group.New(c, &out[r], io.Discard)
			defer g.Close(false) // a rank that fails lets the others' calls fail too
			if errs[r] = run(g); errs[r] != nil {
				errs[r] = fmt.Errorf("rank %d of %d: %w", r, n, errs[r])
			}
		}()
	}
	wg.Wait()
	texts := make([]string, n)
	for r := range out {
		texts[r] = out[r].String()
	}
	for _, err := range errs {
		if err != nil {
			return texts, err
		}
	}
	return texts, nil
}

// RunRanks runs run on every rank of an in-process world of n (OnRanks),
// failing t on error, and returns what each rank printed and rank 0's
// result.
func RunRanks[R any](t *testing.T, n int, run func(g *group.Group) (R, error)) ([]string, R) {
	t.Helper()
	var first R
	outs, err := OnRanks(n, func(g *group.Group) error {
		r, err := run(g)
		if g.Rank() == 0 {
			first = r
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return outs, first
}

// Between returns the lines of a report from the first that starts with
// from up to the first that starts with to (excluded), less the lines that
// match drop: the part of a report whose numbers N ranks and one process
// with -slices N print alike.
func Between(report, from, to string, drop *regexp.Regexp) string {
	var out []string
	in := false
	for _, l := range strings.Split(report, "\n") {
		switch {
		case !in && strings.HasPrefix(l, from):
			in = true
		case in && strings.HasPrefix(l, to):
			return strings.Join(out, "\n")
		}
		if in && (drop == nil || !drop.MatchString(l)) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Compare checks what n ranks printed (each rank's stdout) against what
// one process computing n slices printed: the numbers (what numbers keeps
// of a report) the same, bit for bit; nothing printed by the ranks but 0;
// and, with more than one rank, a traffic report in which every rank sent
// what the count on paper says.
func Compare(t *testing.T, n int, outs []string, alone string, numbers func(string) string) {
	t.Helper()
	if got, want := numbers(outs[0]), numbers(alone); got != want || got == "" {
		t.Errorf("%d ranks print\n%s\none process computing %d slices\n%s", n, outs[0], n, alone)
	}
	for r, out := range outs[1:] {
		if out != "" {
			t.Errorf("rank %d printed %q", r+1, out)
		}
	}
	if n > 1 && (strings.Count(outs[0], "  equal ") != n || strings.Contains(outs[0], "DIFF")) {
		t.Errorf("%d ranks: the bytes sent are not the count on paper:\n%s", n, outs[0])
	}
}
