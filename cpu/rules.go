package cpu

import "github.com/adagrad-go/adagrad/device"

// kernel updates one piece of a range: parameters p, gradients g and the
// rule's state, each sliced to the piece.
type kernel[T float] func(p, g []T, st *states[T], c *coefs[T])

// codedKernel is a kernel of a rule with 8-bit state (device.Uint8): its
// states of the compute type in st, its 8-bit ones in codes, each at the
// rule's state index.
type codedKernel[T float] func(p, g []T, st *states[T], codes *[device.MaxStates][]uint8, c *coefs[T])

// ruleKernel is one rule's kernels on the CPU, dense and row-sparse (nil
// for a rule without a row-sparse form). A rule with 8-bit state has coded
// kernels instead of dense ones.
type ruleKernel struct {
	dense32, rows32 kernel[float32]
	dense64, rows64 kernel[float64]
	coded32         codedKernel[float32]
	coded64         codedKernel[float64]
}

// ruleKernels are the rules this backend runs: adding a rule adds its
// line here (and its kernels).
var ruleKernels = withFamily(map[device.Rule]ruleKernel{
	device.Adagrad: {dense32: adagradDense32Fast, rows32: adagradRows[float32],
		dense64: adagradDense64Fast, rows64: adagradRows[float64]},
	device.AdagradEpsInside: both(lrOverRoot[float32](true), lrOverRoot[float64](true)),
	device.AdagradRowwise: {dense32: adagradRowwise32Fast, rows32: adagradRowwise32Fast,
		dense64: adagradRowwise[float64], rows64: adagradRowwise[float64]},
	device.Adagrad8Bit: {coded32: adagrad8Bit[float32], coded64: adagrad8Bit[float64]},
})
