//go:build !purego

package cpu

import (
	"math"

	"github.com/adagrad-go/adagrad/device"
)

// The AVX2 kernels of the family's rules (simd_family_amd64.s): each runs
// over the longest multiple of a vector's lanes and leaves the tail to the
// scalar kernel; both compute the same bits. A range with weight decay
// runs the scalar kernel throughout.

//go:noescape
func tfF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)

//go:noescape
func sparseF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)

//go:noescape
func kerasF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)

//go:noescape
func noEpsF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)

//go:noescape
func optaxF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)

//go:noescape
func gloveF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)

//go:noescape
func proxF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)

//go:noescape
func proxL1F32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)

//go:noescape
func daF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)

//go:noescape
func daL1F32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)

//go:noescape
func jaxF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)

//go:noescape
func tfF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)

//go:noescape
func sparseF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)

//go:noescape
func kerasF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)

//go:noescape
func noEpsF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)

//go:noescape
func optaxF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)

//go:noescape
func gloveF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)

//go:noescape
func proxF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)

//go:noescape
func proxL1F64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)

//go:noescape
func daF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)

//go:noescape
func daL1F64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)

//go:noescape
func jaxF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)

// asmKernel is one of the assembly kernels.
type asmKernel[T float] func(p, grad, s0, s1 *T, bytes int, k *[8]T)

// chooser picks a range's assembly kernel and packs its constants as the
// kernel reads them, or returns nil when the range needs the scalar kernel
// throughout.
type chooser[T float] func(c *coefs[T]) (asmKernel[T], [8]T)

// negZero is -0, the sign mask of the kernels that take absolute values.
var negZero = math.Copysign(0, -1)

// pickOf returns the float32 or the float64 kernel, as T is.
func pickOf[T float](k32 asmKernel[float32], k64 asmKernel[float64]) asmKernel[T] {
	if _, ok := any(T(0)).(float32); ok {
		return any(k32).(asmKernel[T])
	}
	return any(k64).(asmKernel[T])
}

// vector wraps a rule's scalar kernel with its assembly kernel.
func vector[T float](choose chooser[T], scalar kernel[T]) kernel[T] {
	return func(p, g []T, st *states[T], c *coefs[T]) {
		lanes := 32 / int(sizeOf[T]())
		n := len(p) / lanes * lanes
		if simd && n > 0 {
			if k, consts := choose(c); k != nil {
				s0 := st[0]
				s1 := s0 // one-state rules: never touched
				if st[1] != nil {
					s1 = st[1]
				}
				k(&p[0], &g[0], &s0[0], &s1[0], n*int(sizeOf[T]()), &consts)
				if n == len(p) {
					return // no tail: nothing for the scalar loop (nor to allocate)
				}
				var tail states[T]
				for i, s := range st {
					if s != nil {
						tail[i] = s[n:]
					}
				}
				p, g, st = p[n:], g[n:len(p)], &tail
			}
		}
		scalar(p, g, st, c)
	}
}

func sizeOf[T float]() uintptr {
	if _, ok := any(T(0)).(float32); ok {
		return 4
	}
	return 8
}

// The choosers: the constants of each body in simd_family_amd64.s, in its
// order, computed with the scalar kernels' roundings.

func epsConsts[T float](k32 asmKernel[float32], k64 asmKernel[float64]) chooser[T] {
	return func(c *coefs[T]) (asmKernel[T], [8]T) {
		if c[device.CoefWeightDecay] != 0 {
			return nil, [8]T{}
		}
		return pickOf[T](k32, k64), [8]T{c[device.CoefLR], c[device.CoefEps], c[device.CoefSign], 1}
	}
}

func noEpsConsts[T float](k32 asmKernel[float32], k64 asmKernel[float64]) chooser[T] {
	return func(c *coefs[T]) (asmKernel[T], [8]T) {
		if c[device.CoefNoEpsWeightDecay] != 0 {
			return nil, [8]T{}
		}
		return pickOf[T](k32, k64), [8]T{c[device.CoefNoEpsLR], c[device.CoefNoEpsSign], 1}
	}
}

func proxConsts[T float](c *coefs[T]) (asmKernel[T], [8]T) {
	k := pickOf[T](proxF32, proxF64)
	if c[device.CoefL1] > 0 {
		k = pickOf[T](proxL1F32, proxL1F64)
	}
	return k, [8]T{c[device.CoefRegLR], c[device.CoefL1], c[device.CoefL2], c[device.CoefRegSign], 1, -1, T(negZero)}
}

func daConsts[T float](c *coefs[T]) (asmKernel[T], [8]T) {
	lr, l1, l2 := c[device.CoefRegLR], c[device.CoefL1], c[device.CoefL2]
	step := T(float32(c[device.CoefStep]))
	k := pickOf[T](daF32, daF64)
	if l1 > 0 {
		k = pickOf[T](daL1F32, daL1F64)
	}
	return k, [8]T{-lr, lr, T(step * l1), T(l2 * T(step*lr)), c[device.CoefRegSign], 1, -1, T(negZero)}
}

func jaxConsts[T float](c *coefs[T]) (asmKernel[T], [8]T) {
	return pickOf[T](jaxF32, jaxF64), [8]T{c[device.CoefJAXLR], c[device.CoefMomentum], c[device.CoefOneMinusMomentum], c[device.CoefJAXSign], 1}
}

// familyVector are the family's rules with assembly kernels: dense forms,
// the row-sparse forms that are the same kernel, and Adagrad's row-sparse
// form.
func familyVector(table map[device.Rule]ruleKernel) {
	vec := func(r device.Rule, c32 chooser[float32], c64 chooser[float64]) {
		k := table[r]
		k.dense32, k.rows32 = vector(c32, k.dense32), vector(c32, k.rows32)
		k.dense64, k.rows64 = vector(c64, k.dense64), vector(c64, k.rows64)
		table[r] = k
	}
	// Adagrad's dense form has its own kernel (simd_amd64.s); its
	// row-sparse form rounds as PyTorch's sparse path does.
	ada := table[device.Adagrad]
	ada.rows32 = vector(epsConsts[float32](sparseF32, sparseF64), ada.rows32)
	ada.rows64 = vector(epsConsts[float64](sparseF32, sparseF64), ada.rows64)
	table[device.Adagrad] = ada
	vec(device.AdagradTF, epsConsts[float32](tfF32, tfF64), epsConsts[float64](tfF32, tfF64))
	vec(device.AdagradEpsInside, epsConsts[float32](kerasF32, kerasF64), epsConsts[float64](kerasF32, kerasF64))
	vec(device.AdagradOptax, epsConsts[float32](optaxF32, optaxF64), epsConsts[float64](optaxF32, optaxF64))
	vec(device.AdagradNoEps, noEpsConsts[float32](noEpsF32, noEpsF64), noEpsConsts[float64](noEpsF32, noEpsF64))
	vec(device.AdagradGloVe, noEpsConsts[float32](gloveF32, gloveF64), noEpsConsts[float64](gloveF32, gloveF64))
	vec(device.ProximalAdagrad, proxConsts[float32], proxConsts[float64])
	vec(device.AdagradJAX, jaxConsts[float32], jaxConsts[float64])
	da := table[device.AdagradDA] // the row-sparse form rounds otherwise: scalar
	da.dense32, da.dense64 = vector(daConsts[float32], da.dense32), vector(daConsts[float64], da.dense64)
	table[device.AdagradDA] = da
}
