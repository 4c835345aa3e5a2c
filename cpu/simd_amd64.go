//go:build !purego

package cpu

import (
	"os"

	"golang.org/x/sys/cpu"
)

//go:noescape
func adagrad32AVX2(p, grad, s *float32, n int, c *[4]float32)

//go:noescape
func adagrad64AVX2(p, grad, s *float64, n int, c *[4]float64)

// simd reports whether the AVX2+FMA kernels run: the CPU and OS support
// them, and ADAGRAD_CPU_SIMD is not "off" (for measuring the scalar loop).
var simd = cpu.X86.HasAVX2 && cpu.X86.HasFMA && os.Getenv("ADAGRAD_CPU_SIMD") != "off"

// SIMD names the vector kernels in use, or "" for the scalar loop.
func SIMD() string {
	if simd {
		return "avx2+fma"
	}
	return ""
}

// adagradDense32Fast runs device.Adagrad's dense form with the vector
// kernel over the longest multiple of 8 elements and the scalar loop over
// the tail; both compute the same bits. The kernel reads the first four
// coefficients: lr, eps, weight decay, sign.
func adagradDense32Fast(p, g []float32, st *states[float32], c *coefs[float32]) {
	n := len(p) &^ 7
	if simd && n > 0 {
		s := st[0]
		adagrad32AVX2(&p[0], &g[0], &s[0], n, (*[4]float32)(c[:4]))
		tail := states[float32]{s[n:]}
		p, g, st = p[n:], g[n:len(p)], &tail
	}
	adagradDense(p, g, st, c)
}

func adagradDense64Fast(p, g []float64, st *states[float64], c *coefs[float64]) {
	n := len(p) &^ 3
	if simd && n > 0 {
		s := st[0]
		adagrad64AVX2(&p[0], &g[0], &s[0], n, (*[4]float64)(c[:4]))
		tail := states[float64]{s[n:]}
		p, g, st = p[n:], g[n:len(p)], &tail
	}
	adagradDense(p, g, st, c)
}
