//go:build opencl

package sharded_test

import (
	"github.com/adagrad-go/adagrad/device"
	_ "github.com/adagrad-go/adagrad/opencl"
)

// With -tags opencl the scenarios keep the shards on the OpenCL device
// (PoCL on CI): asynchronous, with uploads that overlap the kernels.
func init() {
	openDevice = func() (device.Backend, error) { return device.Open("opencl") }
}
