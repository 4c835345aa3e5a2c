package cpu

import (
	"math"

	"github.com/adagrad-go/adagrad/device"
)

// adagrad8Bit is device.Adagrad8Bit over whole blocks: p and g hold
// len(st[0]) blocks of device.Block8Bit elements (the last may be short),
// st[0] their scales and codes[1] their 8-bit codes. Each block is
// dequantized into a cache-resident buffer, stepped there by Adagrad's
// dense kernel (the rule's arithmetic is Adagrad's, vector code where the
// CPU has it), then measured and quantized.
func adagrad8Bit[T float](p, g []T, st *states[T], codes *[device.MaxStates][]uint8, c *coefs[T]) {
	scales, code := st[0], codes[1][:len(p)]
	dense := denseKernel[T]()
	var buf [device.Block8Bit]T
	for b, a := range scales {
		lo, hi := b*device.Block8Bit, min((b+1)*device.Block8Bit, len(p))
		sums := buf[:hi-lo]
		for j := range sums {
			sums[j] = T(T(device.Code8Bit[code[lo+j]]) * a)
		}
		dense(p[lo:hi], g[lo:hi], &states[T]{sums}, c)
		amax := T(0) // the largest sum, NaN skipped
		for _, s := range sums {
			if s > amax {
				amax = s
			}
		}
		scales[b] = amax
		if s32, ok := any(sums).([]float32); ok {
			quantize32(code[lo:hi], s32, float32(amax))
			continue
		}
		for j, s := range sums {
			x := T(0)
			if amax > 0 {
				x = T(s / amax)
			}
			code[lo+j] = quantize8(x)
		}
	}
}

// quantize32 codes each of sums over their largest, amax: the number of
// thresholds below sum/amax (0 when amax is 0). A value in [0, 1] starts
// from the count below its bfloat16 bucket (bucket8) and counts the few
// thresholds inside the bucket; anything else (NaN) takes quantize8.
func quantize32(code []uint8, sums []float32, amax float32) {
	for j, s := range sums {
		x := float32(0)
		if amax > 0 {
			x = s / amax
		}
		h := math.Float32bits(x) >> 16
		if h >= uint32(len(bucket8)) {
			code[j] = quantize8(x)
			continue
		}
		c := int(bucket8[h])
		for c < len(thresholds8) && thresholds8[c] < x {
			c++
		}
		code[j] = uint8(c)
	}
}

// denseKernel is device.Adagrad's dense kernel in T.
func denseKernel[T float]() kernel[T] {
	if k, ok := any(kernel[float32](adagradDense32Fast)).(kernel[T]); ok {
		return k
	}
	return any(kernel[float64](adagradDense64Fast)).(kernel[T])
}

// quantize8 is device.Quantize8Bit in T: the number of thresholds below x,
// by an 8-step binary search (255 thresholds never index out of range).
func quantize8[T float](x T) uint8 {
	c := 0
	for step := 128; step > 0; step >>= 1 {
		if T(thresholds8[c+step-1]) < x {
			c += step
		}
	}
	return uint8(c)
}

// thresholds8 are device.Thresholds8Bit.
var thresholds8 = device.Thresholds8Bit()

// bucket8[h] is the number of thresholds below the float32 of bits h<<16,
// the least of the bucket of values whose top 16 bits are h, for every h
// up to 1's.
var bucket8 = func() []uint8 {
	top := math.Float32bits(1) >> 16
	out := make([]uint8, top+1)
	for h := range out {
		low := math.Float32frombits(uint32(h) << 16)
		c := 0
		for c < len(thresholds8) && thresholds8[c] < low {
			c++
		}
		out[h] = uint8(c)
	}
	return out
}()
