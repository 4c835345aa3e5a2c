package cpu

import (
	"math"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/half"
)

// The reference update for one range (see device.Update). The accumulator
// and the weight-decay term are fused multiply-adds, rounded once, as in
// PyTorch's CPU and CUDA kernels; every other operation is rounded on its
// own. Explicit conversions keep the Go compiler from fusing anything else:
// the spec lets it fuse x*y+z unless a conversion sits between, and any
// extra fusion would break bitwise agreement with the GPU kernels.

func adagrad32(p, g, s []float32, r device.Range) {
	lr, eps, wd, sign := float32(r.LR), float32(r.Eps), float32(r.WeightDecay), float32(1)
	if r.Maximize {
		sign = -1
	}
	g, s = g[:len(p)], s[:len(p)]
	for i := range p {
		gi := float32(sign * g[i])
		if wd != 0 {
			gi = fma32(wd, p[i], gi)
		}
		si := fma32(gi, gi, s[i])
		s[i] = si
		std := float32(float32(math.Sqrt(float64(si))) + eps)
		p[i] = float32(p[i] - float32(float32(lr*gi)/std))
	}
}

func adagrad64(p, g, s []float64, r device.Range) {
	lr, eps, wd, sign := r.LR, r.Eps, r.WeightDecay, 1.0
	if r.Maximize {
		sign = -1
	}
	g, s = g[:len(p)], s[:len(p)]
	for i := range p {
		gi := float64(sign * g[i])
		if wd != 0 {
			gi = math.FMA(wd, p[i], gi)
		}
		si := math.FMA(gi, gi, s[i])
		s[i] = si
		std := float64(math.Sqrt(si) + eps)
		p[i] = float64(p[i] - float64(float64(lr*gi)/std))
	}
}

// adagradRanges32 and adagradRanges64 run the update over every range,
// split into chunks across all cores.
func adagradRanges32(p, g, s []float32, ranges []device.Range) {
	forChunks(ranges, func(r device.Range, lo, hi int) { adagrad32Fast(p[lo:hi], g[lo:hi], s[lo:hi], r) })
}

func adagradRanges64(p, g, s []float64, ranges []device.Range) {
	forChunks(ranges, func(r device.Range, lo, hi int) { adagrad64Fast(p[lo:hi], g[lo:hi], s[lo:hi], r) })
}

// halfChunk is how many half-precision gradients are widened at a time,
// into a buffer that stays in the first-level cache.
const halfChunk = 2048

// adagradRangesHalf widens BFloat16 or Float16 gradients exactly to float32,
// a cache-sized piece at a time, and runs the float32 kernel on them.
func adagradRangesHalf(p []float32, g []uint16, dt device.DType, s []float32, ranges []device.Range) {
	forChunks(ranges, func(r device.Range, lo, hi int) {
		var buf [halfChunk]float32
		for at := lo; at < hi; at += halfChunk {
			end := min(at+halfChunk, hi)
			wide := buf[:end-at]
			// Two loops rather than a function value, so that the
			// conversions inline.
			if dt == device.BFloat16 {
				for i, h := range g[at:end] {
					wide[i] = half.BF16ToFloat32(h)
				}
			} else {
				for i, h := range g[at:end] {
					wide[i] = half.F16ToFloat32(h)
				}
			}
			adagrad32Fast(p[at:end], wide, s[at:end], r)
		}
	})
}
