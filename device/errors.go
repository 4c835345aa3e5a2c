package device

import "errors"

// Sentinel errors; backends wrap them so that callers can use errors.Is.
var (
	// ErrUnknownBackend: no backend is registered under the spec's name.
	ErrUnknownBackend = errors.New("device: unknown backend")
	// ErrUnavailable: the backend is registered but the device cannot be used
	// (no such device index, no driver, no GPU).
	ErrUnavailable = errors.New("device: unavailable")
	// ErrClosed: the backend, or a buffer, was used after Close or Free.
	ErrClosed = errors.New("device: closed")
	// ErrDType: element types do not match, or the backend lacks one.
	ErrDType = errors.New("device: dtype mismatch")
	// ErrRange: an offset, length or range lies outside a buffer, or a size
	// does not fit in memory at all.
	ErrRange = errors.New("device: out of range")
	// ErrForeignBuffer: a buffer was handed to a backend that did not
	// allocate it (or a nil buffer).
	ErrForeignBuffer = errors.New("device: buffer belongs to another backend")
	// ErrHyper: a coefficient is NaN, infinite (also after rounding to the
	// dtype) or negative.
	ErrHyper = errors.New("device: invalid hyperparameter")
	// ErrRule: the backend does not run that update rule (for that dtype,
	// or with row-sparse gradients), or the rule is unknown.
	ErrRule = errors.New("device: unsupported update rule")
	// ErrOutOfMemory: the device's allocator could not provide the memory.
	ErrOutOfMemory = errors.New("device: out of memory")
)
