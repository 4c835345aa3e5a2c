package device

// The per-element members of the Adagrad family beyond PyTorch's: each is
// one library's arithmetic, operation by operation, every operation
// rounded to the dtype on its own unless a fused multiply-add is stated.
// Each rule's doc names the source it follows; /work/notes' README-family
// table and the references in device/devicetest repeat the formulas.
//
// Notation: round(x) is x rounded to the dtype; fma(a, b, c) is a·b+c
// rounded once; g is the gradient after the sign (g = sign·grad, sign = -1
// to maximize) and, where a rule has weight decay, after g = fma(wd, p, g).
//
// rsqrt(x), wherever a library writes it, is computed here as 1/sqrt(x):
// the square root correctly rounded, then the division correctly rounded
// (two roundings). Libraries that use an approximate reciprocal square
// root (Eigen's vectorised rsqrt under EIGEN_FAST_MATH, XLA and CUDA's
// rsqrtf on GPUs) can differ from it, and so from these rules, in the
// last bits of the result.
//
// As the sources are written, without contraction: a library build that
// fuses a multiply and an add the source writes apart (a compiler's
// -ffp-contract=fast with FMA hardware, XLA's fusion) can differ in the
// last bit; the GloVe rule is the one that states a fused multiply-add,
// because glove.c's own Makefile builds it so.
const (
	// AdagradTF is TensorFlow's ApplyAdagradV2 and SparseApplyAdagradV2 as
	// their CPU kernels compute them (tensorflow/core/kernels/training_ops.cc),
	// which is what Keras 2's tf.keras.optimizers.Adagrad (OptimizerV2,
	// keras/optimizers/optimizer_v2/adagrad.py, and
	// tf.keras.optimizers.legacy.Adagrad from Keras 2.11 on) runs; ε
	// outside the root, the square rounded before it is added, the
	// learning rate applied before the division:
	//
	//	sum = sum + round(g·g)
	//	p   = p - round(lr·g) / (sqrt(sum) + eps)
	//
	// dense and row-sparse alike (row-sparse without weight decay).
	// TensorFlow's GPU kernel divides first (lr·(g/denominator)); Keras
	// 2.11's new default optimizer puts ε inside the root (AdagradEpsInside).
	AdagradTF Rule = 3
	// AdagradNoEps has no ε: TensorFlow's ApplyAdagrad and
	// SparseApplyAdagrad (training_ops.cc), which
	// tf.compat.v1.train.AdagradOptimizer runs:
	//
	//	sum = sum + round(g·g)
	//	p   = p - round(round(g·lr) · rsqrt(sum))
	//
	// dense and row-sparse (rows of more than one element: TensorFlow's
	// sparse kernel takes another path for a 1-D variable, dividing by
	// sqrt(sum) instead, which this rule does not follow).
	AdagradNoEps Rule = 4
	// AdagradOptax is Optax's adagrad: optax.adagrad chains
	// scale_by_rss (optax/_src/transform.py) and scale_by_learning_rate
	// (alias.py), then optax.apply_updates adds the update:
	//
	//	sum = round(g·g) + sum
	//	r   = sum > 0 ? rsqrt(sum + eps) : 0   (jnp.where: 0 also for a NaN sum)
	//	p   = p + round(-lr · round(r·g))       (= p - round(lr·round(r·g)))
	//
	// dense, and row-sparse as a dense step whose gradient is zero off the
	// touched rows. With eps = 0, this is also the arithmetic of JAX's
	// jax.example_libraries.optimizers.adagrad with momentum 0 (its
	// default momentum 0.9 is AdagradJAX), up to the sign of a zero
	// parameter.
	AdagradOptax Rule = 5
	// AdagradGloVe is the Adagrad of GloVe's reference trainer
	// (stanfordnlp/GloVe src/glove.c, glove_thread): the learning rate
	// scales the gradient first, the step divides by the root of the
	// accumulator as it was before this step, and the accumulator then
	// gains the square of the scaled gradient, fused as glove.c's Makefile
	// (-O3 -march=native; GCC contracts by default) builds it on any x86-64
	// with FMA:
	//
	//	t   = round(lr·g)
	//	p   = p - round(t / sqrt(sum))
	//	sum = fma(t, t, sum)
	//
	// dense and row-sparse alike. glove.c computes in float64 and starts
	// the accumulator at 1; its check that skips a word vector's update
	// when the update's sum is not finite is not part of the rule.
	AdagradGloVe Rule = 6
	// ProximalAdagrad is TensorFlow's ApplyProximalAdagrad and
	// SparseApplyProximalAdagrad CPU kernels (training_ops.cc; the
	// optimizer is tf.compat.v1.train.ProximalAdagradOptimizer), forward-
	// backward splitting with Adagrad's step size:
	//
	//	sum = sum + round(g·g)
	//	η   = round(lr · rsqrt(sum))
	//	v   = p - round(g·η)
	//	p   = sgn(v)·max(round(|v| - round(η·l1)), 0) / round(1 + round(l2·η))   (l1 > 0)
	//	p   = v / round(1 + round(l2·η))                                        (l1 = 0)
	//
	// with TensorFlow's sgn (sgn(±0) = +0, sgn(NaN) = 0) and max (x < 0 ?
	// 0 : x, so NaN stays NaN). Row-sparse as dense (rows of more than one
	// element: TensorFlow's 1-D sparse path computes 1 + l2·η in float64
	// and divides by sqrt(sum), which this rule does not follow).
	ProximalAdagrad Rule = 7
	// AdagradDA is Adagrad dual averaging, TensorFlow's ApplyAdagradDA
	// (dense) and SparseApplyAdagradDA (row-sparse) CPU kernels
	// (training_ops.cc; the optimizer is tf.compat.v1.train.AdagradDAOptimizer).
	// State 0 accumulates gradients (ĝ), state 1 their squares (G), and
	// the parameters are each step's closed form, at step t (coefficient
	// "step", the tensor's own step count from 1). Dense:
	//
	//	ĝ  = ĝ + g;  G = G + round(g·g)
	//	τ  = float32(t)                          (TensorFlow casts the step to float)
	//	d  = round(round(l2·round(τ·lr)) + sqrt(G))
	//	p  = round((-lr·sgn(ĝ)) · max(round(|ĝ| - round(τ·l1)), 0)) / d   (l1 > 0)
	//	p  = -round(lr·ĝ) / d                                              (l1 = 0)
	//
	// Row-sparse, only the touched rows (the others keep the closed form of
	// their last step until touched, as TensorFlow's lazy sparse update):
	//
	//	ĝ  = ĝ + g;  G = G + round(g·g)
	//	d  = round(l2 + round(sqrt(G) / round(t·lr)))
	//	p  = (-sgn(ĝ) · max(round(round(|ĝ| / t) - l1), 0)) / d   (l1 > 0)
	//	p  = -round(ĝ / t) / d                                    (l1 = 0)
	//
	// (the same closed form, rounded otherwise: TensorFlow's two kernels
	// differ so; its 1-D sparse path computes in float64 and is not
	// followed). sgn and max as in ProximalAdagrad.
	AdagradDA Rule = 8
	// AdagradJAX is jax.example_libraries.optimizers.adagrad(step_size,
	// momentum) (jax/example_libraries/optimizers.py), Adagrad with
	// momentum (0.9 by default): state 0 is g_sq, state 1 the momentum m:
	//
	//	g_sq = g_sq + round(g·g)
	//	r    = g_sq > 0 ? round(1/sqrt(g_sq)) : 0
	//	m    = round(round(c·round(g·r)) + round(momentum·m))   (c = 1 - momentum, in float64, then rounded)
	//	p    = p - round(lr·m)
	//
	// dense and row-sparse alike (the momentum of untouched rows stays).
	AdagradJAX Rule = 9
)

// Coefficient positions of the rules without ε (AdagradNoEps,
// AdagradGloVe): lr, weight decay, sign.
const (
	CoefNoEpsLR = iota
	CoefNoEpsWeightDecay
	CoefNoEpsSign
)

// Coefficient positions of the regularised rules (ProximalAdagrad,
// AdagradDA; only AdagradDA has the step): lr, l1, l2, sign, step.
const (
	CoefRegLR = iota
	CoefL1
	CoefL2
	CoefRegSign
	CoefStep
)

// Coefficient positions of AdagradJAX: lr, momentum, 1 - momentum, sign.
const (
	CoefJAXLR = iota
	CoefMomentum
	CoefOneMinusMomentum
	CoefJAXSign
)

var (
	noEpsCoefs = []CoefSpec{{Name: "lr"}, {Name: "weight_decay", DenseOnly: true}, {Name: "sign", Sign: true}}
	regCoefs   = []CoefSpec{{Name: "lr"}, {Name: "l1"}, {Name: "l2"}, {Name: "sign", Sign: true}}
	daCoefs    = append(regCoefs[:len(regCoefs):len(regCoefs)], CoefSpec{Name: "step"})
	jaxCoefs   = []CoefSpec{{Name: "lr"}, {Name: "momentum"}, {Name: "one_minus_momentum"}, {Name: "sign", Sign: true}}
)

// perElement are states of one value per parameter element, named as the
// library names them (its slot or state key).
func perElement(names ...string) []StateSpec {
	out := make([]StateSpec, len(names))
	for i, n := range names {
		out[i] = StateSpec{Name: n, Per: PerElement}
	}
	return out
}

// elementFamily are the specs of the rules above.
var elementFamily = []RuleSpec{
	{Rule: AdagradTF, Name: "adagrad-tf", Coefs: adagradCoefs, State: perElement("accumulator")},
	{Rule: AdagradNoEps, Name: "adagrad-no-eps", Coefs: noEpsCoefs, State: perElement("accumulator")},
	{Rule: AdagradOptax, Name: "adagrad-optax", Coefs: adagradCoefs, State: perElement("sum_of_squares")},
	{Rule: AdagradGloVe, Name: "adagrad-glove", Coefs: noEpsCoefs, State: perElement("gradsq")},
	{Rule: ProximalAdagrad, Name: "proximal-adagrad", Coefs: regCoefs, State: perElement("accumulator")},
	{Rule: AdagradDA, Name: "adagrad-da", Coefs: daCoefs,
		State: perElement("gradient_accumulator", "gradient_squared_accumulator")},
	{Rule: AdagradJAX, Name: "adagrad-jax", Coefs: jaxCoefs, State: perElement("g_sq", "m")},
}

// withSpecs adds specs to a table of rules.
func withSpecs(table map[Rule]RuleSpec, specs []RuleSpec) map[Rule]RuleSpec {
	for _, s := range specs {
		table[s.Rule] = s
	}
	return table
}
