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

// adagrad32Fast runs the vector kernel over the longest multiple of 8 and
// the scalar loop over the tail; both compute the same bits.
func adagrad32Fast(p, g, s []float32, r device.Range) {
	n := len(p) &^ 7
	if simd && n > 0 {
		c := [4]float32{float32(r.LR), float32(r.Eps), float32(r.WeightDecay), 1}
		if r.Maximize {
			c[3] = -1
		}
		adagrad32AVX2(&p[0], &g[0], &s[0], n, &c)
		p, g, s = p[n:], g[n:len(p)], s[n:len(p)]
	}
	adagrad32(p, g, s, r)
}

func adagrad64Fast(p, g, s []float64, r device.Range) {
	n := len(p) &^ 3
	if simd && n > 0 {
		c := [4]float64{r.LR, r.Eps, r.WeightDecay, 1}
		if r.Maximize {
			c[3] = -1
		}
		adagrad64AVX2(&p[0], &g[0], &s[0], n, &c)
		p, g, s = p[n:], g[n:len(p)], s[n:len(p)]
	}
	adagrad64(p, g, s, r)
}
