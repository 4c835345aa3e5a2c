package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/examples/internal/group"
	"github.com/adagrad-go/adagrad/examples/internal/grouptest"
)

// smallArgs is a run of a fraction of a second on writeCorpus's text.
func smallArgs(corpus string) []string {
	return []string{"-device", "cpu", "-progress", "none", "-corpus", corpus, "-epochs", "3", "-batch", "64", "-dim", "8",
		"-min-count", "2", "-neighbours", "cat,int"}
}

// numbers is the part of a report whose numbers N ranks and one process
// with -slices N print alike: the losses and the neighbours.
func numbers(report string) string {
	return grouptest.Between(report, "Mean training loss", "Transfers:", nil)
}

// alone is what one process computing n slices prints.
func alone(c config, n int) (string, error) {
	c.slices = n
	var out strings.Builder
	_, err := run(c, &out, nil)
	return out.String(), err
}

// TestRanksInProcess: 2 and 3 ranks (in one process, over channels) print
// the numbers that one process computing as many slices prints, bit for
// bit; only rank 0 prints; the bytes each rank sent per step equal the
// count on paper; each rank holds its share of the tables.
func TestRanksInProcess(t *testing.T) {
	c, err := parseFlags(smallArgs(writeCorpus(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			want, err := alone(c, n)
			if err != nil {
				t.Fatal(err)
			}
			outs, got := grouptest.RunRanks(t, n, func(g *group.Group) (*model, error) { return runIn(g, c) })
			grouptest.Compare(t, n, outs, want, numbers)
			// The losses too, to the bit (printed to 6 digits).
			c1 := c
			c1.slices = n
			one, err := run(c1, io.Discard, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got.losses, one.losses, func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }) {
				t.Errorf("%d ranks' losses %v, one process's %v", n, got.losses, one.losses)
			}
			for _, share := range shares(t, outs[0], n) {
				if math.Abs(share-100/float64(n)) > 2 {
					t.Errorf("a rank holds %.1f%% of the state:\n%s", share, outs[0])
				}
			}
			t.Log("\n" + outs[0])
		})
	}
}

// shares reads the share of the state each rank holds off the report.
func shares(t *testing.T, report string, n int) []float64 {
	t.Helper()
	var out []float64
	for _, l := range strings.Split(report, "\n") {
		if f := strings.Fields(l); len(f) == 11 && f[7] == "equal" {
			var s float64
			fmt.Sscanf(f[10], "%f%%", &s)
			out = append(out, s)
		}
	}
	if len(out) != n {
		t.Fatalf("%d shares of the state for %d ranks in\n%s", len(out), n, report)
	}
	return out
}

func TestSlicesFlag(t *testing.T) {
	corpus := writeCorpus(t)
	if _, err := parseFlags(append(smallArgs(corpus), "-slices", "65"), nil); err == nil || !strings.Contains(err.Error(), "-slices 65: want 0 to 64") {
		t.Errorf("-slices 65 with -batch 64: %v", err)
	}
	c, err := parseFlags(append(smallArgs(corpus), "-slices", "3"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = grouptest.OnRanks(2, func(g *group.Group) error { _, err := runIn(g, c); return err })
	if err == nil || !strings.Contains(err.Error(), "-slices 3 with 2 ranks") {
		t.Errorf("-slices 3 on 2 ranks: %v", err)
	}
}
