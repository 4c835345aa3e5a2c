//go:build mpi

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/adagrad-go/adagrad/internal/mpirun"
)

func TestMain(m *testing.M) { os.Exit(mpirun.Main(m)) }

// TestUnderMpirun: the program, launched by mpirun on 1, 2 and 3 ranks,
// prints the numbers that one process computing as many slices prints,
// bit for bit; with more than one rank, the bytes every rank sent per
// step equal the count on paper.
func TestUnderMpirun(t *testing.T) {
	c, err := parseFlags(smallArgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for np := 1; np <= 3; np++ {
		t.Run(fmt.Sprint(np), func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("np%d.txt", np))
			mpirun.Test(t, np, "^TestRankCommand$", "LOGREG_OUT="+path)
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			alone := c
			alone.slices = np
			var want strings.Builder
			if _, err := run(alone, &want, nil); err != nil {
				t.Fatal(err)
			}
			if numbers(string(got)) != numbers(want.String()) {
				t.Errorf("mpirun -np %d prints\n%s\none process with -slices %d\n%s", np, got, np, want.String())
			}
			if np > 1 && (strings.Count(string(got), "  equal ") != np || strings.Contains(string(got), "DIFF")) {
				t.Errorf("mpirun -np %d: the bytes sent are not the count on paper:\n%s", np, got)
			}
			t.Logf("mpirun -np %d:\n%s", np, got)
		})
	}
}

// TestRankCommand is one rank of TestUnderMpirun: the program as main
// runs it; rank 0 saves what it printed, the others print nothing.
func TestRankCommand(t *testing.T) {
	w := mpirun.World(t)
	path := os.Getenv("LOGREG_OUT")
	if path == "" {
		t.Skip("launched by TestUnderMpirun")
	}
	var stdout, stderr bytes.Buffer
	if code := command(smallArgs, &stdout, &stderr); code != 0 {
		t.Fatalf("rank %d: exit %d: %s", w.Rank(), code, stderr.String())
	}
	if w.Rank() != 0 {
		if stdout.Len() > 0 || stderr.Len() > 0 {
			t.Errorf("rank %d printed %q and %q", w.Rank(), stdout.String(), stderr.String())
		}
		return
	}
	if err := os.WriteFile(path, stdout.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

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
