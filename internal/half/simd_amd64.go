//go:build !purego

package half

import "golang.org/x/sys/cpu"

//go:noescape
func narrowBF16AVX2(dst *uint16, src *float32, n int)

//go:noescape
func narrowF16F16C(dst *uint16, src *float32, n int)

//go:noescape
func widenBF16AVX2(dst *float32, src *uint16, n int)

//go:noescape
func widenF16F16C(dst *float32, src *uint16, n int)

var (
	avx2 = cpu.X86.HasAVX2
	f16c = cpu.X86.HasAVX2 && cpu.X86.HasF16C
)

// SIMD names the vector code in use, or "" for the scalar loops.
func SIMD() string {
	switch {
	case f16c:
		return "avx2+f16c"
	case avx2:
		return "avx2"
	}
	return ""
}

// The fast functions convert the longest multiple of 16 elements and
// return how many; the callers finish the tail with the scalar functions.

func narrowBF16Fast(dst []uint16, src []float32) int {
	n := len(src) &^ 15
	if !avx2 || n == 0 {
		return 0
	}
	narrowBF16AVX2(&dst[0], &src[0], n)
	return n
}

func narrowF16Fast(dst []uint16, src []float32) int {
	n := len(src) &^ 15
	if !f16c || n == 0 {
		return 0
	}
	narrowF16F16C(&dst[0], &src[0], n)
	return n
}

func widenBF16Fast(dst []float32, src []uint16) int {
	n := len(src) &^ 15
	if !avx2 || n == 0 {
		return 0
	}
	widenBF16AVX2(&dst[0], &src[0], n)
	return n
}

func widenF16Fast(dst []float32, src []uint16) int {
	n := len(src) &^ 15
	if !f16c || n == 0 {
		return 0
	}
	widenF16F16C(&dst[0], &src[0], n)
	return n
}
