//go:build opencl

package opencl

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/jgillich/go-opencl/cl"

	"github.com/adagrad-go/adagrad/internal/launch"
)

// Transfers go through a ring of staging slots: buffers made with
// CL_MEM_ALLOC_HOST_PTR and kept mapped, which drivers back with
// page-locked memory that their copy engines read at the full host-link
// rate (NVIDIA's OpenCL guide recommends exactly this). Writes and reads
// are queued without blocking, so a step's table, row and gradient uploads
// never wait for the kernels queued before them (a blocking write on an
// in-order queue waits for the whole queue); the in-order queue keeps
// every transfer in program order with the kernels. A transfer of more
// than one chunk (launch.Chunk: 256 KiB to a slot) is a pipeline
// (launch.Upload, launch.Download): the host copies chunk k into its slot
// on a worker goroutine while earlier chunks are in flight. Each slot keeps
// the event of the last command that reads or writes it, and is reused only
// once that command is done. Slots are made when first needed.
const (
	slotBytes = 1 << 20
	slotCount = 32
)

type slot struct {
	buf    *cl.MemObject
	mapped *cl.MappedMemObject
	host   []byte
	ev     *cl.Event // the last command using host; nil when none is pending
}

type stager struct {
	slots [slotCount]slot
	next  int
}

// take returns the next slot of the ring once nothing uses it any more.
func (b *Backend) take() (*slot, error) {
	s := &b.stage
	sl := &s.slots[s.next]
	s.next = (s.next + 1) % slotCount
	if sl.ev != nil {
		err := cl.WaitForEvents([]*cl.Event{sl.ev})
		sl.ev.Release()
		sl.ev = nil
		if err != nil {
			return nil, wrap("clWaitForEvents", err)
		}
	}
	if sl.buf == nil {
		buf, err := b.ctx.CreateEmptyBuffer(cl.MemReadWrite|cl.MemAllocHostPtr, slotBytes)
		if err != nil {
			return nil, wrap(fmt.Sprintf("clCreateBuffer(%d bytes, CL_MEM_ALLOC_HOST_PTR)", slotBytes), err)
		}
		mapped, ev, err := b.queue.EnqueueMapBuffer(buf, true, cl.MapFlagRead|cl.MapFlagWrite, 0, slotBytes, nil)
		if err != nil {
			buf.Release()
			return nil, wrap("clEnqueueMapBuffer", err)
		}
		ev.Release()
		sl.buf, sl.mapped, sl.host = buf, mapped, mapped.ByteSlice()
	}
	return sl, nil
}

// used records that the command of ev uses sl.
func (sl *slot) used(ev *cl.Event) { sl.ev = ev }

// idle marks every slot free: the queue has finished.
func (s *stager) idle() {
	for i := range s.slots {
		if sl := &s.slots[i]; sl.ev != nil {
			sl.ev.Release()
			sl.ev = nil
		}
	}
}

// release unmaps and frees every slot; the queue has finished.
func (b *Backend) releaseStage() {
	s := &b.stage
	s.idle()
	for i := range s.slots {
		sl := &s.slots[i]
		if sl.buf == nil {
			continue
		}
		if b.queue != nil {
			if ev, err := b.queue.EnqueueUnmapMemObject(sl.buf, sl.mapped, nil); err == nil {
				cl.WaitForEvents([]*cl.Event{ev})
				ev.Release()
			}
		}
		sl.buf.Release()
		*sl = slot{}
	}
}

func workers() int { return min(runtime.GOMAXPROCS(0), 8) }

// takeMem is Backend.take in the form launch.Upload and launch.Download use.
func (b *Backend) takeMem() (*slot, []byte, error) {
	sl, err := b.take()
	if err != nil {
		return nil, nil, err
	}
	return sl, sl.host, nil
}

// write queues a copy of host into mem at byte off, through the slots
// (launch.Upload's pipeline). It returns once host has been copied into
// them.
func (b *Backend) write(mem *cl.MemObject, off int, host []byte) error {
	chunk := launch.Chunk(len(host), slotBytes)
	return launch.Upload(host, chunk, min(workers(), slotCount/2), b.takeMem, func(k int, sl *slot, n int) error {
		ev, err := b.queue.EnqueueWriteBuffer(mem, false, off+k*chunk, n, unsafe.Pointer(&sl.host[0]), nil)
		if err != nil {
			return wrap("clEnqueueWriteBuffer", err)
		}
		sl.used(ev)
		return nil
	})
}

// read copies len(host) bytes of mem from byte off into host, after all
// queued work, through the slots (launch.Download's pipeline).
func (b *Backend) read(host []byte, mem *cl.MemObject, off int) error {
	chunk := launch.Chunk(len(host), slotBytes)
	fetch := func(k, n int) (*slot, []byte, error) {
		sl, err := b.take()
		if err != nil {
			return nil, nil, err
		}
		ev, err := b.queue.EnqueueReadBuffer(mem, false, off+k*chunk, n, unsafe.Pointer(&sl.host[0]), nil)
		if err != nil {
			return nil, nil, wrap("clEnqueueReadBuffer", err)
		}
		sl.used(ev)
		return sl, sl.host, nil
	}
	return launch.Download(host, chunk, slotCount/2, workers(), fetch, func(sl *slot) error {
		err := cl.WaitForEvents([]*cl.Event{sl.ev})
		sl.ev.Release()
		sl.ev = nil
		return wrap("clWaitForEvents", err)
	})
}
