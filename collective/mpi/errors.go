//go:build mpi

package mpi

import (
	"errors"
	"fmt"

	"github.com/adagrad-go/adagrad/collective"
)

var (
	// ErrFinalized: MPI was finalised in this process (by the last Close,
	// or by someone else); it cannot start again.
	ErrFinalized = errors.New("collective/mpi: MPI was finalised and cannot start again in this process")
	// ErrThreadLevel: MPI provides too low a thread level (see the package
	// comment).
	ErrThreadLevel = errors.New("collective/mpi: MPI thread level too low")
)

// Error is a failed MPI call: the call, MPI's error code, its class and
// MPI's text for it. A truncated message (a peer sent more than this rank
// expected) unwraps to collective.ErrSize.
type Error struct {
	Op    string // the MPI call, or the operation it served
	Code  int
	Class int
	Text  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("collective/mpi: %s: %s (MPI error %d)", e.Op, e.Text, e.Code)
}

func (e *Error) Unwrap() error {
	if e.Class == errTruncate || e.Class == errCount {
		return collective.ErrSize
	}
	return nil
}

// mpiError wraps rc, unless it is MPI_SUCCESS; call it on the MPI thread.
func mpiError(op string, rc int) error {
	if rc == success {
		return nil
	}
	text, class := errorText(rc)
	return &Error{Op: op, Code: rc, Class: class, Text: text}
}
