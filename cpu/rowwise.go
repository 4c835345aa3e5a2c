package cpu

import "github.com/adagrad-go/adagrad/device"

// rowLanes is the number of partial sums of device.AdagradRowwise's row
// reduction: element j of a row adds into lane j%rowLanes.
const rowLanes = 8

// adagradRowwise is device.AdagradRowwise over whole rows: p and g hold
// len(st[0]) rows of equal width, st[0] their accumulators.
func adagradRowwise[T float](p, g []T, st *states[T], c *coefs[T]) {
	m := st[0]
	if len(m) == 0 {
		return
	}
	w := len(p) / len(m)
	for r := range m {
		rowwiseRow(p[r*w:(r+1)*w], g[r*w:(r+1)*w], &m[r], c)
	}
}

// rowwiseRow is device.AdagradRowwise on one row with accumulator m.
func rowwiseRow[T float](p, g []T, m *T, c *coefs[T]) {
	mult, corr := rowwiseScale(rowSquares(p, g, c), len(p), m, c)
	rowwiseStep(p, g, mult, corr, c[device.CoefSign])
}

// rowSquares is the row's sum of squared gradients (with L2 weight decay
// folded in), in the rule's order: rowLanes lanes, each left to right with
// one fused multiply-add per element, then a fixed tree. It returns the
// lanes.
func rowSquares[T float](p, g []T, c *coefs[T]) [rowLanes]T {
	wd, sign := c[device.CoefWeightDecay], c[device.CoefSign]
	l2 := wd != 0 && c[device.CoefDecoupled] == 0
	var a [rowLanes]T
	for j := range p {
		gj := T(sign * g[j])
		if l2 {
			gj = fma(wd, p[j], gj)
		}
		a[j%rowLanes] = fma(gj, gj, a[j%rowLanes])
	}
	return a
}

// rowwiseScale finishes the row's reduction of lanes a, adds the mean to
// the accumulator m, and returns the step's multiplier and the weights'
// correction.
func rowwiseScale[T float](a [rowLanes]T, width int, m *T, c *coefs[T]) (mult, corr T) {
	lr, eps, wd := c[device.CoefLR], c[device.CoefEps], c[device.CoefWeightDecay]
	sum := T(T(T(a[0]+a[1])+T(a[2]+a[3])) + T(T(a[4]+a[5])+T(a[6]+a[7])))
	mean := T(sum / T(width))
	mi := T(*m + mean)
	*m = mi
	mult = T(lr / T(sqrt(mi)+eps))
	corr = 1
	switch {
	case wd != 0 && c[device.CoefDecoupled] == 0:
		corr = T(1 - T(mult*wd))
	case wd != 0:
		corr = T(1 - T(lr*wd))
	}
	return mult, corr
}

// rowwiseStep is p = fma(corr, p, -(mult·sign·g)) over the row; with corr 1
// that is p - mult·sign·g rounded once.
func rowwiseStep[T float](p, g []T, mult, corr, sign T) {
	for j := range p {
		a := T(mult * T(sign*g[j]))
		if corr == 1 {
			p[j] = T(p[j] - a)
		} else {
			p[j] = fma(corr, p[j], -a)
		}
	}
}
