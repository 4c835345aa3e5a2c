//go:build mpi

package grouptest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/adagrad-go/adagrad/internal/mpirun"
)

// outVar names the file where rank 0 of RankCommand saves what it printed.
const outVar = "ADAGRAD_EXAMPLE_OUT"

// UnderMpirun launches the test rankTest (which calls RankCommand) on 1, 2
// and 3 ranks, with env added, and Compares what rank 0 printed with what
// alone(np) prints: one process computing np slices.
func UnderMpirun(t *testing.T, rankTest string, numbers func(string) string, alone func(np int) (string, error), env ...string) {
	dir := t.TempDir()
	for np := 1; np <= 3; np++ {
		t.Run(fmt.Sprint(np), func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("np%d.txt", np))
			mpirun.Test(t, np, "^"+rankTest+"$", append(env, outVar+"="+path)...)
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want, err := alone(np)
			if err != nil {
				t.Fatal(err)
			}
			// The ranks but 0 printed nothing: RankCommand checked.
			outs := append([]string{string(got)}, make([]string, np-1)...)
			Compare(t, np, outs, want, numbers)
			t.Logf("mpirun -np %d:\n%s", np, got)
		})
	}
}

// RankCommand is the body of the test that UnderMpirun launches on every
// rank: it runs the program as main does (command), and rank 0 saves what
// it printed; the other ranks must print nothing.
func RankCommand(t *testing.T, command func(args []string, stdout, stderr io.Writer) int, args []string) {
	w := mpirun.World(t)
	path := os.Getenv(outVar)
	if path == "" {
		t.Skip("launched by UnderMpirun")
	}
	var stdout, stderr bytes.Buffer
	if code := command(args, &stdout, &stderr); code != 0 {
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
