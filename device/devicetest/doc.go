// Package devicetest is the conformance suite of the device layer, in the
// manner of gonum's testblas: exported tests, one per capability, that
// drive a device.Backend's methods directly (no optimizer), and a Run that
// calls every one the backend's Capabilities say applies. A backend's test
// calls it in one line:
//
//	func TestConformance(t *testing.T) { devicetest.Run(t, open) }
//	func BenchmarkAdagrad(b *testing.B) { devicetest.Bench(b, open) }
//
// or, for a backend of several devices, on every one present:
//
//	func TestConformance(t *testing.T) { devicetest.RunDevices(t, opencl.Devices) }
//
// (EachDevice runs any suite so, optim/optimtest's included.)
//
// The layers:
//   - Capabilities: what is declared works, and what is not (dtypes, rules,
//     row-sparse forms) is refused with device.ErrDType or device.ErrRule;
//     every declared rule has a reference here;
//   - Buffers: Alloc, Write, Read (whole, at offsets, raw half codes),
//     Copy and Free;
//   - Closed: every method after Close, and every method handed a freed
//     buffer, fails with device.ErrClosed;
//   - BadInput: malformed calls fail with their sentinel (ErrRange,
//     ErrDType, ErrHyper, ErrRule, ErrForeignBuffer) and change nothing;
//   - Update: dense updates of every declared rule and parameter dtype
//     (half parameters included, and half gradients), many ranges of
//     mixed rules in one call, bitwise against the rule's reference;
//   - UpdateRows: row-sparse updates, bitwise against the reference;
//   - HalfRounding: half-precision parameters' stochastic rounding at its
//     edges (subnormals, the largest finite values, every dropped-bit
//     pattern), bitwise against the reference;
//   - Gather: device.RowReader;
//   - Oracle: PyTorch's trajectories replayed through Update and
//     UpdateRows (see TorchCases): bitwise to PyTorch's CUDA results (or
//     its CUDA sparse path, emulated), within PyTorch's own CPU↔CUDA spread
//     of its CPU results, and float32 near a float64 reference.
//
// Every update test keeps guard elements, recognisable values that must
// stay bitwise unchanged, around and between every range and state
// region. The references (reference.go) are every rule written out once
// more, element by element, apart from the backends: a fused multiply-add
// in float32 is computed exactly with math/big. A backend that agrees
// bitwise with them agrees bitwise with every other backend, so no
// backend is compared with another here. A float32 run is also followed by
// the same rule in float64, which must stay close.
//
// ReferenceStep, ReferenceRows, Coalesce and TorchCases serve the suites
// of the layers above (optim/optimtest).
package devicetest
