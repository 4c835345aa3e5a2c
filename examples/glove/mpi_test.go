//go:build mpi

package main

import (
	"os"
	"testing"

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
	corpus := writeCorpus(t)
	c, err := parseFlags(smallArgs(corpus), nil)
	if err != nil {
		t.Fatal(err)
	}
	grouptest.UnderMpirun(t, "TestRankCommand", numbers, func(np int) (string, error) { return alone(c, np) }, "GLOVE_CORPUS="+corpus)
}

func TestRankCommand(t *testing.T) {
	corpus := os.Getenv("GLOVE_CORPUS")
	if corpus == "" {
		t.Skip("launched by TestUnderMpirun")
	}
	grouptest.RankCommand(t, command, smallArgs(corpus))
}
