package cpu

import (
	"math"

	"github.com/adagrad-go/adagrad/device"
)

// The scalar kernels of the family's per-element rules
// (device/rule_family.go), with the same explicit conversions as
// kernel.go's: every operation rounded to the dtype on its own, a fused
// multiply-add only where the rule states one.

// grad is the family's g: sign·grad, then fma(wd, p, g) when wd != 0.
func grad[T float](p, g, sign, wd T) T {
	gi := T(sign * g)
	if wd != 0 {
		gi = fma(wd, p, gi)
	}
	return gi
}

// rsqrt is 1/sqrt(x), two correctly rounded operations.
func rsqrt[T float](x T) T { return T(1 / sqrt(x)) }

// sgnTF is TensorFlow's sign: 1, -1, or +0 for both zeros and NaN.
func sgnTF[T float](v T) T {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// max0TF is TensorFlow's max(x, 0): x < 0 ? 0 : x (NaN stays NaN).
func max0TF[T float](x T) T {
	if x < 0 {
		return 0
	}
	return x
}

func abs[T float](x T) T { return T(math.Abs(float64(x))) }

// lrOverRoot is device.AdagradTF (inside false) and AdagradEpsInside
// (inside true): sum = sum + round(g·g), then p = p - round(lr·g) /
// (sqrt(sum)+eps), or / sqrt(sum+eps).
func lrOverRoot[T float](inside bool) kernel[T] {
	return func(p, g []T, st *states[T], c *coefs[T]) {
		lr, eps, wd, sign := c[device.CoefLR], c[device.CoefEps], c[device.CoefWeightDecay], c[device.CoefSign]
		s := st[0][:len(p)]
		g = g[:len(p)]
		for i := range p {
			gi := grad(p[i], g[i], sign, wd)
			si := T(s[i] + T(gi*gi))
			s[i] = si
			denom := T(sqrt(si) + eps)
			if inside {
				denom = sqrt(T(si + eps))
			}
			p[i] = T(p[i] - T(T(lr*gi)/denom))
		}
	}
}

// noEps is device.AdagradNoEps: sum = sum + round(g·g),
// p = p - round(round(g·lr)·rsqrt(sum)).
func noEps[T float](p, g []T, st *states[T], c *coefs[T]) {
	lr, wd, sign := c[device.CoefNoEpsLR], c[device.CoefNoEpsWeightDecay], c[device.CoefNoEpsSign]
	s := st[0][:len(p)]
	g = g[:len(p)]
	for i := range p {
		gi := grad(p[i], g[i], sign, wd)
		si := T(s[i] + T(gi*gi))
		s[i] = si
		p[i] = T(p[i] - T(T(gi*lr)*rsqrt(si)))
	}
}

// optax is device.AdagradOptax: sum = round(g·g) + sum,
// r = sum > 0 ? rsqrt(sum+eps) : 0, p = p - round(lr·round(r·g)).
func optax[T float](p, g []T, st *states[T], c *coefs[T]) {
	lr, eps, wd, sign := c[device.CoefLR], c[device.CoefEps], c[device.CoefWeightDecay], c[device.CoefSign]
	s := st[0][:len(p)]
	g = g[:len(p)]
	for i := range p {
		gi := grad(p[i], g[i], sign, wd)
		si := T(T(gi*gi) + s[i])
		s[i] = si
		var r T
		if si > 0 {
			r = rsqrt(T(si + eps))
		}
		p[i] = T(p[i] - T(lr*T(r*gi)))
	}
}

// glove is device.AdagradGloVe: t = round(lr·g), p = p - round(t/sqrt(sum))
// with the accumulator before the step, then sum = fma(t, t, sum).
func glove[T float](p, g []T, st *states[T], c *coefs[T]) {
	lr, wd, sign := c[device.CoefNoEpsLR], c[device.CoefNoEpsWeightDecay], c[device.CoefNoEpsSign]
	s := st[0][:len(p)]
	g = g[:len(p)]
	for i := range p {
		t := T(lr * grad(p[i], g[i], sign, wd))
		si := s[i]
		p[i] = T(p[i] - T(t/sqrt(si)))
		s[i] = fma(t, t, si)
	}
}

// proximal is device.ProximalAdagrad.
func proximal[T float](p, g []T, st *states[T], c *coefs[T]) {
	lr, l1, l2, sign := c[device.CoefRegLR], c[device.CoefL1], c[device.CoefL2], c[device.CoefRegSign]
	s := st[0][:len(p)]
	g = g[:len(p)]
	for i := range p {
		gi := T(sign * g[i])
		si := T(s[i] + T(gi*gi))
		s[i] = si
		eta := T(lr * rsqrt(si))
		v := T(p[i] - T(gi*eta))
		denom := T(1 + T(l2*eta))
		if l1 > 0 {
			v = T(sgnTF(v) * max0TF(T(abs(v)-T(eta*l1))))
		}
		p[i] = T(v / denom)
	}
}

// daAccumulate adds g to element i of AdagradDA's gradient accumulator ga
// and its square, rounded, to the squared accumulator gg, and returns both.
func daAccumulate[T float](ga, gg []T, i int, g T) (a, q T) {
	a, q = T(ga[i]+g), T(gg[i]+T(g*g))
	ga[i], gg[i] = a, q
	return a, q
}

// daDense is device.AdagradDA's dense form.
func daDense[T float](p, g []T, st *states[T], c *coefs[T]) {
	lr, l1, l2, sign := c[device.CoefRegLR], c[device.CoefL1], c[device.CoefL2], c[device.CoefRegSign]
	step := T(float32(c[device.CoefStep])) // TensorFlow casts the step to float
	l2Step, l1Step := T(l2*T(step*lr)), T(step*l1)
	ga, gg := st[0][:len(p)], st[1][:len(p)]
	g = g[:len(p)]
	for i := range p {
		a, q := daAccumulate(ga, gg, i, T(sign*g[i]))
		denom := T(l2Step + sqrt(q))
		if l1 > 0 {
			p[i] = T(T(T(-lr*sgnTF(a))*max0TF(T(abs(a)-l1Step))) / denom)
		} else {
			p[i] = T(-T(lr*a) / denom)
		}
	}
}

// daRows is device.AdagradDA's row-sparse form.
func daRows[T float](p, g []T, st *states[T], c *coefs[T]) {
	lr, l1, l2, sign, step := c[device.CoefRegLR], c[device.CoefL1], c[device.CoefL2], c[device.CoefRegSign], c[device.CoefStep]
	stepLR := T(step * lr)
	ga, gg := st[0][:len(p)], st[1][:len(p)]
	g = g[:len(p)]
	for i := range p {
		a, q := daAccumulate(ga, gg, i, T(sign*g[i]))
		denom := T(l2 + T(sqrt(q)/stepLR))
		if l1 > 0 {
			p[i] = T(T(-sgnTF(a)*max0TF(T(T(abs(a)/step)-l1))) / denom)
		} else {
			p[i] = T(-T(a/step) / denom)
		}
	}
}

// jax is device.AdagradJAX.
func jax[T float](p, g []T, st *states[T], c *coefs[T]) {
	lr, mom, oneMinus, sign := c[device.CoefJAXLR], c[device.CoefMomentum], c[device.CoefOneMinusMomentum], c[device.CoefJAXSign]
	gs, m := st[0][:len(p)], st[1][:len(p)]
	g = g[:len(p)]
	for i := range p {
		gi := T(sign * g[i])
		q := T(gs[i] + T(gi*gi))
		gs[i] = q
		var r T
		if q > 0 {
			r = rsqrt(q)
		}
		mi := T(T(oneMinus*T(gi*r)) + T(mom*m[i]))
		m[i] = mi
		p[i] = T(p[i] - T(lr*mi))
	}
}

// both is a rule whose dense and row-sparse forms are one kernel.
func both(k32 kernel[float32], k64 kernel[float64]) ruleKernel {
	return ruleKernel{dense32: k32, rows32: k32, dense64: k64, rows64: k64}
}

// withFamily adds the family's kernels to a table of rules.
func withFamily(table map[device.Rule]ruleKernel) map[device.Rule]ruleKernel {
	for r, k := range map[device.Rule]ruleKernel{
		device.AdagradTF:       both(lrOverRoot[float32](false), lrOverRoot[float64](false)),
		device.AdagradNoEps:    both(noEps[float32], noEps[float64]),
		device.AdagradOptax:    both(optax[float32], optax[float64]),
		device.AdagradGloVe:    both(glove[float32], glove[float64]),
		device.ProximalAdagrad: both(proximal[float32], proximal[float64]),
		device.AdagradDA: {dense32: daDense[float32], rows32: daRows[float32],
			dense64: daDense[float64], rows64: daRows[float64]},
		device.AdagradJAX: both(jax[float32], jax[float64]),
	} {
		table[r] = k
	}
	familyVector(table)
	return table
}
