package devicetest

import (
	"math"

	"github.com/adagrad-go/adagrad/device"
)

// rowwiseRef is device.AdagradRowwise, dense and row-sparse alike, on rows
// of width elements (st[0] one accumulator per row), written out from the
// rule's statement (FBGEMM's rowwise_adagrad, fbgemm_gpu
// codegen/genscript/optimizers.py, with the row's sum in the rule's
// order).
func rowwiseRef[T Float](p, g []T, st [device.MaxStates][]T, c [device.MaxCoefs]T, width int) {
	lr, eps, wd, sign := c[device.CoefLR], c[device.CoefEps], c[device.CoefWeightDecay], c[device.CoefSign]
	decoupled := c[device.CoefDecoupled] == 1
	for row := range st[0] {
		p, g := p[row*width:(row+1)*width], g[row*width:(row+1)*width]
		// Eight partial sums: element j adds into lane j mod 8, in order.
		var lane [8]T
		for j := range p {
			gj := T(sign * g[j])
			if wd != 0 && !decoupled {
				gj = fmaExact(wd, p[j], gj)
			}
			lane[j%8] = fmaExact(gj, gj, lane[j%8])
		}
		left := T(T(lane[0]+lane[1]) + T(lane[2]+lane[3]))
		right := T(T(lane[4]+lane[5]) + T(lane[6]+lane[7]))
		mean := T(T(left+right) / T(width))
		st[0][row] = T(st[0][row] + mean)
		mult := T(lr / T(T(math.Sqrt(float64(st[0][row])))+eps))
		var corr T = 1
		if wd != 0 && !decoupled {
			corr = T(1 - T(mult*wd))
		} else if wd != 0 {
			corr = T(1 - T(lr*wd))
		}
		for j := range p {
			step := T(mult * T(sign*g[j]))
			p[j] = fmaExact(corr, p[j], -step)
		}
	}
}
