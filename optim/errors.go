package optim

import "errors"

var (
	// ErrUnknownTensor: no tensor of that name.
	ErrUnknownTensor = errors.New("optim: unknown tensor")
	// ErrShape: a length or shape does not match the tensor's (or a count:
	// of tensors in a State, of a rule's states), or a shape is invalid (a
	// negative dimension, a size that overflows). Element types that do not
	// match are device.ErrDType errors.
	ErrShape = errors.New("optim: shape mismatch")
	// ErrNonFinite: a gradient holds NaN or Inf, as the device would
	// receive it, and SkipNonFinite is set.
	ErrNonFinite = errors.New("optim: non-finite gradient")
	// ErrStepCount: a tensor's step count is negative (in a State) or
	// would pass math.MaxInt64 (at Step).
	ErrStepCount = errors.New("optim: invalid step count")
	// ErrClosed: the optimizer was closed.
	ErrClosed = errors.New("optim: closed")
)
