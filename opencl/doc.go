// Package opencl is the OpenCL backend (build tag "opencl"), on
// github.com/jgillich/go-opencl. It runs on any OpenCL 1.2 device whose
// float32 division and square root are correctly rounded: NVIDIA, AMD and
// Intel GPUs, and PoCL on the CPU, where CI tests it.
//
//	go test -tags opencl ./...        # needs OpenCL headers, an ICD loader and a device
//
//	import _ "github.com/adagrad-go/adagrad/opencl"
//	dev, err := device.Open("opencl")     // the first GPU, else the first device
//	dev, err := device.Open("opencl:0:1") // platform 0, device 1
//
// The kernel is kernels/adagrad.cl, built once per dtype when the device is
// opened (float64 where the device has cl_khr_fp64) with
// -cl-fp32-correctly-rounded-divide-sqrt and FP_CONTRACT OFF, so results
// agree bitwise with the CPU backend. One launch covers every range of a
// step; each work-item updates 4 elements with vector loads where aligned.
//
// This file is untagged on purpose: an untagged build of the module must
// compile and vet with no OpenCL headers installed, so the package always
// has this documentation and nothing that needs cgo. Without the tag
// nothing registers, and device.Open("opencl") reports the missing build
// tag.
package opencl
