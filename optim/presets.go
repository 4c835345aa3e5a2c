package optim

import "github.com/adagrad-go/adagrad/device"

// Presets reproduce a library's Adagrad, its arithmetic (the rule) and its
// defaults, in one option:
//
//	opt, err := optim.New(dev, params, optim.Keras3Defaults())
//	opt, err := optim.New(dev, params, optim.TF1ProximalDefaults(0.1), optim.L1(1e-3))
//
// A preset replaces every hyperparameter but SkipNonFinite and Seed (this
// library's own, which no library's defaults name); options after it
// change what they name. Where the library has no default learning rate,
// the preset takes one.

// preset is an Option that sets h to x, keeping SkipNonFinite and Seed.
// It writes nothing it shares: one preset may be applied from many
// goroutines at once (the ranks of a sharded optimizer).
func preset(x Hyper) Option {
	return func(h *Hyper) {
		y := x
		y.SkipNonFinite, y.Seed = h.SkipNonFinite, h.Seed
		*h = y
	}
}

// PyTorchDefaults is torch.optim.Adagrad's defaults (torch/optim/adagrad.py:
// lr 1e-2, lr_decay 0, weight_decay 0, initial_accumulator_value 0, eps
// 1e-10) with its arithmetic, device.Adagrad.
func PyTorchDefaults() Option {
	return preset(Hyper{LR: 0.01, Eps: 1e-10, Rule: device.Adagrad})
}

// Keras2Defaults is Keras 2's tf.keras.optimizers.Adagrad
// (keras/optimizers/optimizer_v2/adagrad.py; tf.keras.optimizers.legacy.Adagrad
// from Keras 2.11 on: learning_rate 0.001, initial_accumulator_value 0.1,
// epsilon 1e-7), which runs TensorFlow's ApplyAdagradV2: device.AdagradTF.
func Keras2Defaults() Option {
	return preset(Hyper{LR: 0.001, Eps: 1e-7, InitialAccumulatorValue: 0.1, Rule: device.AdagradTF})
}

// Keras3Defaults is Keras 3's keras.optimizers.Adagrad
// (keras/src/optimizers/adagrad.py: learning_rate 0.001,
// initial_accumulator_value 0.1, epsilon 1e-7 inside the root):
// device.AdagradEpsInside. (Keras 2.11's new default optimizer,
// keras/optimizers/adagrad.py, has the same defaults and arithmetic.)
func Keras3Defaults() Option {
	return preset(Hyper{LR: 0.001, Eps: 1e-7, InitialAccumulatorValue: 0.1, Rule: device.AdagradEpsInside})
}

// OptaxDefaults is optax.adagrad(learning_rate) (optax/_src/alias.py:
// initial_accumulator_value 0.1, eps 1e-7, inside the root and guarded;
// transform.py's scale_by_rss): device.AdagradOptax.
func OptaxDefaults(lr float64) Option {
	return preset(Hyper{LR: lr, Eps: 1e-7, InitialAccumulatorValue: 0.1, Rule: device.AdagradOptax})
}

// TF1Defaults is tf.compat.v1.train.AdagradOptimizer(learning_rate)
// (tensorflow/python/training/adagrad.py: initial_accumulator_value 0.1,
// no ε), which runs TensorFlow's ApplyAdagrad: device.AdagradNoEps.
func TF1Defaults(lr float64) Option {
	return preset(Hyper{LR: lr, InitialAccumulatorValue: 0.1, Rule: device.AdagradNoEps})
}

// GloVeDefaults is GloVe's reference trainer (stanfordnlp/GloVe
// src/glove.c: eta 0.05, gradsq starting at 1.0, no ε): device.AdagradGloVe.
// glove.c updates the biases with the same accumulator rule but without
// eta (a learning rate of 1): give the bias tensors LR(1) to match it.
func GloVeDefaults() Option {
	return preset(Hyper{LR: 0.05, InitialAccumulatorValue: 1, Rule: device.AdagradGloVe})
}

// TF1ProximalDefaults is tf.compat.v1.train.ProximalAdagradOptimizer(
// learning_rate) (tensorflow/python/training/proximal_adagrad.py:
// initial_accumulator_value 0.1, l1 and l2 regularization strengths 0):
// device.ProximalAdagrad. Add L1 and L2 after it.
func TF1ProximalDefaults(lr float64) Option {
	return preset(Hyper{LR: lr, InitialAccumulatorValue: 0.1, Rule: device.ProximalAdagrad})
}

// TF1AdagradDADefaults is tf.compat.v1.train.AdagradDAOptimizer(
// learning_rate, global_step) (tensorflow/python/training/adagrad_da.py:
// initial_gradient_squared_accumulator_value 0.1, l1 and l2 0):
// device.AdagradDA, the step being each tensor's own (see device.AdagradDA).
// Add L1 and L2 after it.
func TF1AdagradDADefaults(lr float64) Option {
	return preset(Hyper{LR: lr, InitialAccumulatorValue: 0.1, Rule: device.AdagradDA})
}

// JAXDefaults is jax.example_libraries.optimizers.adagrad(step_size)
// (jax/example_libraries/optimizers.py: momentum 0.9, g_sq and m starting
// at 0): device.AdagradJAX.
func JAXDefaults(lr float64) Option {
	return preset(Hyper{LR: lr, Momentum: 0.9, Rule: device.AdagradJAX})
}
