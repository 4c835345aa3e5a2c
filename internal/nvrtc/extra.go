//go:build cuda

package nvrtc

// #cgo LDFLAGS: -lnvrtc
// #include <stdlib.h>
// #include <nvrtc.h>
import "C"

import (
	"fmt"
	"unsafe"

	"gorgonia.org/cu/nvrtc"
)

// gorgonia.org/cu v0.9.6's nvrtc package lacks nvrtcGetSupportedArchs and
// nvrtcGetCUBIN (both in NVRTC since CUDA 11.2); they are called here.

// handle returns the nvrtcProgram inside a gorgonia nvrtc.Program, a
// struct whose only field is that handle (checked by size below: the
// module is pinned at v0.9.6).
func handle(p *nvrtc.Program) C.nvrtcProgram {
	return *(*C.nvrtcProgram)(unsafe.Pointer(p))
}

var _ [unsafe.Sizeof(nvrtc.Program{}) - unsafe.Sizeof(C.nvrtcProgram(nil))]struct{}
var _ [unsafe.Sizeof(C.nvrtcProgram(nil)) - unsafe.Sizeof(nvrtc.Program{})]struct{}

// SupportedArchs returns the compute capabilities (as 10*major+minor) this
// NVRTC can compile for, oldest first.
func SupportedArchs() ([]int, error) {
	var n C.int
	if rc := C.nvrtcGetNumSupportedArchs(&n); rc != C.NVRTC_SUCCESS {
		return nil, statusError("nvrtcGetNumSupportedArchs", rc)
	}
	if n <= 0 {
		return nil, nil
	}
	archs := make([]C.int, n)
	if rc := C.nvrtcGetSupportedArchs(&archs[0]); rc != C.NVRTC_SUCCESS {
		return nil, statusError("nvrtcGetSupportedArchs", rc)
	}
	out := make([]int, n)
	for i, a := range archs {
		out[i] = int(a)
	}
	return out, nil
}

// cubin returns the CUBIN of a program compiled for a real architecture
// (-arch=sm_XY).
func cubin(p *nvrtc.Program) ([]byte, error) {
	h := handle(p)
	var size C.size_t
	if rc := C.nvrtcGetCUBINSize(h, &size); rc != C.NVRTC_SUCCESS {
		return nil, statusError("nvrtcGetCUBINSize", rc)
	}
	if size == 0 {
		return nil, fmt.Errorf("nvrtc: empty CUBIN")
	}
	buf := C.malloc(size)
	defer C.free(buf)
	if rc := C.nvrtcGetCUBIN(h, (*C.char)(buf)); rc != C.NVRTC_SUCCESS {
		return nil, statusError("nvrtcGetCUBIN", rc)
	}
	return C.GoBytes(buf, C.int(size)), nil
}

func statusError(op string, rc C.nvrtcResult) error {
	return fmt.Errorf("nvrtc: %s: %s", op, C.GoString(C.nvrtcGetErrorString(rc)))
}
