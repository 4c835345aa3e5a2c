// Package mpirun runs tests under Open MPI's mpirun: a test binary built
// with -tags mpi launches itself as N ranks (Test, OnSizes), and each rank,
// seeing that it was launched (Launched), opens the MPI world (Main) and
// runs the tests that need one (World). Where mpirun is absent the
// launching tests are skipped. Main and World are in world.go, built with
// the tag only; the rest is pure Go.
package mpirun

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Launched reports whether this process is a rank started by mpirun
// (Open MPI's or a PMI launcher's).
func Launched() bool {
	return os.Getenv("OMPI_COMM_WORLD_SIZE") != "" || os.Getenv("PMI_SIZE") != ""
}

// Path returns mpirun's path, or "" where it is not installed.
func Path() string {
	p, err := exec.LookPath("mpirun")
	if err != nil {
		return ""
	}
	return p
}

// Command returns mpirun starting np ranks of prog on this machine: more
// ranks than cores allowed (--oversubscribe), as root too (CI containers
// run as root).
func Command(ctx context.Context, np int, prog string, args ...string) *exec.Cmd {
	full := []string{"-np", fmt.Sprint(np), "--oversubscribe"}
	if os.Geteuid() == 0 {
		full = append(full, "--allow-run-as-root")
	}
	full = append(full, prog)
	return exec.CommandContext(ctx, Path(), append(full, args...)...)
}

// Result is what one launch did.
type Result struct {
	Output  string
	Err     error // from the launch: nil when every rank exited 0
	Elapsed time.Duration
}

// Run starts np ranks of this test binary running the tests that match
// pattern, with env added to their environment, and waits at most limit.
// It skips t where mpirun is absent.
func Run(t *testing.T, np int, pattern string, limit time.Duration, env ...string) Result {
	t.Helper()
	if Launched() {
		t.Skip("a rank does not launch ranks")
	}
	if Path() == "" {
		t.Skip("mpirun not installed (Debian: openmpi-bin)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	// -test.v always: Test looks for each rank's "--- PASS".
	args := []string{"-test.run", pattern, "-test.count", "1", "-test.timeout", limit.String(), "-test.v"}
	cmd := Command(ctx, np, os.Args[0], args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("mpirun -np %d still running after %v: %w", np, limit, ctx.Err())
	}
	return Result{Output: out.String(), Err: err, Elapsed: time.Since(start)}
}

// Test runs the tests matching pattern on np ranks (see Run) and fails t,
// with every rank's output, unless all pass.
func Test(t *testing.T, np int, pattern string, env ...string) {
	t.Helper()
	r := Run(t, np, pattern, 5*time.Minute, env...)
	if r.Err != nil {
		t.Fatalf("mpirun -np %d %s: %v\n%s", np, pattern, r.Err, indent(r.Output))
	}
	if strings.Count(r.Output, "--- PASS") < np {
		t.Fatalf("mpirun -np %d %s: no test ran:\n%s", np, pattern, indent(r.Output))
	}
	if testing.Verbose() {
		t.Logf("mpirun -np %d (%v):\n%s", np, r.Elapsed.Round(time.Millisecond), indent(r.Output))
	}
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n\t")
}

// Timeout is the ranks' timeout in tests: short, so that a broken test
// ends soon, or as $ADAGRAD_TEST_TIMEOUT says (a launching test sets it).
func Timeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("ADAGRAD_TEST_TIMEOUT")); err == nil {
		return d
	}
	return time.Minute
}
