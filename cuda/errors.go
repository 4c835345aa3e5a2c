//go:build cuda

package cuda

import (
	"errors"
	"fmt"

	"gorgonia.org/cu"

	"github.com/adagrad-go/adagrad/device"
)

// Error is a failed CUDA call: the call, and either the error that
// gorgonia.org/cu returned (which errors.Is matches against its constants,
// such as cu.OutOfMemory) or the raw CUresult of a call made here. Out of
// memory, device or page-locked host, also matches device.ErrOutOfMemory.
type Error struct {
	Op   string
	Code int   // CUresult, when the call was made here
	Err  error // gorgonia.org/cu's error, when it made the call
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("cuda: %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("cuda: %s: %s", e.Op, errorName(e.Code))
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches device.ErrOutOfMemory when the driver ran out of memory.
func (e *Error) Is(target error) bool {
	return target == device.ErrOutOfMemory && (e.Code == int(cu.OutOfMemory) || errors.Is(e.Err, cu.OutOfMemory))
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Err: err}
}
