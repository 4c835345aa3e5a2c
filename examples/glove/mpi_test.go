//go:build mpi

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/internal/mpirun"
)

func TestMain(m *testing.M) { os.Exit(mpirun.Main(m)) }

// TestUnderMpirun: the program, launched by mpirun on 1, 2 and 3 ranks,
// prints the numbers that one process computing as many slices prints,
// bit for bit; with more than one rank, the bytes every rank sent per
// step equal the count on paper.
func TestUnderMpirun(t *testing.T) {
	corpus := writeCorpus(t)
	c, err := parseFlags(smallArgs(corpus), nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for np := 1; np <= 3; np++ {
		t.Run(fmt.Sprint(np), func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("np%d.txt", np))
			mpirun.Test(t, np, "^TestRankCommand$", "GLOVE_OUT="+path, "GLOVE_CORPUS="+corpus)
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
	path, corpus := os.Getenv("GLOVE_OUT"), os.Getenv("GLOVE_CORPUS")
	if path == "" || corpus == "" {
		t.Skip("launched by TestUnderMpirun")
	}
	var stdout, stderr bytes.Buffer
	if code := command(smallArgs(corpus), &stdout, &stderr); code != 0 {
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
