// Package devicetest is the conformance suite that every device.Backend
// passes, in the manner of gonum's testblas. A backend's test calls it in
// one line:
//
//	func TestConformance(t *testing.T) { devicetest.Run(t, open) }
//	func BenchmarkAdagrad(b *testing.B) { devicetest.Bench(b, open) }
//
// or, for a backend of several devices, on every one present:
//
//	func TestConformance(t *testing.T) { devicetest.RunDevices(t, opencl.Devices) }
//
// The suite checks, for float32 and float64:
//   - PyTorch's reference trajectories (testdata/oracle, made by
//     torch.optim.Adagrad on the CPU and on CUDA): the backend agrees with
//     PyTorch's CPU or CUDA result within the ulp spread that PyTorch shows
//     between the two;
//   - a float64 reference for every float32 case;
//   - bitwise agreement with the CPU backend on random sizes (0, 1, odd,
//     not a multiple of any vector width, larger than one chunk), many
//     tensors, every hyperparameter and non-finite gradients;
//   - row-sparse gradients (duplicates, empty updates, single-row tables,
//     mixed with dense ones) and bfloat16/float16 gradient transfer, bitwise
//     against the reference and the CPU backend;
//   - State/LoadState resuming bit for bit;
//   - bad input: every error leaves parameters and accumulators unchanged.
package devicetest
