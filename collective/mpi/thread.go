//go:build mpi

package mpi

import (
	"fmt"
	"runtime"
)

// thread runs every MPI call of the process on one locked OS thread, the
// one that initialised MPI: with MPI_THREAD_FUNNELED only that thread may
// call MPI, and Go moves goroutines between threads freely. It is started
// once and lives as long as the process (MPI cannot start twice).
type thread struct {
	jobs chan func()
}

func startThread() *thread {
	t := &thread{jobs: make(chan func())}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread is MPI's
		for job := range t.jobs {
			job()
		}
	}()
	return t
}

// do runs f on the MPI thread and returns its error; a panic in f comes
// back as an error, never at the caller.
func (t *thread) do(f func() error) error {
	errc := make(chan error, 1)
	t.jobs <- func() { errc <- guard(f) }
	return <-errc
}

func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("collective/mpi: panic on the MPI thread: %v", r)
		}
	}()
	return f()
}
