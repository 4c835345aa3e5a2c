// Package opencl will hold the OpenCL backend (build tag "opencl", on
// github.com/jgillich/go-opencl).
//
// This file is untagged on purpose: an untagged build of the module must
// compile and vet with no OpenCL headers installed, so the package always
// has this documentation and nothing that needs cgo. Importing it without
// the tag registers nothing; device.Open("opencl") then reports the missing
// build tag.
package opencl
