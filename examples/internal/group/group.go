package group

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/adagrad-go/adagrad/collective"
	_ "github.com/adagrad-go/adagrad/collective/mpi" // registers with -tags mpi
	"github.com/adagrad-go/adagrad/sharded"
)

// Group is this process's place in a run: its world, and where it writes.
type Group struct {
	Comm collective.Comm
	// Stdout and Stderr are the program's on rank 0, io.Discard on the
	// others: only rank 0 prints reports and progress.
	Stdout, Stderr io.Writer
	errors         io.Writer // the real stderr, for errors from any rank
	stop           func()
	owned          bool // Close closes Comm: a world of the caller's (New)
}

// process is this process's world, opened by the first Open and closed by
// Exit: MPI cannot start again in a process once it is closed, and a test
// runs a program many times in one process.
var process struct {
	once sync.Once
	comm collective.Comm
	err  error
}

// Open returns this process's group in its world (opened on the first
// call), writing to stdout and stderr. Its Close leaves the world open;
// Exit closes it.
func Open(stdout, stderr io.Writer) (*Group, error) {
	process.once.Do(func() { process.comm, process.err = collective.Open("") })
	if process.err != nil {
		return nil, process.err
	}
	g := New(process.comm, stdout, stderr)
	g.owned = false
	return g, nil
}

// Exit closes this process's world, when Open opened one, and exits with
// status. After a failure (status 1) in a group of more than one it leaves
// the world open, as Close does: closing MPI waits for every rank, and the
// others may be waiting for this one; the launcher then ends the job.
func Exit(status int) { os.Exit(CloseWorld(status)) }

// CloseWorld is Exit without the exit, for a test binary's TestMain: it
// closes this process's world (unless status says this rank failed in a
// group of more than one) and returns status, or 1 when closing fails.
func CloseWorld(status int) int {
	if c := process.comm; c != nil && (status != 1 || c.Size() == 1) {
		if err := c.Close(); err != nil && status == 0 {
			fmt.Fprintf(os.Stderr, "closing the world: %v\n", err)
			status = 1
		}
	}
	return status
}

// New is Open over a world of the caller's (the ranks of
// collective.InProcess, in tests).
func New(c collective.Comm, stdout, stderr io.Writer) *Group {
	g := &Group{Comm: c, Stdout: stdout, Stderr: stderr, errors: stderr, stop: func() {}, owned: true}
	if c.Rank() != 0 {
		g.Stdout, g.Stderr = io.Discard, io.Discard
	}
	if in, ok := c.(collective.Interrupter); ok && c.Size() > 1 {
		// Alone, SIGTERM keeps ending the process at once; in a group it
		// means another rank failed (mpirun then ends the others), and a
		// rank waiting for it would wait until its timeout.
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			select {
			case <-sig:
				in.Interrupt(errors.New("SIGTERM from the launcher: another rank failed"))
			case <-done:
			}
		}()
		g.stop = func() { signal.Stop(sig); close(done) }
	}
	return g
}

// Rank and Size are the world's.
func (g *Group) Rank() int { return g.Comm.Rank() }
func (g *Group) Size() int { return g.Comm.Size() }

// Fail writes err as one line naming the program, and the rank in a group
// of more than one, on any rank.
func (g *Group) Fail(program string, err error) {
	if g.Size() > 1 {
		fmt.Fprintf(g.errors, "%s: rank %d of %d: %v\n", program, g.Rank(), g.Size(), err)
		return
	}
	fmt.Fprintf(g.errors, "%s: %v\n", program, err)
}

// Close ends this group. It closes a world given to New; the process's
// world (Open) stays open for Exit. After a failure in a group of more
// than one it leaves the world open: closing MPI waits for every rank, and
// the others may be waiting for this one. The process then exits non-zero
// without it, and the launcher ends the job.
func (g *Group) Close(failed bool) error {
	g.stop()
	if !g.owned || failed && g.Size() > 1 {
		return nil
	}
	return g.Comm.Close()
}

// Device returns the device spec this rank opens for spec: in a group of
// more than one, the rank's GPU on its machine (see sharded.LocalDevice),
// alone the spec as given.
func (g *Group) Device(spec string) (string, error) {
	if g.Size() == 1 {
		return spec, nil
	}
	return sharded.LocalDevice(spec)
}

// Slices checks a -slices flag (0: not given) against the world and a
// batch of so many items (unit names them): alone, a process computes any
// number of slices one after the other (1 by default); in a group each
// rank computes one, so there are as many as ranks.
func (g *Group) Slices(given, batch int, unit string) (int, error) {
	n := given
	switch {
	case given < 0:
		return 0, fmt.Errorf("-slices %d: want 1 or more", given)
	case g.Size() > 1 && given != 0 && given != g.Size():
		return 0, fmt.Errorf("-slices %d with %d ranks: each rank computes one slice of every batch (leave -slices out)", given, g.Size())
	case given == 0:
		n = g.Size()
	}
	if n > batch {
		return 0, fmt.Errorf("%d slices: more than the %d %s of a batch", n, batch, unit)
	}
	return n, nil
}

// SliceSizes says how many items the slices of a batch hold: "11", or
// "10 to 11".
func SliceSizes(batch, slices int) string {
	lo, hi := Slice(batch, slices, 0)
	last, end := Slice(batch, slices, slices-1)
	a, b := min(hi-lo, end-last), max(hi-lo, end-last)
	if a == b {
		return fmt.Sprint(a)
	}
	return fmt.Sprintf("%d to %d", a, b)
}

// Mine returns the slices [first, last) of slices that this process
// computes: its own in a group, all of them alone.
func (g *Group) Mine(slices int) (first, last int) {
	if g.Size() == 1 {
		return 0, slices
	}
	return g.Rank(), g.Rank() + 1
}

// Slice returns slice k of slices of n items: [n·k/slices, n·(k+1)/slices),
// as collective.Split cuts.
func Slice(n, slices, k int) (lo, hi int) {
	return collective.Bound(n, slices, k), collective.Bound(n, slices, k+1)
}

// ErrWholeCheckpoint refuses a .safetensors checkpoint path in a group of
// more than one: each rank writes its own rows, to a .json manifest's part
// files.
var ErrWholeCheckpoint = errors.New("a run of several ranks writes a sharded checkpoint (a part file per rank): give a .json manifest")
