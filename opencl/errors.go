//go:build opencl

package opencl

import (
	"errors"
	"fmt"

	"github.com/jgillich/go-opencl/cl"

	"github.com/adagrad-go/adagrad/device"
)

// Error is a failed OpenCL call: the call, and either the binding's error
// or the raw OpenCL status code. A failed allocation
// (CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_RESOURCES,
// CL_OUT_OF_HOST_MEMORY) matches device.ErrOutOfMemory; a buffer larger
// than the device allocates at all (CL_INVALID_BUFFER_SIZE) matches both
// device.ErrOutOfMemory and device.ErrRange.
type Error struct {
	Op   string
	Code int   // OpenCL status, when the call was made here
	Err  error // the go-opencl binding's error, when it made the call
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("opencl: %s: %v", e.Op, e.Err)
	}
	if name, ok := statusNames[e.Code]; ok {
		return fmt.Sprintf("opencl: %s: %s (%d)", e.Op, name, e.Code)
	}
	return fmt.Sprintf("opencl: %s: status %d", e.Op, e.Code)
}

func (e *Error) Unwrap() error { return e.Err }

// Status codes of OpenCL 1.2 that say memory ran out.
const (
	clMemObjectAllocationFailure = -4
	clOutOfResources             = -5
	clOutOfHostMemory            = -6
	clInvalidBufferSize          = -61
)

// Is matches device.ErrOutOfMemory and device.ErrRange as Error says.
func (e *Error) Is(target error) bool {
	is := func(code int, err error) bool { return e.Code == code || errors.Is(e.Err, err) }
	tooBig := is(clInvalidBufferSize, cl.ErrInvalidBufferSize)
	switch target {
	case device.ErrOutOfMemory:
		return tooBig || is(clMemObjectAllocationFailure, cl.ErrMemObjectAllocationFailure) ||
			is(clOutOfResources, cl.ErrOutOfResources) || is(clOutOfHostMemory, cl.ErrOutOfHostMemory)
	case device.ErrRange:
		return tooBig
	}
	return false
}

// wrap turns a binding error into an *Error naming the call.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Err: err}
}

var statusNames = map[int]string{
	-1: "CL_DEVICE_NOT_FOUND", -2: "CL_DEVICE_NOT_AVAILABLE", -4: "CL_MEM_OBJECT_ALLOCATION_FAILURE",
	-5: "CL_OUT_OF_RESOURCES", -6: "CL_OUT_OF_HOST_MEMORY", -30: "CL_INVALID_VALUE",
	-33: "CL_INVALID_DEVICE", -34: "CL_INVALID_CONTEXT", -36: "CL_INVALID_COMMAND_QUEUE",
	-38: "CL_INVALID_MEM_OBJECT", -61: "CL_INVALID_BUFFER_SIZE", -1001: "CL_PLATFORM_NOT_FOUND_KHR",
}
