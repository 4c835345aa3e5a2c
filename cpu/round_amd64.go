//go:build !purego

package cpu

//go:noescape
func roundHalfAVX2(dst *uint16, src *float32, n int, key, first uint64, f16 bool)

// roundHalfFast rounds the longest multiple of 8 elements of src into dst
// stochastically with vector code (the same bits as device.RoundBF16 and
// device.RoundF16 with device.StochasticBits), and returns how many; the
// caller rounds the rest.
func roundHalfFast(dst []uint16, src []float32, f16 bool, key, first uint64) int {
	n := len(src) &^ 7
	if !simd || n == 0 {
		return 0
	}
	roundHalfAVX2(&dst[0], &src[0], n, key, first, f16)
	return n
}
