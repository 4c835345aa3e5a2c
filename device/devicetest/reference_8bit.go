package devicetest

import (
	"math"

	"github.com/adagrad-go/adagrad/device"
)

// adagrad8BitRef is device.Adagrad8Bit (dense), written out from the rule's
// statement: st[0] holds one scale per block of device.Block8Bit elements,
// st[1] the elements' 8-bit codes as values of T (0 to 255, exact), so
// that the references keep one signature. The code table is part of the
// rule (device.Code8Bit, bitsandbytes' unsigned dynamic map); the
// quantization is done here apart from the backends: a linear scan for
// the codes whose midpoints lie below the value.
func adagrad8BitRef[T Float](p, g []T, st [device.MaxStates][]T, c [device.MaxCoefs]T, _ int) {
	lr, eps, wd, sign := c[device.CoefLR], c[device.CoefEps], c[device.CoefWeightDecay], c[device.CoefSign]
	const block = device.Block8Bit
	for b := 0; b*block < len(p); b++ {
		lo, hi := b*block, min((b+1)*block, len(p))
		scale := st[0][b]
		sums := make([]T, hi-lo)
		var largest T
		for j := lo; j < hi; j++ {
			sum := T(T(device.Code8Bit[int(st[1][j])]) * scale)
			gj := T(sign * g[j])
			if wd != 0 {
				gj = fmaExact(wd, p[j], gj)
			}
			sum = fmaExact(gj, gj, sum)
			denom := T(T(math.Sqrt(float64(sum))) + eps)
			p[j] = T(p[j] - T(T(lr*gj)/denom))
			if sum > largest { // NaN never is
				largest = sum
			}
			sums[j-lo] = sum
		}
		st[0][b] = largest
		for j := lo; j < hi; j++ {
			var x T
			if largest > 0 {
				x = T(sums[j-lo] / largest)
			}
			st[1][j] = T(code8(float64(x)))
		}
	}
}

// code8 is the 8-bit code of a normalized value x: how many midpoints of
// neighbouring codes (each the exact midpoint rounded once to float32) lie
// below x. NaN lies below none.
func code8(x float64) int {
	n := 0
	for c := 0; c+1 < len(device.Code8Bit); c++ {
		mid := float32((float64(device.Code8Bit[c]) + float64(device.Code8Bit[c+1])) / 2)
		if float64(mid) < x {
			n++
		}
	}
	return n
}
