package cpu

import (
	"math"

	"github.com/adagrad-go/adagrad/device"
)

// The scalar kernels of each rule (see device.Rule for the formulas). A
// fused multiply-add appears only where the rule has one; every other
// operation is rounded to the dtype on its own. Explicit conversions keep
// the Go compiler from fusing anything else: the spec lets it fuse x*y+z
// unless a conversion sits between, and any extra fusion would break
// bitwise agreement with the GPU kernels.

type float interface{ float32 | float64 }

// coefs is a range's coefficients rounded to the dtype; states is the
// range's state, each sliced to the piece being updated.
type (
	coefs[T float]  [device.MaxCoefs]T
	states[T float] [device.MaxStates][]T
)

// fma is a*b+c rounded once: fma32 for float32 (Go has no float32 FMA),
// math.FMA for float64.
func fma[T float](a, b, c T) T {
	if x, ok := any(a).(float32); ok {
		return T(fma32(x, float32(b), float32(c)))
	}
	return T(math.FMA(float64(a), float64(b), float64(c)))
}

func sqrt[T float](x T) T { return T(math.Sqrt(float64(x))) }

// adagradDense is device.Adagrad's dense form over one piece:
// g = sign·grad, g = fma(wd, p, g), sum = fma(g, g, sum),
// p = p - (lr·g)/(sqrt(sum)+eps).
func adagradDense[T float](p, g []T, st *states[T], c *coefs[T]) {
	lr, eps, wd, sign := c[device.CoefLR], c[device.CoefEps], c[device.CoefWeightDecay], c[device.CoefSign]
	s := st[0][:len(p)]
	g = g[:len(p)]
	for i := range p {
		gi := grad(p[i], g[i], sign, wd)
		si := fma(gi, gi, s[i])
		s[i] = si
		std := T(sqrt(si) + eps)
		p[i] = T(p[i] - T(T(lr*gi)/std))
	}
}

// adagradRows is device.Adagrad's row-sparse form, PyTorch's sparse path:
// the square rounded and then added, the division before the scaling by
// the learning rate.
func adagradRows[T float](p, g []T, st *states[T], c *coefs[T]) {
	lr, eps, sign := c[device.CoefLR], c[device.CoefEps], c[device.CoefSign]
	s := st[0][:len(p)]
	g = g[:len(p)]
	for i := range p {
		gi := T(sign * g[i])
		si := T(s[i] + T(gi*gi))
		s[i] = si
		std := T(sqrt(si) + eps)
		p[i] = T(p[i] - T(lr*T(gi/std)))
	}
}
