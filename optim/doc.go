// Package optim implements the Adagrad optimizer (Duchi, Hazan and Singer,
// 2011) over any device.Backend, with PyTorch's extras: learning-rate decay,
// L2 weight decay, an initial accumulator value and maximisation.
//
// Per element, at step t (counted per tensor from 1):
//
//	g    = grad                          (negated first when Maximize)
//	g   += WeightDecay * param           (when WeightDecay != 0; one fused multiply-add)
//	clr  = LR / (1 + (t-1) * LRDecay)    (in float64, then rounded to the dtype)
//	sum += g * g                         (one fused multiply-add)
//	param -= (clr * g) / (sqrt(sum) + Eps)
//
// Every other operation is rounded to the tensor's dtype on its own; the
// device package's Update states the contract that every backend meets
// bit for bit.
//
// Parameters and accumulators are uploaded once, when the optimizer is made,
// and stay on the device. All tensors of one dtype share one device buffer
// per role (parameters, gradients, accumulators), laid out so that tensors
// with equal hyperparameters are neighbours: a Step over a model of many
// tensors is one gradient upload and one backend call per dtype. Parameters
// come back to the host only when asked (Read, State).
//
// Gradients are written into host staging slices (Grad32, Grad64, SetGrad),
// or given as rows (SetSparseGrad: row indices and one row of values each,
// for embeddings and sparse features); Step applies every tensor that
// received a gradient since the last Step and skips the others, as PyTorch
// skips parameters whose grad is None.
//
// An optimizer's methods may be called from several goroutines. The one
// thing to keep to one goroutine is filling the slices of Grad32 and
// Grad64, which Step reads without a lock: where gradients come from
// other goroutines, hand them over with SetGrad, which copies under the
// lock.
//
// Bad input is refused with an error that matches a sentinel under
// errors.Is and changes nothing: ErrShape for lengths and shapes,
// device.ErrDType for element types, device.ErrHyper for hyperparameters
// (checked in the tensor's dtype when they are given), ErrIndex for rows,
// ErrUnknownTensor for names. Step checks everything it will send before
// it sends anything.
//
// The default Eps is 1e-8, as in the Adagrad write-ups this library follows;
// PyTorch's default is 1e-10 (pass Eps(1e-10) to match it).
//
// The formula above is the default rule, device.Adagrad. Each tensor may
// run another member of the Adagrad family, as another library computes
// it (Hyper.Rule, UpdateRule), and a model may mix them: every tensor of
// one parameter dtype still takes one backend call per step.
//
//   - Keras 3's ε inside the root, TensorFlow's ApplyAdagradV2 (Keras 2)
//     and ApplyAdagrad (no ε), Optax's, GloVe's, TensorFlow's proximal
//     Adagrad and Adagrad dual averaging (with L1 and L2), JAX's with
//     momentum: per-element rules, see device/rule_family.go. The presets
//     (PyTorchDefaults, Keras2Defaults, Keras3Defaults, OptaxDefaults,
//     TF1Defaults, GloVeDefaults, TF1ProximalDefaults,
//     TF1AdagradDADefaults, JAXDefaults) set a library's rule and defaults
//     in one option.
//   - UpdateRule(device.AdagradRowwise): FBGEMM's row-wise Adagrad, one
//     accumulator per row (4 bytes per row instead of per element), for
//     embedding tables; WeightDecay as L2 or, with DecoupledWeightDecay, on
//     the weights; row-sparse gradients take weight decay too.
//   - UpdateRule(device.Adagrad8Bit): the accumulator in 8 bits, one
//     float32 scale per block of 256 (1 byte per element and a little),
//     any InitialAccumulatorValue and LRDecay; dense gradients only.
//   - Param.DType device.BFloat16 or device.Float16: parameters kept in 16
//     bits, computed in float32 with float32 state and rounded back
//     stochastically (Hyper.Seed), for any rule.
//
// A hyperparameter a tensor's rule does not read (Eps for a rule without
// ε, L1 for Adagrad, DecoupledWeightDecay for all but the row-wise rule)
// must be 0 (false): it is refused, not ignored. Every rule's state is part of
// State and of checkpoints under names that say what it is (sum,
// accumulator, gradient_squared_accumulator, row_sum, sum_absmax and
// sum_codes, ...), and a state of one rule does not load into a tensor of
// another (device.ErrRule, device.ErrDType).
package optim
