// Package cuda is the CUDA backend (build tag "cuda"), on gorgonia.org/cu
// v0.9.6, with kernels/adagrad.cu compiled at run time by NVRTC for the
// device's own architecture (CUBIN), or as PTX for the newest architecture
// NVRTC knows when the device is newer, with --fmad=false so that results
// agree bitwise with the CPU backend. Compiled kernels are cached on disk
// (see internal/nvrtc: ADAGRAD_NVRTC_CACHE=off turns the cache off).
//
//	import _ "github.com/adagrad-go/adagrad/cuda"
//	dev, err := device.Open("cuda:0")
//
// Each backend owns one context; every call runs on the calling goroutine,
// locked to its OS thread for the call with the context current, so
// callers may use a backend from any goroutine (one call at a time) and a
// call costs no hand-off between threads. A dense step is one kernel
// launch with the range table passed by value (device memory only for
// more than 16 ranges), and no call that waits. Gradients go to the device
// through a ring of page-locked staging slots, large ones in a pipeline
// of chunks copied on several cores while earlier chunks are in flight,
// with asynchronous copies on a copy stream of their own, ordered against
// the compute stream by events, so the upload of the next step's
// gradients overlaps the running step (the optimizer alternates two
// gradient buffers on this backend: Capabilities.OverlapsWrites). Small
// row-sparse steps and row gathers read their indices and values from,
// and write their rows to, mapped staging memory: a gather is one launch
// and one wait. One launch per step covers every range of a dtype;
// float32 parameters also take bfloat16 or float16 gradients (half the
// bytes on the host link).
//
// Building needs CUDA 11.8–12.x headers and libraries (gorgonia.org/cu
// v0.9.6 does not build against CUDA 13); .ci/cuda-deps fetches Debian's
// CUDA 11.8 into a folder for CGO_CFLAGS and CGO_LDFLAGS. Note that
// gorgonia.org/cu initialises the driver in its package init and ends the
// process when that fails, so a binary built with -tags cuda starts only on
// a machine with an NVIDIA driver and GPU.
//
// This file is untagged on purpose: an untagged build of the module must
// compile and vet with no CUDA installed. Without the tag nothing
// registers, and device.Open("cuda") reports the missing build tag.
package cuda
