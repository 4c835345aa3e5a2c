package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/checkpoint"
	"github.com/adagrad-go/adagrad/examples/internal/group"
	"github.com/adagrad-go/adagrad/examples/internal/grouptest"
)

// smallArgs is a run of a fraction of a second: no tuning, two epochs.
var smallArgs = []string{"-device", "cpu", "-progress", "none", "-samples", "3000", "-features", "3000", "-epochs", "2", "-lr", "0.1", "-sgd-lr", "0.5"}

// numbers is the part of a report whose numbers N ranks and one process
// with -slices N print alike: from the training table to the verdict.
func numbers(report string) string {
	return grouptest.Between(report, "Training on all", "Time:", regexp.MustCompile(`^\s*\(tuning took`))
}

// alone is what one process computing n slices prints.
func alone(c config, n int) (string, error) {
	c.slices = n
	var out strings.Builder
	_, err := run(c, &out, nil)
	return out.String(), err
}

// checkComm checks the ranks' traffic report: measured equal to the paper
// on every rank, and each rank holding its share of the state.
func checkComm(t *testing.T, res *result, n, features int) {
	t.Helper()
	if len(res.comm) != n {
		t.Fatalf("%d ranks' reports for %d ranks", len(res.comm), n)
	}
	total := int64(2 * 4 * (features + 1))
	var held int64
	for r, rep := range res.comm {
		if !rep.Equal() {
			t.Errorf("rank %d of %d: measured %+v (loss %d), on paper %+v (loss %d)", r, n, rep.Measured, rep.LossMeasured, rep.Paper, rep.LossPaper)
		}
		held += rep.Held
		if share := float64(rep.Held) / float64(total); math.Abs(share-1/float64(n)) > 0.01 {
			t.Errorf("rank %d of %d holds %.3f of the state", r, n, share)
		}
	}
	if held != total {
		t.Errorf("the ranks hold %d bytes of state in all, the model %d", held, total)
	}
}

// TestRanksInProcess: 2 and 3 ranks (in one process, over channels) print
// the numbers that one process computing as many slices prints, bit for
// bit; only rank 0 prints; the bytes each rank sent per step equal the
// count on paper; each rank holds its share of the state.
func TestRanksInProcess(t *testing.T) {
	c, err := parseFlags(smallArgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			want, err := alone(c, n)
			if err != nil {
				t.Fatal(err)
			}
			outs, res := grouptest.RunRanks(t, n, func(g *group.Group) (*result, error) { return runIn(g, c) })
			grouptest.Compare(t, n, outs, want, numbers)
			checkComm(t, res, n, 3000)
			t.Log("\n" + outs[0])
		})
	}
}

// TestSlicesFlag: -slices is checked against the batch, and against the
// number of ranks.
func TestSlicesFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-slices", "0"}, "-slices 0: want 1 to 32 (at most -batch)"},
		{[]string{"-slices", "33"}, "-slices 33: want 1 to 32"},
		{[]string{"-batch", "4", "-slices", "5"}, "-slices 5: want 1 to 4"},
	} {
		if _, err := parseFlags(c.args, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.args, err, c.want)
		}
	}
	c, err := parseFlags(append(smallArgs, "-slices", "2"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = grouptest.OnRanks(3, func(g *group.Group) error { _, err := runIn(g, c); return err })
	if err == nil || !strings.Contains(err.Error(), "-slices 2 with 3 ranks") {
		t.Errorf("-slices 2 on 3 ranks: %v", err)
	}
	c.slices, c.checkpoint = 0, t.TempDir()+"/run.safetensors"
	_, err = grouptest.OnRanks(2, func(g *group.Group) error { _, err := runIn(g, c); return err })
	if err == nil || !strings.Contains(err.Error(), "give a .json manifest") {
		t.Errorf("a .safetensors checkpoint on 2 ranks: %v", err)
	}
}

// TestRanksCheckpoint: 3 ranks train an epoch with a sharded checkpoint
// (a .json manifest, a part file per rank), which consolidates into the
// file one process computing 3 slices writes, byte for byte; 2 ranks
// resume from it for a second epoch and print what one process does that
// resumes from its own file with -slices 2.
func TestRanksCheckpoint(t *testing.T) {
	dir := t.TempDir()
	c, err := parseFlags(append(smallArgs, "-epochs", "1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	one, ranks := c, c
	one.slices, one.checkpoint = 3, filepath.Join(dir, "one.safetensors")
	ranks.checkpoint = filepath.Join(dir, "run.json")
	if _, err := run(one, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	grouptest.RunRanks(t, 3, func(g *group.Group) (*result, error) { return runIn(g, ranks) })
	consolidated := filepath.Join(dir, "consolidated.safetensors")
	if err := checkpoint.Consolidate(ranks.checkpoint, consolidated); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(one.checkpoint)
	b, _ := os.ReadFile(consolidated)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("3 ranks' checkpoint consolidated: %d bytes, one process's %d", len(b), len(a))
	}
	one.epochs, ranks.epochs = 2, 2
	want, err := alone(one, 2)
	if err != nil {
		t.Fatal(err)
	}
	outs, _ := grouptest.RunRanks(t, 2, func(g *group.Group) (*result, error) { return runIn(g, ranks) })
	if !strings.Contains(outs[0], "Adagrad resumed from "+ranks.checkpoint+" after 75 of 150 steps") {
		t.Errorf("2 ranks did not resume:\n%s", outs[0])
	}
	got := strings.ReplaceAll(numbers(outs[0]), ranks.checkpoint, one.checkpoint)
	if got != numbers(want) {
		t.Errorf("2 ranks resumed print\n%s\none process resumed\n%s", got, numbers(want))
	}
}

// TestRanksInProcessSparsity: the L1 study on 2 ranks prints the numbers
// one process computing 2 slices prints, bit for bit, with dense gradients
// (proximal) and row-sparse ones (proximal-lazy, da).
func TestRanksInProcessSparsity(t *testing.T) {
	for _, rule := range []string{"proximal", "proximal-lazy", "da"} {
		t.Run(rule, func(t *testing.T) {
			c, err := parseFlags(append(slices.Clone(smallArgs), "-sparsity", rule, "-l1", "1e-3"), nil)
			if err != nil {
				t.Fatal(err)
			}
			want, err := alone(c, 2)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(want, "rule "+sparsityRules[rule].rule.String()) {
				t.Fatalf("no L1 study in the report:\n%s", want)
			}
			outs, _ := grouptest.RunRanks(t, 2, func(g *group.Group) (*result, error) { return runIn(g, c) })
			grouptest.Compare(t, 2, outs, want, numbers)
		})
	}
}
