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
	// ErrDType: element types do not match.
	ErrDType = errors.New("device: dtype mismatch")
	// ErrRange: an offset, length or range lies outside a buffer.
	ErrRange = errors.New("device: out of range")
	// ErrForeignBuffer: a buffer was handed to a backend that did not allocate it.
	ErrForeignBuffer = errors.New("device: buffer belongs to another backend")
	// ErrHyper: a hyperparameter is NaN, infinite or negative.
	ErrHyper = errors.New("device: invalid hyperparameter")
)
