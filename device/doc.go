// Package device is the abstraction between the Adagrad optimizer and the
// hardware that runs it.
//
// A Backend owns typed buffers (float32, float64, bfloat16 and float16
// codes, 8-bit codes) that live on one device for as long as the caller
// keeps them. What it computes is a capability: an Updater runs update
// rules in one fused pass over many ranges of a parameter buffer, a
// gradient buffer and the state buffers (one of the compute type, one of
// 8-bit codes), each range by its rule: a member of the Adagrad family
// (Rule; rule.go and rule_family.go state each rule's arithmetic, as its
// library computes it: PyTorch's, Keras's, TensorFlow's, Optax's, GloVe's,
// proximal Adagrad, dual averaging, JAX's, FBGEMM's row-wise, 8-bit
// state), each rule cutting its ranges into the units of work its RuleSpec
// states (elements, rows, blocks); half-precision parameters are computed
// in float32 and rounded back stochastically (Range.Key), the same bits on
// every backend. The interface is kept small in the manner of
// database/sql/driver; anything a backend can do beyond it is an optional
// capability found by type assertion (Freer, Copier, RowReader), and
// declared as data (Capabilities).
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
