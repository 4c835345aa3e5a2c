// Package device is the abstraction between the Adagrad optimizer and the
// hardware that runs it.
//
// A Backend owns typed buffers (float32 or float64) that live on one device
// for as long as the caller keeps them, and (as a device.Updater) runs one
// fused update over ranges of a parameter, a gradient and state buffers,
// each range by its rule: a member of the Adagrad family (Rule; rule.go
// and rule_family.go state each rule's arithmetic, as its library
// computes it). The interface
// is kept small in the manner of database/sql/driver; anything a backend can
// do beyond it is an optional capability found by type assertion (Freer,
// Copier).
//
// Backends register themselves under a name from an init function and are
// selected by spec:
//
//	import _ "github.com/adagrad-go/adagrad/cpu"
//
//	dev, err := device.Open("auto") // or "cpu", "cuda:1", "opencl:0:1", ""
//
// The spec "" reads the ADAGRAD_DEVICE environment variable and falls back
// to "auto"; "auto" picks deterministically: the first CUDA device, else the
// first OpenCL GPU, else the CPU.
package device
