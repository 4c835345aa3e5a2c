// Package cuda will hold the CUDA backend (build tag "cuda", on
// gorgonia.org/cu v0.9.6 with kernels compiled at run time by NVRTC).
//
// This file is untagged on purpose: an untagged build of the module must
// compile and vet with no CUDA installed, so the package always has this
// documentation and nothing that needs cgo. Importing it without the tag
// registers nothing; device.Open("cuda") then reports the missing build tag.
package cuda
