package cpu

import (
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/half"
)

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
	p, g, st := bs[0], bs[1], stateBuffers{bs[2+device.StateReal], bs[2+device.StateBytes]}
	if p.DType() == device.Float64 {
		forChunks(u.Ranges, func(r device.Range, lo, hi int) {
			k, c := ruleKernels[r.Rule], round[float64](r)
			runKernel(k.dense64, k.coded64, r, p.f64[lo:hi], g.f64[lo:hi], st.real64(), st.bytes(), lo, hi, c)
		})
		return nil
	}
	updateRanges32(p, g, st, u.Ranges)
	return nil
}

// stateBuffers are an update's state buffers: of the compute type, and
// 8-bit (either nil when no range's rule has such state).
type stateBuffers struct{ real, byte *buffer }

func (s stateBuffers) real32() []float32 {
	if s.real == nil {
		return nil
	}
	return s.real.f32
}

func (s stateBuffers) real64() []float64 {
	if s.real == nil {
		return nil
	}
	return s.real.f64
}

func (s stateBuffers) bytes() []uint8 {
	if s.byte == nil {
		return nil
	}
	return s.byte.u8
}

// round returns a range's coefficients in T.
func round[T float](r device.Range) *coefs[T] {
	var c coefs[T]
	for i, v := range r.Coef {
		c[i] = T(v)
	}
	return &c
}

// runKernel runs the rule's dense kernel (or coded kernel, for a rule with
// 8-bit state) on elements [lo, hi) of range r: p and g sliced to them,
// real and bytes the whole state buffers.
func runKernel[T float](dense kernel[T], coded codedKernel[T], r device.Range, p, g []T, real []T, bytes []uint8, lo, hi int, c *coefs[T]) {
	spec, _ := r.Rule.Spec()
	var st states[T]
	var codes [device.MaxStates][]uint8
	pieceStates(spec, real, bytes, r, lo, hi, &st, &codes)
	if coded != nil {
		coded(p, g, &st, &codes, c)
		return
	}
	dense(p, g, &st, c)
}

// pieceStates slices each state the rule has, from the buffer of its type,
// to elements [lo, hi) of range r (lo and hi on unit boundaries for
// per-row and per-block state), into st and codes; spec is r.Rule's,
// looked up once by callers that slice many pieces, which also reuse st
// and codes (the kernels are called through function values, so what
// they are given escapes: one allocation per piece would cost as much as
// a short row's update).
func pieceStates[T float](spec device.RuleSpec, real []T, bytes []uint8, r device.Range, lo, hi int, st *states[T], codes *[device.MaxStates][]uint8) {
	for k, ss := range spec.State {
		a := r.StateOff[k] + spec.StateLen(k, lo-r.Off, r.Width)
		b := r.StateOff[k] + spec.StateLen(k, hi-r.Off, r.Width)
		if ss.Buffer() == device.StateBytes {
			codes[k] = bytes[a:b]
		} else {
			st[k] = real[a:b]
		}
	}
}

// halfChunk is how many half-precision values (gradients or parameters)
// are widened at a time, into buffers that stay in the first-level cache.
const halfChunk = 2048

// updateRanges32 runs the float32 kernels of each range's rule, split into
// chunks across all cores. Half-precision parameters or gradients are
// widened exactly to float32 a cache-sized piece of whole units at a time;
// half parameters are then rounded back stochastically (device.RoundBF16,
// device.RoundF16) with the bits of the range's key and each element's
// index in the range.
func updateRanges32(p, g *buffer, st stateBuffers, ranges []device.Range) {
	pdt, gdt := p.DType(), g.DType()
	real, bytes := st.real32(), st.bytes()
	forChunks(ranges, func(r device.Range, lo, hi int) {
		k, c := ruleKernels[r.Rule], round[float32](r)
		if pdt == device.Float32 && gdt == device.Float32 {
			runKernel(k.dense32, k.coded32, r, p.f32[lo:hi], g.f32[lo:hi], real, bytes, lo, hi, c)
			return
		}
		step := halfChunk
		if u := unitAlign(r); u > 1 {
			step = max(1, halfChunk/u) * u
		}
		var pbuf, gbuf [halfChunk]float32
		wideP, wideG := pbuf[:], gbuf[:]
		if step > halfChunk {
			wideP, wideG = make([]float32, step), make([]float32, step)
		}
		for at := lo; at < hi; at += step {
			end := min(at+step, hi)
			pp, gg := p.f32, g.f32
			if pdt.Half() {
				pp = widenInto(wideP, p.u16[at:end], pdt)
			} else {
				pp = pp[at:end]
			}
			if gdt.Half() {
				gg = widenInto(wideG, g.u16[at:end], gdt)
			} else {
				gg = gg[at:end]
			}
			runKernel(k.dense32, k.coded32, r, pp, gg, real, bytes, at, end, c)
			if pdt.Half() {
				roundInto(p.u16[at:end], pp, pdt, r.Key, uint64(at-r.Off))
			}
		}
	})
}

// widenInto widens half codes of dt exactly into dst[:len(src)] and
// returns it.
func widenInto(dst []float32, src []uint16, dt device.DType) []float32 {
	dst = dst[:len(src)]
	if dt == device.BFloat16 {
		half.WidenBF16(dst, src)
	} else {
		half.WidenF16(dst, src)
	}
	return dst
}

// roundInto rounds src into half codes of dt stochastically: element j
// with the bits of index first+j under key.
func roundInto(dst []uint16, src []float32, dt device.DType, key, first uint64) {
	n := roundHalfFast(dst, src, dt == device.Float16, key, first)
	dst, src, first = dst[n:], src[n:], first+uint64(n)
	if dt == device.BFloat16 {
		for j, x := range src {
			dst[j] = device.RoundBF16(x, device.StochasticBits(key, first+uint64(j)))
		}
		return
	}
	for j, x := range src {
		dst[j] = device.RoundF16(x, device.StochasticBits(key, first+uint64(j)))
	}
}
