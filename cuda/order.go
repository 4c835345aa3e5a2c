//go:build cuda

package cuda

import "gorgonia.org/cu"

// Host→device copies run on a stream of their own (Backend.copies), so that
// the upload of the next step's gradients overlaps the current step's
// kernel (the optimizer alternates two gradient buffers on backends that
// say so: device.Overlapper). Everything else runs on the compute stream
// (Backend.stream). Events keep the order that matters:
//
//   - every buffer records, on the compute stream, when the last work that
//     touched it was queued (usage); a copy into the buffer waits for that;
//   - the copy stream records when its latest copy was queued (copied);
//     compute work waits for that before it starts.
//
// A copy into a buffer the current kernel does not touch therefore starts
// at once.

// usage is the event of the last compute-stream work on one buffer.
type usage struct {
	ev  cu.Event
	set bool
}

// touched records, on the compute stream, that queued work uses each of us.
// It runs on the worker thread, after the work is queued.
func (b *Backend) touched(us ...*usage) error {
	for _, u := range us {
		if u.ev == (cu.Event{}) {
			ev, err := cu.MakeEvent(cu.DisableTiming)
			if err != nil {
				return wrap("cuEventCreate", err)
			}
			u.ev = ev
		}
		if err := u.ev.Record(b.stream); err != nil {
			return wrap("cuEventRecord", err)
		}
		u.set = true
	}
	return nil
}

// copyInto queues an upload of host into dst on the copy stream, after
// the compute work that last used dst's buffer, and marks it for the next
// compute work to wait on.
func (b *Backend) copyInto(dst cu.DevicePtr, host []byte, u *usage) error {
	if u.set {
		if err := b.copies.Wait(u.ev, 0); err != nil {
			return wrap("cuStreamWaitEvent", err)
		}
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

// drain waits for both streams.
func (b *Backend) drain() error {
	if err := b.copies.Synchronize(); err != nil {
		return wrap("cuStreamSynchronize(copies)", err)
	}
	return wrap("cuStreamSynchronize", b.stream.Synchronize())
}

func (u *usage) destroy() error {
	if u.ev == (cu.Event{}) {
		return nil
	}
	err := wrap("cuEventDestroy", cu.DestroyEvent(&u.ev))
	*u = usage{}
	return err
}
