package devicetest

import (
	"math"

	"github.com/adagrad-go/adagrad/device"
)

// The references of the family's per-element rules (device/rule_family.go),
// each written as its library's source reads, one rounded operation at a
// time: where the library negates the learning rate and adds (Optax), or
// multiplies by -1 (TensorFlow's dual averaging), so does the reference,
// and the backends' shorter forms must agree with it bitwise.

// sgnTF is TensorFlow's sign (Eigen's scalar_sign_op; sgn in
// training_ops.cc): 1, -1, or +0 for both zeros and for NaN.
func sgnTF[T Float](v T) T {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// max0TF is std::max(x, 0) as TensorFlow's cwiseMax and std::max compute
// it: (x < 0) ? 0 : x, so NaN stays NaN.
func max0TF[T Float](x T) T {
	if x < 0 {
		return 0
	}
	return x
}

func sqrtT[T Float](x T) T { return T(math.Sqrt(float64(x))) }

// rsqrt is 1/sqrt(x), two correctly rounded operations: the contract's
// reading of every library's rsqrt.
func rsqrt[T Float](x T) T { return T(1 / sqrtT(x)) }

func absT[T Float](x T) T { return T(math.Abs(float64(x))) }

// gradient is the family's g: sign·grad, then fma(wd, p, g) when wd != 0.
func gradient[T Float](p, grad, sign, wd T) T {
	g := T(sign * grad)
	if wd != 0 {
		g = fmaExact(wd, p, g)
	}
	return g
}

// lrOverRootRef is device.AdagradTF (inside false: TensorFlow's
// ApplyAdagradV2 CPU functor, accum += grad.square(); var -= grad * lr() /
// (accum.sqrt() + epsilon())) and device.AdagradEpsInside (inside true:
// Keras 3's update_step, assign_add(accumulator, square(gradient));
// assign_sub(variable, divide(multiply(lr, gradient),
// sqrt(add(accumulator, epsilon))))), dense and row-sparse.
func lrOverRootRef[T Float](inside bool) refKernel[T] {
	return func(p, g []T, st [device.MaxStates][]T, c [device.MaxCoefs]T, _ int) {
		lr, eps, wd, sign := c[device.CoefLR], c[device.CoefEps], c[device.CoefWeightDecay], c[device.CoefSign]
		accum := st[0]
		for i := range p {
			gi := gradient(p[i], g[i], sign, wd)
			accum[i] = T(accum[i] + T(gi*gi))
			if inside {
				p[i] = T(p[i] - T(T(lr*gi)/sqrtT(T(accum[i]+eps))))
			} else {
				p[i] = T(p[i] - T(T(gi*lr)/T(sqrtT(accum[i])+eps)))
			}
		}
	}
}

// noEpsRef is device.AdagradNoEps (TensorFlow's ApplyAdagrad CPU functor:
// accum += grad.square(); var -= grad * lr() * accum.rsqrt()).
func noEpsRef[T Float](p, g []T, st [device.MaxStates][]T, c [device.MaxCoefs]T, _ int) {
	lr, wd, sign := c[device.CoefNoEpsLR], c[device.CoefNoEpsWeightDecay], c[device.CoefNoEpsSign]
	accum := st[0]
	for i := range p {
		gi := gradient(p[i], g[i], sign, wd)
		accum[i] = T(accum[i] + T(gi*gi))
		p[i] = T(p[i] - T(T(gi*lr)*rsqrt(accum[i])))
	}
}

// optaxRef is device.AdagradOptax: scale_by_rss (sum_of_squares =
// abs_sq(g) + t; jnp.where(t > 0, jax.lax.rsqrt(t + eps), 0.0) * g), then
// scale(-learning_rate), then apply_updates (p + u).
func optaxRef[T Float](p, g []T, st [device.MaxStates][]T, c [device.MaxCoefs]T, _ int) {
	lr, eps, wd, sign := c[device.CoefLR], c[device.CoefEps], c[device.CoefWeightDecay], c[device.CoefSign]
	sum := st[0]
	for i := range p {
		gi := gradient(p[i], g[i], sign, wd)
		sum[i] = T(T(gi*gi) + sum[i])
		var inv T
		if sum[i] > 0 {
			inv = rsqrt(T(sum[i] + eps))
		}
		u := T(inv * gi)
		u = T(T(-lr) * u)
		p[i] = T(p[i] + u)
	}
}

// gloveRef is device.AdagradGloVe (glove.c: temp = g·eta; W -= temp /
// sqrt(gradsq); gradsq += temp * temp, fused).
func gloveRef[T Float](p, g []T, st [device.MaxStates][]T, c [device.MaxCoefs]T, _ int) {
	lr, wd, sign := c[device.CoefNoEpsLR], c[device.CoefNoEpsWeightDecay], c[device.CoefNoEpsSign]
	gradsq := st[0]
	for i := range p {
		gi := gradient(p[i], g[i], sign, wd)
		temp := T(gi * lr)
		p[i] = T(p[i] - T(temp/sqrtT(gradsq[i])))
		gradsq[i] = fmaExact(temp, temp, gradsq[i])
	}
}

// proximalRef is device.ProximalAdagrad (TensorFlow's ApplyProximalAdagrad
// CPU functor: accum += grad.square(); learning_rate = lr * accum.rsqrt();
// prox_var -= grad * learning_rate; then the l1 > 0 and l1 = 0 branches).
func proximalRef[T Float](p, g []T, st [device.MaxStates][]T, c [device.MaxCoefs]T, _ int) {
	lr, l1, l2, sign := c[device.CoefRegLR], c[device.CoefL1], c[device.CoefL2], c[device.CoefRegSign]
	accum := st[0]
	for i := range p {
		gi := T(sign * g[i])
		accum[i] = T(accum[i] + T(gi*gi))
		eta := T(lr * rsqrt(accum[i]))
		v := T(p[i] - T(gi*eta))
		denom := T(1 + T(l2*eta))
		if l1 > 0 {
			shrunk := max0TF(T(absT(v) - T(eta*l1)))
			p[i] = T(T(sgnTF(v)*shrunk) / denom)
		} else {
			p[i] = T(v / denom)
		}
	}
}

// daDenseRef is device.AdagradDA's dense form (TensorFlow's ApplyAdagradDA
// CPU functor; the step cast to float before it meets T).
func daDenseRef[T Float](p, g []T, st [device.MaxStates][]T, c [device.MaxCoefs]T, _ int) {
	lr, l1, l2, sign := c[device.CoefRegLR], c[device.CoefL1], c[device.CoefL2], c[device.CoefRegSign]
	step := T(float32(c[device.CoefStep]))
	gacc, gsq := st[0], st[1]
	for i := range p {
		gi := T(sign * g[i])
		gacc[i] = T(gacc[i] + gi)
		gsq[i] = T(gsq[i] + T(gi*gi))
		denom := T(T(l2*T(step*lr)) + sqrtT(gsq[i]))
		if l1 > 0 {
			shrunk := max0TF(T(absT(gacc[i]) - T(step*l1)))
			p[i] = T(T(T(T(lr*-1)*sgnTF(gacc[i]))*shrunk) / denom)
		} else {
			p[i] = T(T(T(lr*gacc[i])*-1) / denom)
		}
	}
}

// daRowsRef is device.AdagradDA's row-sparse form (SparseApplyAdagradDA's
// path for rows of more than one element: the step in T, gs_lr = step·lr).
func daRowsRef[T Float](p, g []T, st [device.MaxStates][]T, c [device.MaxCoefs]T, _ int) {
	lr, l1, l2, sign, step := c[device.CoefRegLR], c[device.CoefL1], c[device.CoefL2], c[device.CoefRegSign], c[device.CoefStep]
	gsLR := T(step * lr)
	gacc, gsq := st[0], st[1]
	for i := range p {
		gi := T(sign * g[i])
		gacc[i] = T(gacc[i] + gi)
		gsq[i] = T(gsq[i] + T(gi*gi))
		denom := T(l2 + T(sqrtT(gsq[i])/gsLR))
		if l1 > 0 {
			shrunk := max0TF(T(T(absT(gacc[i])/step) - l1))
			p[i] = T(T(T(-1*sgnTF(gacc[i]))*shrunk) / denom)
		} else {
			p[i] = T(T(-1*T(gacc[i]/step)) / denom)
		}
	}
}

// jaxRef is device.AdagradJAX (jax.example_libraries.optimizers.adagrad:
// g_sq += jnp.square(g); g_sq_inv_sqrt = jnp.where(g_sq > 0, 1. /
// jnp.sqrt(g_sq), 0.0); m = (1. - momentum) * (g * g_sq_inv_sqrt) +
// momentum * m; x = x - step_size(i) * m).
func jaxRef[T Float](p, g []T, st [device.MaxStates][]T, c [device.MaxCoefs]T, _ int) {
	lr, mom, oneMinus, sign := c[device.CoefJAXLR], c[device.CoefMomentum], c[device.CoefOneMinusMomentum], c[device.CoefJAXSign]
	gsq, m := st[0], st[1]
	for i := range p {
		gi := T(sign * g[i])
		gsq[i] = T(gsq[i] + T(gi*gi))
		var inv T
		if gsq[i] > 0 {
			inv = T(1 / sqrtT(gsq[i]))
		}
		m[i] = T(T(oneMinus*T(gi*inv)) + T(mom*m[i]))
		p[i] = T(p[i] - T(lr*m[i]))
	}
}

// sameForms is a reference whose dense and row-sparse forms are one.
func sameForms(k32 refKernel[float32], k64 refKernel[float64]) ruleReference {
	return ruleReference{dense32: k32, rows32: k32, dense64: k64, rows64: k64}
}

// familyReferences are the references of device/rule_family.go's rules.
var familyReferences = map[device.Rule]ruleReference{
	device.AdagradTF:       sameForms(lrOverRootRef[float32](false), lrOverRootRef[float64](false)),
	device.AdagradNoEps:    sameForms(noEpsRef[float32], noEpsRef[float64]),
	device.AdagradOptax:    sameForms(optaxRef[float32], optaxRef[float64]),
	device.AdagradGloVe:    sameForms(gloveRef[float32], gloveRef[float64]),
	device.ProximalAdagrad: sameForms(proximalRef[float32], proximalRef[float64]),
	device.AdagradDA: {dense32: daDenseRef[float32], rows32: daRowsRef[float32],
		dense64: daDenseRef[float64], rows64: daRowsRef[float64]},
	device.AdagradJAX: sameForms(jaxRef[float32], jaxRef[float64]),
}

// withFamily adds familyReferences to a table of references.
func withFamily(table map[device.Rule]ruleReference) map[device.Rule]ruleReference {
	for r, ref := range familyReferences {
		table[r] = ref
	}
	return table
}
