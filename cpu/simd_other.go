//go:build !amd64 || purego

package cpu

// SIMD names the vector kernels in use: none on this architecture.
func SIMD() string { return "" }

func adagradDense32Fast(p, g []float32, st *states[float32], c *coefs[float32]) {
	adagradDense(p, g, st, c)
}

func adagradDense64Fast(p, g []float64, st *states[float64], c *coefs[float64]) {
	adagradDense(p, g, st, c)
}

func adagradRowwise32Fast(p, g []float32, st *states[float32], c *coefs[float32]) {
	adagradRowwise(p, g, st, c)
}
