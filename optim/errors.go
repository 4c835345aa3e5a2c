package optim

import "errors"

var (
	// ErrUnknownTensor: no tensor of that name.
	ErrUnknownTensor = errors.New("optim: unknown tensor")
	// ErrShape: a length, shape or dtype does not match the tensor's.
	ErrShape = errors.New("optim: shape mismatch")
	// ErrNonFinite: a gradient holds NaN or Inf and SkipNonFinite is set.
	ErrNonFinite = errors.New("optim: non-finite gradient")
	// ErrClosed: the optimizer was closed.
	ErrClosed = errors.New("optim: closed")
)
