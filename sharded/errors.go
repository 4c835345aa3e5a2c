package sharded

import "errors"

var (
	// ErrMixedGradients: in one step, some ranks gave a tensor a dense
	// gradient and others a row-sparse one.
	ErrMixedGradients = errors.New("sharded: dense and row-sparse gradients for one tensor in one step")
	// ErrPeer: another rank's part of a collective call failed; its own
	// error says why.
	ErrPeer = errors.New("sharded: another rank failed")
	// ErrMismatch: the ranks were not given the same model.
	ErrMismatch = errors.New("sharded: ranks disagree")
)
