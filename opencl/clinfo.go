//go:build opencl

package opencl

// #cgo pkg-config: OpenCL
// #define CL_TARGET_OPENCL_VERSION 120
// #define CL_USE_DEPRECATED_OPENCL_1_2_APIS
// #include <stdlib.h>
// #include <CL/cl.h>
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// deviceInfo is what the backend needs to know of a device before it opens
// one. The go-opencl binding answers these questions with functions that
// panic on failure and lacks CL_DEVICE_SINGLE_FP_CONFIG, so they are asked
// here, with errors. Platforms and devices are numbered as
// clGetPlatformIDs and clGetDeviceIDs(CL_DEVICE_TYPE_ALL) list them, which
// is also the binding's order.
type deviceInfo struct {
	platform, device   int
	name, platformName string
	gpu                bool
	fp64               bool // cl_khr_fp64
	roundedDivSqrt     bool // CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT for float
	computeUnits       int
}

func (d deviceInfo) spec() string { return fmt.Sprintf("opencl:%d:%d", d.platform, d.device) }

// clPlatformNotFound is ocl-icd's answer when no ICD is installed.
const clPlatformNotFound = -1001

func listDevices() ([]deviceInfo, error) {
	var np C.cl_uint
	if rc := C.clGetPlatformIDs(0, nil, &np); rc != C.CL_SUCCESS {
		if rc == clPlatformNotFound {
			return nil, nil
		}
		return nil, codeError("clGetPlatformIDs", rc)
	}
	if np == 0 {
		return nil, nil
	}
	platforms := make([]C.cl_platform_id, np)
	if rc := C.clGetPlatformIDs(np, &platforms[0], nil); rc != C.CL_SUCCESS {
		return nil, codeError("clGetPlatformIDs", rc)
	}
	var out []deviceInfo
	for pi, p := range platforms {
		pname, err := platformString(p, C.CL_PLATFORM_NAME)
		if err != nil {
			return nil, err
		}
		var nd C.cl_uint
		rc := C.clGetDeviceIDs(p, C.CL_DEVICE_TYPE_ALL, 0, nil, &nd)
		if rc == C.CL_DEVICE_NOT_FOUND || nd == 0 {
			continue
		}
		if rc != C.CL_SUCCESS {
			return nil, codeError("clGetDeviceIDs", rc)
		}
		devices := make([]C.cl_device_id, nd)
		if rc := C.clGetDeviceIDs(p, C.CL_DEVICE_TYPE_ALL, nd, &devices[0], nil); rc != C.CL_SUCCESS {
			return nil, codeError("clGetDeviceIDs", rc)
		}
		for di, d := range devices {
			info, err := describe(d)
			if err != nil {
				return nil, fmt.Errorf("opencl:%d:%d: %w", pi, di, err)
			}
			info.platform, info.device, info.platformName = pi, di, pname
			out = append(out, info)
		}
	}
	return out, nil
}

func describe(d C.cl_device_id) (deviceInfo, error) {
	var info deviceInfo
	var err error
	if info.name, err = deviceString(d, C.CL_DEVICE_NAME); err != nil {
		return info, err
	}
	ext, err := deviceString(d, C.CL_DEVICE_EXTENSIONS)
	if err != nil {
		return info, err
	}
	info.fp64 = strings.Contains(" "+ext+" ", " cl_khr_fp64 ")
	var typ C.cl_device_type
	if err := deviceValue(d, C.CL_DEVICE_TYPE, unsafe.Pointer(&typ), C.size_t(unsafe.Sizeof(typ))); err != nil {
		return info, err
	}
	info.gpu = typ&C.CL_DEVICE_TYPE_GPU != 0
	var fp C.cl_device_fp_config
	if err := deviceValue(d, C.CL_DEVICE_SINGLE_FP_CONFIG, unsafe.Pointer(&fp), C.size_t(unsafe.Sizeof(fp))); err != nil {
		return info, err
	}
	info.roundedDivSqrt = fp&C.CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT != 0
	var cu C.cl_uint
	if err := deviceValue(d, C.CL_DEVICE_MAX_COMPUTE_UNITS, unsafe.Pointer(&cu), C.size_t(unsafe.Sizeof(cu))); err != nil {
		return info, err
	}
	info.computeUnits = int(cu)
	return info, nil
}

func deviceValue(d C.cl_device_id, param C.cl_device_info, dst unsafe.Pointer, size C.size_t) error {
	if rc := C.clGetDeviceInfo(d, param, size, dst, nil); rc != C.CL_SUCCESS {
		return codeError("clGetDeviceInfo", rc)
	}
	return nil
}

func deviceString(d C.cl_device_id, param C.cl_device_info) (string, error) {
	return infoString("clGetDeviceInfo", func(size C.size_t, buf unsafe.Pointer, ret *C.size_t) C.cl_int {
		return C.clGetDeviceInfo(d, param, size, buf, ret)
	})
}

func platformString(p C.cl_platform_id, param C.cl_platform_info) (string, error) {
	return infoString("clGetPlatformInfo", func(size C.size_t, buf unsafe.Pointer, ret *C.size_t) C.cl_int {
		return C.clGetPlatformInfo(p, param, size, buf, ret)
	})
}

// infoString asks an OpenCL info query for a string: first its size, then
// its bytes.
func infoString(op string, get func(size C.size_t, buf unsafe.Pointer, ret *C.size_t) C.cl_int) (string, error) {
	var n C.size_t
	if rc := get(0, nil, &n); rc != C.CL_SUCCESS {
		return "", codeError(op, rc)
	}
	if n == 0 {
		return "", nil
	}
	buf := C.malloc(n)
	defer C.free(buf)
	if rc := get(n, buf, nil); rc != C.CL_SUCCESS {
		return "", codeError(op, rc)
	}
	return strings.TrimSpace(C.GoString((*C.char)(buf))), nil
}

func codeError(op string, rc C.cl_int) error { return &Error{Op: op, Code: int(rc)} }
