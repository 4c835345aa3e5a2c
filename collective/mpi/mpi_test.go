//go:build mpi

package mpi_test

import (
	"errors"
	"os"
	"testing"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/collective/collectivetest"
	"github.com/adagrad-go/adagrad/collective/mpi"
	"github.com/adagrad-go/adagrad/internal/mpirun"
)

func TestMain(m *testing.M) { os.Exit(mpirun.Main(m)) }

func needWorld(t *testing.T) *mpi.Comm { return mpirun.World(t) }

// TestUnderMpirun runs the rank tests on 1, 2 and 3 ranks.
func TestUnderMpirun(t *testing.T) {
	mpirun.OnSizes(t, "^TestRank")
}

// TestRankSuite is the conformance suite, on MPI's world and on a
// communicator that cuts messages into chunks of a few kilobytes (as
// transfers of 2³¹ bytes or more are cut).
func TestRankSuite(t *testing.T) {
	w := needWorld(t)
	collectivetest.Run(t, w)
	small, err := mpi.Open(mpi.Options{Timeout: mpirun.Timeout(), MaxMessage: 4093})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	t.Run("SmallMessages", func(t *testing.T) { collectivetest.Run(t, small) })
}

// TestRankSizeMismatch: a peer that sends more, or less, than a rank
// expects makes that rank's call fail with collective.ErrSize; the Comm is
// then broken, but still closes.
func TestRankSizeMismatch(t *testing.T) {
	w := needWorld(t)
	if w.Size() < 2 {
		t.Skip("needs 2 ranks")
	}
	for _, extra := range []int{1, -1} {
		c, err := mpi.Open(mpi.Options{Timeout: mpirun.Timeout()})
		if err != nil {
			t.Fatal(err)
		}
		n := w.Size()
		send, recv := make([][]byte, n), make([][]byte, n)
		for r := range n {
			send[r], recv[r] = make([]byte, 10), make([]byte, 10)
		}
		if w.Rank() == 0 {
			recv[1] = make([]byte, 10-extra)
		}
		err = c.AllToAll(send, recv)
		switch {
		case w.Rank() == 0 && !errors.Is(err, collective.ErrSize):
			t.Errorf("rank 1 sends %+d bytes more than rank 0 expects: %v, want ErrSize", extra, err)
		case w.Rank() != 0 && err != nil:
			t.Errorf("rank %d: %v", w.Rank(), err)
		}
		t.Logf("rank %d, %+d bytes: %v", w.Rank(), extra, err)
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	}
}

// TestLargeUnderMpirun sends more than 2³¹−1 bytes between two ranks with
// the default message limit, so that a transfer is cut into messages whose
// counts fit MPI's C int. It needs about 9 GB of memory and a few seconds:
// it runs when ADAGRAD_MPI_LARGE=1.
func TestLargeUnderMpirun(t *testing.T) {
	if os.Getenv("ADAGRAD_MPI_LARGE") != "1" {
		t.Skip("set ADAGRAD_MPI_LARGE=1 (needs about 9 GB)")
	}
	mpirun.Test(t, 2, "^TestLargeRank$", "ADAGRAD_MPI_LARGE=1")
}

func TestLargeRank(t *testing.T) {
	w := needWorld(t)
	if os.Getenv("ADAGRAD_MPI_LARGE") != "1" || w.Size() != 2 {
		t.Skip("launched by TestLargeUnderMpirun")
	}
	const n = 1<<31 + 13
	me, peer := w.Rank(), 1-w.Rank()
	send := make([]byte, n)
	for i := 0; i < n; i += 4093 {
		send[i] = byte(me*7 + i)
	}
	send[n-1] = byte(me + 100)
	bufs := [][]byte{nil, nil}
	bufs[peer] = make([]byte, n)
	out := [][]byte{nil, nil}
	out[peer] = send
	if err := w.AllToAll(out, bufs); err != nil {
		t.Fatal(err)
	}
	got := bufs[peer]
	for i := 0; i < n; i += 4093 {
		if got[i] != byte(peer*7+i) {
			t.Fatalf("byte %d: %d, want %d", i, got[i], byte(peer*7+i))
		}
	}
	if got[n-1] != byte(peer+100) {
		t.Fatalf("last byte %d, want %d", got[n-1], peer+100)
	}
}
