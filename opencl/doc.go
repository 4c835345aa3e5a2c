// Package opencl runs the update rules on any OpenCL 1.2 device whose
// float32 division and square root are correctly rounded: NVIDIA, AMD and
// Intel GPUs, and PoCL on the CPU (where this project's CI tests it).
//
// # Building
//
// The backend is compiled only with the build tag "opencl", with OpenCL
// headers and an ICD loader (Debian: opencl-headers, ocl-icd-opencl-dev)
// and a device driver (PoCL: pocl-opencl-icd):
//
//	CGO_CFLAGS=-DCL_TARGET_OPENCL_VERSION=120 go test -tags opencl ./...
//
// Without the tag this package is empty and registers nothing:
// device.Open("opencl") then says that the backend is not built in. On an
// NVIDIA machine without an ICD file, point OCL_ICD_VENDORS at a folder
// holding nvidia.icd with the one line libnvidia-opencl.so.1.
//
// # Use
//
//	import _ "github.com/adagrad-go/adagrad/opencl" // registers "opencl"
//
//	dev, err := device.Open("opencl")     // the first GPU, else the first device
//	dev, err := device.Open("opencl:0:1") // platform 0, device 1
//	dev, err := opencl.Open(0, 1)         // the same, without the registry
//	infos, err := opencl.Devices()        // every device, GPUs marked, with its spec
//
// A device without correctly rounded float32 divide and sqrt is refused
// with ErrRounding: it could not agree bit for bit with the other
// backends. Capabilities declare float64 only where the device has
// cl_khr_fp64.
//
// # How it works
//
// The kernels (kernels/adagrad.cl) are built for float32 (and float64)
// when the device is opened, and for each other pair of parameter and
// gradient dtypes (bfloat16 and float16) when first used, with
// -cl-fp32-correctly-rounded-divide-sqrt and FP_CONTRACT OFF, so that
// results agree bit for bit with the CPU and CUDA backends. One launch
// covers every range of a step, whatever the mix of rules (kernel update
// when every range works element by element, update_units when a rule
// works on rows or blocks); each work-item updates 4 elements, with vector
// loads where aligned, or one row or block. Range tables are uploaded only
// when they change, and transfers go through mapped staging memory without
// blocking the queue. Allocation failures are errors matching
// device.ErrOutOfMemory.
package opencl

// This file has no build tag on purpose: an untagged build of the module
// must compile and vet with no OpenCL installed, and the package keeps its
// documentation there.
