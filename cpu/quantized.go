package cpu

import "github.com/adagrad-go/adagrad/device"

// adagrad8Bit is device.Adagrad8Bit over whole blocks: p and g hold
// len(st[0]) blocks of device.Block8Bit elements (the last may be short),
// st[0] their scales and codes[1] their 8-bit codes.
func adagrad8Bit[T float](p, g []T, st *states[T], codes *[device.MaxStates][]uint8, c *coefs[T]) {
	lr, eps, wd, sign := c[device.CoefLR], c[device.CoefEps], c[device.CoefWeightDecay], c[device.CoefSign]
	scales, code := st[0], codes[1][:len(p)]
	var thr [255]T
	for i, v := range device.Thresholds8Bit() {
		thr[i] = T(v)
	}
	var sums [device.Block8Bit]T
	for b, a := range scales {
		lo, hi := b*device.Block8Bit, min((b+1)*device.Block8Bit, len(p))
		amax := T(0)
		for j := lo; j < hi; j++ {
			s := T(T(device.Code8Bit[code[j]]) * a)
			gj := T(sign * g[j])
			if wd != 0 {
				gj = fma(wd, p[j], gj)
			}
			s = fma(gj, gj, s)
			p[j] = T(p[j] - T(T(lr*gj)/T(sqrt(s)+eps)))
			if s > amax {
				amax = s
			}
			sums[j-lo] = s
		}
		scales[b] = amax
		for j := lo; j < hi; j++ {
			x := T(0)
			if amax > 0 {
				x = T(sums[j-lo] / amax)
			}
			code[j] = quantize8(&thr, x)
		}
	}
}

// quantize8 is device.Quantize8Bit in T: the number of thresholds below x,
// by an 8-step binary search (255 thresholds never index out of range).
func quantize8[T float](thr *[255]T, x T) uint8 {
	c := 0
	for step := 128; step > 0; step >>= 1 {
		if thr[c+step-1] < x {
			c += step
		}
	}
	return uint8(c)
}
