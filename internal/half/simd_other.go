//go:build !amd64 || purego

package half

// Without vector code every element takes the scalar path.

func narrowBF16Fast([]uint16, []float32) int { return 0 }
func narrowF16Fast([]uint16, []float32) int  { return 0 }
func widenBF16Fast([]float32, []uint16) int  { return 0 }
func widenF16Fast([]float32, []uint16) int   { return 0 }

// SIMD names the vector code in use, or "" for the scalar loops.
func SIMD() string { return "" }
