package sharded

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/adagrad-go/adagrad/checkpoint"
	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// forwarded are the sentinels a rank's failure keeps when other ranks
// report it, so that errors.Is answers alike on every rank.
var forwarded = []error{
	optim.ErrNonFinite, optim.ErrShape, optim.ErrIndex, optim.ErrUnknownTensor, optim.ErrClosed,
	device.ErrHyper, device.ErrRule, device.ErrOutOfMemory, device.ErrDType,
	checkpoint.ErrCheckpoint, checkpoint.ErrPath,
}

// remoteError is another rank's failure, as its text and the sentinel it
// wrapped.
type remoteError struct {
	text string
	is   error
}

func (e *remoteError) Error() string { return e.text }
func (e *remoteError) Unwrap() error { return e.is }

// agree is how the ranks take one decision after a part that may fail on
// some of them only: every rank tells every other whether it failed (and
// why) and what it holds (a fingerprint); then every rank fails if any did.
// A failed rank returns its own error, the others ErrPeer naming the
// lowest failed rank and wrapping its sentinel (see forwarded); when the
// fingerprints differ, ErrMismatch.
func (s *Adagrad) agree(op string, local error, fingerprint []byte) error {
	// The fingerprint field has one size on every rank, failed or not.
	fingerprint = append(make([]byte, 0, sha256.Size), fingerprint...)[:sha256.Size]
	msg := append([]byte{0}, fingerprint...)
	if local != nil {
		msg[0] = 1
		for k, e := range forwarded {
			if errors.Is(local, e) {
				msg[0] = byte(2 + k)
				break
			}
		}
		msg = append(msg, local.Error()...)
	}
	all, err := s.gatherBytes(msg)
	if err != nil {
		return errors.Join(local, fmt.Errorf("sharded: %s: %w", op, err))
	}
	if local != nil {
		return local
	}
	for r, m := range all {
		if len(m) < 1+len(fingerprint) {
			return fmt.Errorf("%w: %s: rank %d sent %d bytes to agree on", ErrMismatch, op, r, len(m))
		}
		if m[0] != 0 {
			remote := &remoteError{text: string(m[1+len(fingerprint):])}
			if k := int(m[0]) - 2; k >= 0 && k < len(forwarded) {
				remote.is = forwarded[k]
			}
			return fmt.Errorf("%w: %s on rank %d: %w", ErrPeer, op, r, remote)
		}
	}
	for r, m := range all {
		if !bytes.Equal(m[1:1+len(fingerprint)], fingerprint) {
			return fmt.Errorf("%w: %s: rank %d and rank %d were given other models (names, shapes, dtypes or hyperparameters)", ErrMismatch, op, s.comm.Rank(), r)
		}
	}
	return nil
}

// gatherBytes all-gathers one message of any length from every rank.
func (s *Adagrad) gatherBytes(msg []byte) ([][]byte, error) {
	n := s.comm.Size()
	lens := make([][]int64, n)
	for r := range lens {
		lens[r] = make([]int64, 1)
	}
	if err := s.control(func() error { return collective.AllGatherOf(s.comm, []int64{int64(len(msg))}, lens) }); err != nil {
		return nil, err
	}
	all := make([][]byte, n)
	for r := range all {
		all[r] = make([]byte, lens[r][0])
	}
	if err := s.control(func() error { return s.comm.AllGather(msg, all) }); err != nil {
		return nil, err
	}
	return all, nil
}

// fingerprint hashes what every rank must agree on about the model.
func (s *Adagrad) fingerprint() []byte {
	h := sha256.New()
	for _, t := range s.tensors {
		fmt.Fprintf(h, "%q %v %v %+v\n", t.name, t.shape, t.dt, t.hyper)
	}
	return h.Sum(nil)
}
