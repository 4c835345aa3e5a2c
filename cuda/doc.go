// Package cuda runs the update rules on NVIDIA GPUs through CUDA.
//
// # Building
//
// The backend is compiled only with the build tag "cuda", against the
// headers and libraries of CUDA 11.8 to 12.x (gorgonia.org/cu v0.9.6, which
// it uses, does not build against CUDA 13; a CUDA 13 driver runs it fine):
//
//	export CGO_CFLAGS=-I/usr/local/cuda/include CGO_LDFLAGS=-L/usr/local/cuda/lib64
//	go build -tags cuda ./...
//
// The repository's .ci/cuda-deps fetches Debian's CUDA 11.8 headers and
// NVRTC into a folder, for machines without a CUDA toolkit. Without the
// tag this package is empty and registers nothing: device.Open("cuda") then
// says that the backend is not built in.
//
// A program built with the tag starts only where an NVIDIA driver and GPU
// are present: gorgonia.org/cu initialises the driver when the program
// starts and ends the process when that fails. Build GPU support into the
// binaries that need it.
//
// # Use
//
//	import _ "github.com/adagrad-go/adagrad/cuda" // registers "cuda"
//
//	dev, err := device.Open("cuda")   // device 0; "cuda:1" for device 1; "auto" prefers CUDA
//	dev, err := cuda.Open(1)          // the same, without the registry
//	infos, err := cuda.Devices()      // every device, with the spec Open takes
//
// A backend may be used from any goroutine, one call at a time (the
// optimizer serialises its own calls). Its Capabilities declare float32,
// float64, bfloat16 and float16 parameters (half ones computed in
// float32), bfloat16 and float16 gradients, 8-bit state, every rule of
// device.Rules dense and, where the rule has one, row-sparse, row
// gathers, and writes that overlap kernels.
//
// # How it works
//
// The kernels (kernels/adagrad.cu) are compiled at run time by NVRTC for
// the device's own architecture (or as PTX for the newest one NVRTC knows
// when the device is newer) with --fmad=false and correctly rounded
// division and square root, so that results agree bit for bit with the
// CPU and OpenCL backends. Compiled kernels are cached on disk under the
// user cache directory; ADAGRAD_NVRTC_CACHE=off turns the cache off, a path
// moves it.
//
// Every call runs on the calling goroutine, its OS thread locked for the
// call with the backend's context current: no hand-off between threads. A
// dense step is one kernel launch over every range of a dtype, with the
// range table passed by value (in device memory, uploaded only when it
// changes, for more than 16 ranges), and nothing that waits. Gradients go
// to the device through page-locked staging slots, large ones in a
// pipeline of chunks copied on several cores while earlier chunks are in
// flight, on a copy stream of their own ordered against the compute stream
// by events, so the next step's upload overlaps the running step. Small
// row-sparse steps and row gathers read their indices and values from, and
// write their rows to, mapped page-locked memory: a gather is one launch
// and one wait. Out of device memory is an error matching
// device.ErrOutOfMemory.
package cuda

// This file has no build tag on purpose: an untagged build of the module
// must compile and vet with no CUDA installed, and the package keeps its
// documentation there.
