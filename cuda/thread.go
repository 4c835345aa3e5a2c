//go:build cuda

package cuda

import (
	"fmt"
	"runtime"

	"gorgonia.org/cu"
)

// CUDA contexts are current per OS thread, and Go moves goroutines between
// threads freely. Each call of the backend therefore runs on the calling
// goroutine, locked to its thread for the call, with the backend's context
// made current on entry and the thread's previous context (usually none)
// restored on exit: two cuCtxSetCurrent calls, well under a microsecond,
// where handing the call to a thread of the backend's own cost about 20 µs
// on an H100 host (waking a sleeping thread). The backend's mutex keeps
// calls from overlapping.
//
// The package calls only gorgonia.org/cu's plain functions (cu.MemAlloc,
// Stream.Synchronize, ...), which act on the calling thread's current
// context; never its Ctx type, which runs calls on a goroutine of its own.

// bound runs f on the calling goroutine's thread with b's context current.
// The caller holds b.mu.
func (b *Backend) bound(f func() error) (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	prev, err := cu.CurrentContext()
	if err != nil {
		return wrap("cuCtxGetCurrent", err)
	}
	if prev != b.ctx {
		if err := cu.SetCurrentContext(b.ctx); err != nil {
			return wrap("cuCtxSetCurrent", err)
		}
		defer func() {
			if rerr := cu.SetCurrentContext(prev); err == nil {
				err = wrap("cuCtxSetCurrent", rerr)
			}
		}()
	}
	return guard(f)
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
