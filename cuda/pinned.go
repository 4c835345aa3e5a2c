//go:build cuda

package cuda

// #cgo LDFLAGS: -lcuda
// #include <cuda.h>
// #if CUDA_VERSION >= 13000
// #error "adagrad/cuda: gorgonia.org/cu v0.9.6 builds only against CUDA 11.8-12.x headers, and these are CUDA 13 or newer: point CGO_CFLAGS/CGO_LDFLAGS at CUDA 11.8-12.x (see README, 'CUDA')"
// #endif
// #if CUDA_VERSION < 11020
// #error "adagrad/cuda: needs CUDA 11.2 or newer headers (NVRTC CUBIN output)"
// #endif
import "C"

import (
	"fmt"
	"unsafe"

	"gorgonia.org/cu"
)

// gorgonia.org/cu v0.9.6 can free page-locked host memory (MemFreeHost)
// but not allocate it; cuMemHostAlloc is called here.

// pinned is page-locked host memory: C memory, never the Go heap, so the
// driver may keep using it after a call returns (asynchronous copies). It
// is mapped into the device's address space too (dev), so that a kernel
// can read small inputs from it and write small outputs to it directly,
// without a copy of their own.
type pinned struct {
	ptr  unsafe.Pointer
	dev  cu.DevicePtr
	size int
}

// allocPinned allocates size bytes of mapped page-locked memory, with the
// backend's context current.
func allocPinned(size int) (pinned, error) {
	var p unsafe.Pointer
	if rc := C.cuMemHostAlloc(&p, C.size_t(size), C.CU_MEMHOSTALLOC_DEVICEMAP); rc != C.CUDA_SUCCESS {
		return pinned{}, &Error{Op: fmt.Sprintf("cuMemHostAlloc(%d bytes)", size), Code: int(rc)}
	}
	var d C.CUdeviceptr
	if rc := C.cuMemHostGetDevicePointer(&d, p, 0); rc != C.CUDA_SUCCESS {
		C.cuMemFreeHost(p)
		return pinned{}, &Error{Op: "cuMemHostGetDevicePointer", Code: int(rc)}
	}
	return pinned{ptr: p, dev: cu.DevicePtr(d), size: size}, nil
}

func (p pinned) bytes() []byte { return unsafe.Slice((*byte)(p.ptr), p.size) }

func (p *pinned) free() error {
	if p.ptr == nil {
		return nil
	}
	err := cu.MemFreeHost(p.ptr)
	p.ptr = nil
	return wrap("cuMemFreeHost", err)
}

// errorName returns the driver's name for a CUresult.
func errorName(code int) string {
	var s *C.char
	if C.cuGetErrorName(C.CUresult(code), &s) != C.CUDA_SUCCESS || s == nil {
		return fmt.Sprintf("CUresult %d", code)
	}
	return C.GoString(s)
}
