// Package nvrtc compiles the CUDA kernels of package kernels at run time
// with NVIDIA's NVRTC (through gorgonia.org/cu/nvrtc) and caches the result
// on disk. It is built with the "cuda" tag; this file keeps the package
// visible to untagged builds.
//
// It needs NVRTC and the CUDA headers but no GPU and no CUDA driver, so CI
// compiles every kernel on the CPU with it.
package nvrtc
