package collective

import "errors"

var (
	// ErrSize: buffer counts or lengths do not match the world or what a
	// peer sent.
	ErrSize = errors.New("collective: size mismatch")
	// ErrTimeout: a peer did not answer within the timeout.
	ErrTimeout = errors.New("collective: timed out waiting for a peer")
	// ErrPeerGone: a peer left the group while this rank waited for it.
	ErrPeerGone = errors.New("collective: peer left")
	// ErrInterrupted: Interrupt was called (see Interrupter).
	ErrInterrupted = errors.New("collective: interrupted")
	// ErrBroken: an earlier call failed; the ranks no longer agree where
	// they are, and the Comm takes no more calls.
	ErrBroken = errors.New("collective: unusable after an earlier failure")
	// ErrClosed: the Comm was closed.
	ErrClosed = errors.New("collective: closed")
	// ErrUnknownDriver: Open was given a name no driver registered.
	ErrUnknownDriver = errors.New("collective: unknown driver")
)
