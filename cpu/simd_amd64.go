//go:build !purego

package cpu

import (
	"os"

	"golang.org/x/sys/cpu"

	"github.com/adagrad-go/adagrad/device"
)

//go:noescape
func adagrad32AVX2(p, grad, s *float32, n int, c *[4]float32)

//go:noescape
func adagrad64AVX2(p, grad, s *float64, n int, c *[4]float64)

//go:noescape
func rowSquares32AVX2(p, grad *float32, n int, sign, wd float32, a *[rowLanes]float32)

//go:noescape
func rowStep32AVX2(p, grad *float32, n int, mult, corr float32)

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

// adagradRowwise32Fast is device.AdagradRowwise over whole rows (p and g
// hold len(st[0]) rows of equal width, st[0] their accumulators) with the
// rows' sums and steps in vector code: its lanes are the rule's 8 lanes.
func adagradRowwise32Fast(p, g []float32, st *states[float32], c *coefs[float32]) {
	m := st[0]
	if !simd || len(m) == 0 {
		adagradRowwise(p, g, st, c)
		return
	}
	w := len(p) / len(m)
	if w < 8 {
		adagradRowwise(p, g, st, c)
		return
	}
	wd, sign := c[device.CoefWeightDecay], c[device.CoefSign]
	l2 := float32(0)
	if wd != 0 && c[device.CoefDecoupled] == 0 {
		l2 = wd
	}
	for r := range m {
		row, grad := p[r*w:(r+1)*w], g[r*w:(r+1)*w]
		var a [rowLanes]float32
		rowSquares32AVX2(&row[0], &grad[0], w, sign, l2, &a)
		mult, corr := rowwiseScale(a, w, &m[r], c)
		rowStep32AVX2(&row[0], &grad[0], w, mult*sign, corr)
	}
}
