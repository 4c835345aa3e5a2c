//go:build !amd64 || purego

package cpu

import "github.com/adagrad-go/adagrad/device"

// SIMD names the vector kernels in use: none on this architecture.
func SIMD() string { return "" }

func adagrad32Fast(p, g, s []float32, r device.Range) { adagrad32(p, g, s, r) }

func adagrad64Fast(p, g, s []float64, r device.Range) { adagrad64(p, g, s, r) }
