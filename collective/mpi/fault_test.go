//go:build mpi

package mpi_test

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/internal/mpirun"
)

// TestFaults: a rank that dies (killed, or exiting with an error) or that
// hangs ends a 3-rank job within a bounded time, with a message from the
// launcher naming it and one from every other rank saying why it stopped.
func TestFaults(t *testing.T) {
	const bound = 60 * time.Second
	// The other ranks hear that the job ends by SIGTERM from mpirun, or,
	// should they be waiting too long for rank 1 first, by their timeout.
	const others = `rank %d: step \d+: .*(interrupted.*SIGTERM|timed out.*rank 1)`
	for _, c := range []struct {
		mode    string
		timeout time.Duration // the ranks'
		want    []string      // in the job's output, as regular expressions
	}{
		// mpirun names the rank.
		{"kill", 20 * time.Second, []string{`rank 1 .*signal 9`, fmt.Sprintf(others, 0), fmt.Sprintf(others, 2)}},
		{"exit", 20 * time.Second, []string{`rank 1: failing on purpose`, `(?s)non-zero.*Exit code: +3`, fmt.Sprintf(others, 0), fmt.Sprintf(others, 2)}},
		// A rank that hangs alive is caught by the others' timeout.
		{"hang", 3 * time.Second, []string{`rank [02]: step \d+: .*timed out.*rank 1`}},
	} {
		t.Run(c.mode, func(t *testing.T) {
			// mpirun sends SIGCONT, then SIGTERM, then SIGKILL to the other
			// ranks, odls_base_sigkill_timeout seconds apart (1 by default):
			// 3 leaves an oversubscribed rank time to print.
			r := mpirun.Run(t, 3, "^TestFaultyRank$", 2*bound, "ADAGRAD_FAULT="+c.mode, "ADAGRAD_TEST_TIMEOUT="+c.timeout.String(),
				"OMPI_MCA_odls_base_sigkill_timeout=3")
			if r.Err == nil {
				t.Fatalf("the job succeeded:\n%s", r.Output)
			}
			if r.Elapsed > bound {
				t.Errorf("the job took %v to end, want under %v", r.Elapsed, bound)
			}
			for _, w := range c.want {
				if !regexp.MustCompile(w).MatchString(r.Output) {
					t.Errorf("no %q in the job's output:\n%s", w, r.Output)
				}
			}
			t.Logf("ended after %v (%v)", r.Elapsed.Round(time.Millisecond), r.Err)
			if testing.Verbose() {
				t.Log(r.Output)
			}
		})
	}
}

// TestFaultyRank is launched by TestFaults: the ranks run steps of
// reduce-scatter and all-gather (as training does) until rank 1 fails in
// the way ADAGRAD_FAULT says at step 20. A program hears that the launcher
// ends the job by SIGTERM; it interrupts the world, so that its blocked
// call returns an error it can print.
func TestFaultyRank(t *testing.T) {
	w := needWorld(t)
	mode := os.Getenv("ADAGRAD_FAULT")
	if mode == "" {
		t.Skip("launched by TestFaults")
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)

	go func() {
		<-sig
		w.Interrupt(errors.New("SIGTERM from the launcher: another rank failed"))
	}()
	buf := make([]float32, 1<<16)
	for step := 0; ; step++ {
		if w.Rank() == 1 && step == 20 {
			switch mode {
			case "kill":
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			case "exit":
				fmt.Println("rank 1: failing on purpose")
				os.Exit(3)
			case "hang":
				time.Sleep(time.Hour)
			}
		}
		if err := collective.AllReduce(w, buf); err != nil {
			fmt.Printf("rank %d: step %d: %v\n", w.Rank(), step, err)
			os.Exit(1)
		}
	}
}
