package collective

import (
	"fmt"
	"time"
)

// One returns the world of one: rank 0 of a group of one process. Every
// call is a copy from the send buffers to the receive buffers, so a
// single-process run goes through the same code as a multi-process one.
func One() Comm { return new(one) }

type one struct{ track Tracker }

func (*one) Rank() int         { return 0 }
func (*one) Size() int         { return 1 }
func (*one) String() string    { return "world of one" }
func (w *one) Stats() Stats    { return w.track.Stats() }
func (w *one) Close() error    { w.track.Close(); return nil }
func (w *one) Interrupt(error) {}

func (w *one) Barrier() error {
	if err := w.track.Check(); err != nil {
		return err
	}
	w.track.Count(0, 0, time.Now())
	return nil
}

func (w *one) AllToAll(send, recv [][]byte) error {
	if err := w.track.Check(); err != nil {
		return err
	}
	if err := CheckShape(w, send, recv); err != nil {
		return w.track.Fail(err)
	}
	return w.copy(send[0], recv[0])
}

func (w *one) AllGather(send []byte, recv [][]byte) error {
	if err := w.track.Check(); err != nil {
		return err
	}
	if len(recv) != 1 {
		return w.track.Fail(fmt.Errorf("%w: all-gather over 1 rank given %d receive buffers", ErrSize, len(recv)))
	}
	return w.copy(send, recv[0])
}

func (w *one) copy(send, recv []byte) error {
	if len(send) != len(recv) {
		return w.track.Fail(fmt.Errorf("%w: rank 0 sends itself %d bytes into a buffer of %d", ErrSize, len(send), len(recv)))
	}
	start := time.Now()
	copy(recv, send)
	w.track.Count(0, 0, start)
	return nil
}
