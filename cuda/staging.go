//go:build cuda

package cuda

import (
	"runtime"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/adagrad-go/adagrad/internal/launch"
)

// Transfers between Go memory and the device go through a ring of
// page-locked staging slots, so that the copy engines move them at the
// pinned rate (from pageable memory the driver stages them itself, at a
// fraction of it). A transfer of more than one chunk (launch.Chunk: 256
// KiB to a slot) is a pipeline (launch.Upload, launch.Download): uploads
// copy chunk k into a slot on a worker goroutine while the DMA of chunk k−1
// is in flight, several chunks being copied at once on as many cores;
// downloads queue the DMAs of the next slots while earlier chunks are
// copied out. Each slot's event says
// when the device is done with it, so a slot is never overwritten while the
// driver still reads it (or a kernel, for the small inputs that kernels
// read from mapped staging memory directly: see Backend.UpdateRows and
// Backend.ReadRows).
const (
	// slotBytes is the size of one slot, the largest chunk.
	slotBytes = 1 << 20
	// slotCount is the number of slots: 32 MiB of page-locked memory.
	slotCount = 32
)

// copyWorkers bounds the goroutines that copy chunks at once (and the
// chunks in flight); 0 means min(GOMAXPROCS, 8). The internal benchmarks
// vary it.
var copyWorkers = 0

type slot struct {
	mem     pinned // a slotBytes piece of stager.mem
	done    cu.Event
	pending bool // done was recorded after work that uses the slot
}

func (s *slot) bytes() []byte { return unsafe.Slice((*byte)(s.mem.ptr), s.mem.size) }

type stager struct {
	mem   pinned // one allocation, cut into the slots
	slots [slotCount]slot
	next  int
}

// newStager allocates the slots, with the backend's context current.
func newStager() (*stager, error) {
	mem, err := allocPinned(slotCount * slotBytes)
	if err != nil {
		return nil, err
	}
	s := &stager{mem: mem}
	for i := range s.slots {
		s.slots[i].mem = pinned{ptr: unsafe.Add(mem.ptr, i*slotBytes), dev: mem.dev + cu.DevicePtr(i*slotBytes), size: slotBytes}
		ev, err := cu.MakeEvent(cu.DisableTiming)
		if err != nil {
			s.free()
			return nil, wrap("cuEventCreate", err)
		}
		s.slots[i].done = ev
	}
	return s, nil
}

// take returns the next slot of the ring once nothing uses it any more.
func (s *stager) take() (*slot, error) {
	sl := &s.slots[s.next]
	s.next = (s.next + 1) % slotCount
	if sl.pending {
		if err := sl.done.Synchronize(); err != nil {
			return nil, wrap("cuEventSynchronize", err)
		}
		sl.pending = false
	}
	return sl, nil
}

// used records, on stream, that the work queued there so far uses sl.
func (s *stager) used(sl *slot, stream cu.Stream) error {
	if err := sl.done.Record(stream); err != nil {
		return wrap("cuEventRecord", err)
	}
	sl.pending = true
	return nil
}

// idle marks every slot free: all queued work has finished.
func (s *stager) idle() {
	for i := range s.slots {
		s.slots[i].pending = false
	}
}

func workers() int {
	if copyWorkers > 0 {
		return copyWorkers
	}
	return min(runtime.GOMAXPROCS(0), 8)
}

// upload copies host to dst on stream (launch.Upload's pipeline). It
// returns once host has been copied into staging memory.
func (s *stager) upload(dst cu.DevicePtr, host []byte, stream cu.Stream) error {
	take := func() (*slot, []byte, error) {
		sl, err := s.take()
		if err != nil {
			return nil, nil, err
		}
		return sl, sl.bytes(), nil
	}
	chunk := launch.Chunk(len(host), slotBytes)
	return launch.Upload(host, chunk, min(workers(), slotCount/2), take, func(k int, sl *slot, n int) error {
		if err := cu.MemcpyHtoDAsync(dst+cu.DevicePtr(k*chunk), sl.mem.ptr, int64(n), stream); err != nil {
			return wrap("cuMemcpyHtoDAsync", err)
		}
		return s.used(sl, stream)
	})
}

// download copies src to host on stream, after the work queued there
// (launch.Download's pipeline), and returns once host holds it: the last
// event it waits for follows everything queued on stream before.
func (s *stager) download(host []byte, src cu.DevicePtr, stream cu.Stream) error {
	chunk := launch.Chunk(len(host), slotBytes)
	fetch := func(k, n int) (*slot, []byte, error) {
		sl, err := s.take()
		if err != nil {
			return nil, nil, err
		}
		if err := cu.MemcpyDtoHAsync(sl.mem.ptr, src+cu.DevicePtr(k*chunk), int64(n), stream); err != nil {
			return nil, nil, wrap("cuMemcpyDtoHAsync", err)
		}
		if err := s.used(sl, stream); err != nil {
			return nil, nil, err
		}
		return sl, sl.bytes(), nil
	}
	return launch.Download(host, chunk, slotCount/2, workers(), fetch, func(sl *slot) error {
		if err := sl.done.Synchronize(); err != nil {
			return wrap("cuEventSynchronize", err)
		}
		sl.pending = false
		return nil
	})
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
	}
	if err := s.mem.free(); err != nil && first == nil {
		first = err
	}
	return first
}

// parallelCopy is launch.ParallelCopy on the package's workers.
func parallelCopy(dst, src []byte) int { return launch.ParallelCopy(dst, src, workers()) }
