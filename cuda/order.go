//go:build cuda

package cuda

import "gorgonia.org/cu"

// Host→device Writes run on a stream of their own (Backend.copies), so that
// the upload of the next step's gradients overlaps the current step's
// kernel (the optimizer alternates two gradient buffers on backends that
// say so: Capabilities.OverlapsWrites). Everything else (kernels, memsets,
// device copies, reads, and the uploads of row indices and values that only
// the next kernel reads) runs on the compute stream (Backend.stream), in
// stream order. Events keep the order across the two streams:
//
//   - every launch (and memset or device copy) records one event of a ring
//     on the compute stream, and each buffer it used remembers the launch's
//     number (usage); a Write into a buffer makes the copy stream wait for
//     that launch's event (or, once the ring has come round, a later one:
//     later is always safe);
//   - the copy stream records when its latest copy was queued (copied);
//     compute work waits for that before it starts.
//
// A copy into a buffer the running kernel does not touch therefore starts
// at once, and a step costs one event record per launch, plus one wait when
// gradients were written since the last launch.

// launchRing is the number of launch events in the ring.
const launchRing = 64

// launchLog numbers the compute-stream work and keeps the ring of events
// recorded after it.
type launchLog struct {
	evs  [launchRing]cu.Event
	seq  uint64 // work items recorded so far
	done uint64 // work items known finished (after a synchronisation)
}

// usage is the number of the last compute-stream work that used one buffer
// (0: none).
type usage struct{ seq uint64 }

// touched records, on the compute stream, that the work just queued uses
// each of us.
func (b *Backend) touched(us ...*usage) error {
	l := &b.log
	l.seq++
	ev := &l.evs[l.seq%launchRing]
	if *ev == (cu.Event{}) {
		e, err := cu.MakeEvent(cu.DisableTiming)
		if err != nil {
			l.seq--
			return wrap("cuEventCreate", err)
		}
		*ev = e
	}
	if err := ev.Record(b.stream); err != nil {
		return wrap("cuEventRecord", err)
	}
	for _, u := range us {
		u.seq = l.seq
	}
	return nil
}

// waitUse makes stream wait for the compute work that last used u.
func (b *Backend) waitUse(stream cu.Stream, u *usage) error {
	l := &b.log
	if u.seq <= l.done {
		return nil
	}
	// The event of u's work, or of work recorded after it in the same slot
	// of the ring: waiting for later work is safe.
	return wrap("cuStreamWaitEvent", stream.Wait(l.evs[u.seq%launchRing], 0))
}

// copyInto queues an upload of host into dst on the copy stream, after the
// compute work that last used dst's buffer, and marks it for the next
// compute work to wait on. It returns once host has been copied to
// page-locked staging memory, so host may be reused at once.
func (b *Backend) copyInto(dst cu.DevicePtr, host []byte, u *usage) error {
	if err := b.waitUse(b.copies, u); err != nil {
		return err
	}
	if err := b.stage.upload(dst, host, b.copies); err != nil {
		return err
	}
	if err := b.copied.Record(b.copies); err != nil {
		return wrap("cuEventRecord", err)
	}
	b.copiedSet = true
	return nil
}

// beforeCompute makes the compute stream wait for every copy queued so far.
func (b *Backend) beforeCompute() error {
	if !b.copiedSet {
		return nil
	}
	if err := b.stream.Wait(b.copied, 0); err != nil {
		return wrap("cuStreamWaitEvent", err)
	}
	b.copiedSet = false
	return nil
}

// finished notes that the compute stream has run everything queued on it,
// which, since beforeCompute, includes every copy: every buffer and every
// staging slot is free.
func (b *Backend) finished() {
	b.log.done = b.log.seq
	b.stage.idle()
}

// drain waits for all queued work: the compute stream, after every copy.
func (b *Backend) drain() error {
	if err := b.beforeCompute(); err != nil {
		return err
	}
	if err := b.stream.Synchronize(); err != nil {
		return wrap("cuStreamSynchronize", err)
	}
	b.finished()
	return nil
}

// destroy releases the ring's events.
func (l *launchLog) destroy() error {
	var first error
	for i := range l.evs {
		if l.evs[i] != (cu.Event{}) {
			if err := wrap("cuEventDestroy", cu.DestroyEvent(&l.evs[i])); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}
