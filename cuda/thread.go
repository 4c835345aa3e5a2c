//go:build cuda

package cuda

import (
	"fmt"
	"runtime"
)

// worker runs every CUDA call of one backend on one locked OS thread, the
// thread whose current context is the backend's: CUDA contexts are per
// thread, and Go moves goroutines between threads freely. Callers may use
// the backend from any goroutine.
type worker struct {
	jobs chan func()
	done chan struct{}
}

// startWorker starts the thread and runs setup on it first.
func startWorker(setup func() error) (*worker, error) {
	w := &worker{jobs: make(chan func()), done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with the goroutine, taking the
		// context binding with it.
		runtime.LockOSThread()
		defer close(w.done)
		if err := guard(setup); err != nil {
			ready <- err
			return
		}
		ready <- nil
		for job := range w.jobs {
			job()
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return w, nil
}

// do runs f on the worker's thread and returns its error.
func (w *worker) do(f func() error) error {
	errc := make(chan error, 1)
	w.jobs <- func() { errc <- guard(f) }
	return <-errc
}

// stop ends the thread once queued jobs are done.
func (w *worker) stop() {
	close(w.jobs)
	<-w.done
}

// guard turns a panic inside a CUDA binding call into an error: the
// library never panics at its caller.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cuda: panic in driver call: %v", r)
		}
	}()
	return f()
}
