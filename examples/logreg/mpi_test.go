//go:build mpi

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/adagrad-go/adagrad/examples/internal/group"
	"github.com/adagrad-go/adagrad/examples/internal/grouptest"
	"github.com/adagrad-go/adagrad/internal/mpirun"
)

// TestMain closes, after the tests, the world that the program's runs
// opened (once: MPI cannot start again in a process).
func TestMain(m *testing.M) { os.Exit(group.CloseWorld(mpirun.Main(m))) }

// TestUnderMpirun: the program, launched by mpirun on 1, 2 and 3 ranks,
// prints the numbers that one process computing as many slices prints,
// bit for bit; with more than one rank, the bytes every rank sent per
// step equal the count on paper.
func TestUnderMpirun(t *testing.T) {
	c, err := parseFlags(smallArgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	grouptest.UnderMpirun(t, "TestRankCommand", numbers, func(np int) (string, error) { return alone(c, np) })
}

func TestRankCommand(t *testing.T) { grouptest.RankCommand(t, command, smallArgs) }

// TestFaultUnderMpirun: one rank of three fails (its data file is bad):
// it says so, naming its rank, and exits; the launcher ends the job, and
// the other two, blocked waiting for it, say why they stop. The job ends
// within a bounded time.
func TestFaultUnderMpirun(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.libsvm"), filepath.Join(dir, "bad.libsvm")
	if err := writeFile(good, generate(400, 200, 5, 3)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("1 1:1\n3 2:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const bound = 60 * time.Second
	r := mpirun.Run(t, 3, "^TestRankFault$", 2*bound, "LOGREG_GOOD="+good, "LOGREG_BAD="+bad)
	if r.Err == nil {
		t.Fatalf("the job succeeded:\n%s", r.Output)
	}
	if r.Elapsed > bound {
		t.Errorf("the job took %v to end", r.Elapsed)
	}
	for _, want := range []string{
		`logreg: rank 1 of 3: .*bad.libsvm: line 2: label "3"`,
		`logreg: rank [02] of 3: .*interrupted.*SIGTERM from the launcher: another rank failed`,
	} {
		if !regexp.MustCompile(want).MatchString(r.Output) {
			t.Errorf("no %q in the job's output:\n%s", want, r.Output)
		}
	}
	t.Logf("ended after %v:\n%s", r.Elapsed.Round(time.Millisecond), r.Output)
}

// TestRankFault is one rank of TestFaultUnderMpirun: the program, as main
// runs it and exits.
func TestRankFault(t *testing.T) {
	w := mpirun.World(t)
	good, bad := os.Getenv("LOGREG_GOOD"), os.Getenv("LOGREG_BAD")
	if good == "" || bad == "" {
		t.Skip("launched by TestFaultUnderMpirun")
	}
	data := good
	if w.Rank() == 1 {
		data = bad
	}
	os.Exit(command([]string{"-device", "cpu", "-progress", "none", "-data", data, "-lr", "0.1", "-sgd-lr", "0.5"}, os.Stdout, os.Stderr))
}
