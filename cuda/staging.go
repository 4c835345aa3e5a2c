//go:build cuda

package cuda

import (
	"runtime"
	"sync"

	"gorgonia.org/cu"
)

// Host→device copies go through a ring of page-locked staging slots: the
// source is copied into a slot and the slot is copied to the device
// asynchronously, at the pinned rate, while the next slot is being filled.
// An event per slot says when its last copy has left, so a slot is never
// overwritten while the driver still reads it.
const (
	slotBytes = 8 << 20
	slotCount = 4
)

type slot struct {
	mem     pinned
	done    cu.Event
	pending bool
}

type stager struct {
	slots [slotCount]slot
	next  int
}

// newStager runs on the worker thread.
func newStager() (*stager, error) {
	s := &stager{}
	for i := range s.slots {
		mem, err := allocPinned(slotBytes)
		if err != nil {
			s.free()
			return nil, err
		}
		s.slots[i].mem = mem
		ev, err := cu.MakeEvent(cu.DisableTiming)
		if err != nil {
			s.free()
			return nil, wrap("cuEventCreate", err)
		}
		s.slots[i].done = ev
	}
	return s, nil
}

// upload copies host to dst on stream, one slot at a time.
func (s *stager) upload(dst cu.DevicePtr, host []byte, stream cu.Stream) error {
	for len(host) > 0 {
		sl := &s.slots[s.next]
		s.next = (s.next + 1) % slotCount
		if sl.pending {
			if err := sl.done.Synchronize(); err != nil {
				return wrap("cuEventSynchronize", err)
			}
			sl.pending = false
		}
		n := parallelCopy(sl.mem.bytes(), host)
		if err := cu.MemcpyHtoDAsync(dst, sl.mem.ptr, int64(n), stream); err != nil {
			return wrap("cuMemcpyHtoDAsync", err)
		}
		if err := sl.done.Record(stream); err != nil {
			return wrap("cuEventRecord", err)
		}
		sl.pending = true
		dst += cu.DevicePtr(n)
		host = host[n:]
	}
	return nil
}

func (s *stager) free() error {
	var first error
	for i := range s.slots {
		sl := &s.slots[i]
		if sl.done != (cu.Event{}) {
			if err := wrap("cuEventDestroy", cu.DestroyEvent(&sl.done)); err != nil && first == nil {
				first = err
			}
		}
		if err := sl.mem.free(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// parallelCopy is copy(dst, src) on several cores for large pieces: one
// core's memcpy into page-locked memory is slower than the host link.
func parallelCopy(dst, src []byte) int {
	n := min(len(dst), len(src))
	const piece = 1 << 20
	workers := min(runtime.GOMAXPROCS(0), 8, n/piece)
	if workers <= 1 {
		return copy(dst, src)
	}
	per := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += per {
		hi := min(lo+per, n)
		wg.Go(func() { copy(dst[lo:hi], src[lo:hi]) })
	}
	wg.Wait()
	return n
}
