// Package optimtest is the conformance suite of the optimizer on a
// backend: the model layer above package device/devicetest's layers,
// driving optim.Adagrad as a user does. A backend's test calls it in one
// line, beside devicetest.Run:
//
//	func TestOptimizer(t *testing.T) { optimtest.Run(t, open) }
//
// or on every device of a multi-device backend:
//
//	func TestOptimizer(t *testing.T) { devicetest.EachDevice(t, opencl.Devices, optimtest.Run) }
//
// It checks, bitwise against references built here from devicetest's
// per-rule references (ReferenceStep, ReferenceRows) and this package's own
// mapping of hyperparameters to coefficients (ruleModels), and, for a
// backend other than the CPU, bitwise against the CPU backend:
//   - a random model of many tensors of both dtypes, every hyperparameter
//     and rule, tensors that skip a step, non-finite gradients;
//   - row-sparse gradients with duplicate rows in no order, mixed with
//     dense ones, skipped and empty, and bfloat16/float16 gradient transfer;
//   - PyTorch's trajectories (devicetest.TorchCases) through SetGrad and
//     SetSparseGrad, held to PyTorch by TorchCase.Check;
//   - State and LoadState resuming bit for bit;
//   - bad calls: each fails with its sentinel (device.ErrDType for a
//     dtype mismatch, optim.ErrShape for a length or shape, ErrUnknownTensor,
//     device.ErrHyper, ErrNonFinite, ErrIndex, ErrSparseWeightDecay,
//     ErrClosed) and leaves the state bitwise as it was.
package optimtest
