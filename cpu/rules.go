package cpu

import (
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/half"
)

// kernel updates one piece of a range: parameters p, gradients g and the
// rule's state, each sliced to the piece.
type kernel[T float] func(p, g []T, st *states[T], c *coefs[T])

// ruleKernel is one rule's kernels on the CPU, dense and row-sparse.
type ruleKernel struct {
	dense32, rows32 kernel[float32]
	dense64, rows64 kernel[float64]
}

// ruleKernels are the rules this backend runs: adding a rule adds its
// line here (and its kernels).
var ruleKernels = withFamily(map[device.Rule]ruleKernel{
	device.Adagrad: {dense32: adagradDense32Fast, rows32: adagradRows[float32],
		dense64: adagradDense64Fast, rows64: adagradRows[float64]},
	device.AdagradEpsInside: both(lrOverRoot[float32](true), lrOverRoot[float64](true)),
})

// Update runs every range of u on all cores and returns when it is done.
func (c *Backend) Update(u device.Update) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	bs, err := c.own(append([]device.Buffer{u.Param, u.Grad}, u.State[:]...)...)
	if err != nil {
		return err
	}
	if err := u.Validate(); err != nil {
		return err
	}
	if err := c.caps.CheckRules(u.Param.DType(), false, u.Ranges...); err != nil {
		return err
	}
	p, g, st := bs[0], bs[1], bs[2:]
	switch {
	case p.DType() == device.Float64:
		updateRanges(p.f64, g.f64, stateOf(st, (*buffer).slice64), u.Ranges, pick64)
	case g.DType().Half():
		updateRangesHalf(p.f32, g.u16, g.DType(), stateOf(st, (*buffer).slice32), u.Ranges)
	default:
		updateRanges(p.f32, g.f32, stateOf(st, (*buffer).slice32), u.Ranges, pick32)
	}
	return nil
}

func (b *buffer) slice32() []float32 { return b.f32 }
func (b *buffer) slice64() []float64 { return b.f64 }

func stateOf[T float](bufs []*buffer, get func(*buffer) []T) (out [device.MaxStates][]T) {
	for k, b := range bufs {
		if b != nil {
			out[k] = get(b)
		}
	}
	return out
}

func pick32(k ruleKernel) kernel[float32] { return k.dense32 }
func pick64(k ruleKernel) kernel[float64] { return k.dense64 }

// round returns a range's coefficients in T.
func round[T float](r device.Range) *coefs[T] {
	var c coefs[T]
	for i, v := range r.Coef {
		c[i] = T(v)
	}
	return &c
}

// pieceStates slices each state the rule has to elements [lo, hi) of range
// r (lo and hi on row boundaries for per-row state).
func pieceStates[T float](all *[device.MaxStates][]T, r device.Range, lo, hi int) *states[T] {
	spec, _ := r.Rule.Spec()
	var st states[T]
	for k, ss := range spec.State {
		a, b := r.StateOff[k]+(lo-r.Off), r.StateOff[k]+(hi-r.Off)
		if ss.Per == device.PerRow {
			a, b = r.StateOff[k]+(lo-r.Off)/r.Width, r.StateOff[k]+(hi-r.Off)/r.Width
		}
		st[k] = all[k][a:b]
	}
	return &st
}

// updateRanges runs the dense kernel of each range's rule, split into
// chunks across all cores.
func updateRanges[T float](p, g []T, st [device.MaxStates][]T, ranges []device.Range, pick func(ruleKernel) kernel[T]) {
	forChunks(ranges, func(r device.Range, lo, hi int) {
		pick(ruleKernels[r.Rule])(p[lo:hi], g[lo:hi], pieceStates(&st, r, lo, hi), round[T](r))
	})
}

// halfChunk is how many half-precision gradients are widened at a time,
// into a buffer that stays in the first-level cache.
const halfChunk = 2048

// updateRangesHalf widens BFloat16 or Float16 gradients exactly to float32,
// a cache-sized piece at a time, and runs the float32 kernels on them.
func updateRangesHalf(p []float32, g []uint16, dt device.DType, st [device.MaxStates][]float32, ranges []device.Range) {
	forChunks(ranges, func(r device.Range, lo, hi int) {
		k, c := ruleKernels[r.Rule].dense32, round[float32](r)
		step := halfChunk
		if w := rowAlign(r); w > 1 {
			step = max(1, halfChunk/w) * w
		}
		var buf [halfChunk]float32
		wide := make([]float32, 0, max(step, halfChunk))
		if step <= halfChunk {
			wide = buf[:0]
		}
		for at := lo; at < hi; at += step {
			end := min(at+step, hi)
			wide = wide[:end-at]
			if dt == device.BFloat16 {
				half.WidenBF16(wide, g[at:end])
			} else {
				half.WidenF16(wide, g[at:end])
			}
			k(p[at:end], wide, pieceStates(&st, r, at, end), c)
		}
	})
}
