package optim

import (
	"errors"
	"fmt"
	"math"

	"github.com/adagrad-go/adagrad/device"
)

// arena holds every tensor of one parameter dtype: one device buffer per
// role (parameters, gradients, and the states of the tensors' rules: one
// buffer of the compute dtype, one of 8-bit codes) and one host staging
// slice for gradients (of the compute dtype), each tensor a view at its
// offsets.
type arena struct {
	dt      device.DType // the parameters'; gradients and state compute in dt.Compute()
	n       int
	tensors []*tensor // in buffer order
	param   device.Buffer
	// state[b] holds every state of every tensor's rule that lives in
	// buffer b (device.StateSpec.Buffer), each sized per rule (per element,
	// per row or per block); nil when no tensor has such state.
	state [device.StateBuffers]device.Buffer
	// grads holds the device gradient buffer, or two used in turn on a
	// backend whose writes overlap its kernels (Capabilities.OverlapsWrites),
	// so that the next step's upload never lands in the buffer the running
	// step reads.
	grads  []device.Buffer
	cur    int // the grads entry the next step uses
	grad32 []float32
	grad64 []float64
	gradDT device.DType   // the device gradient buffer's: the arena's, or a half type
	grad16 []uint16       // half-precision staging, when gradDT is one
	ranges []device.Range // reused by every Step
}

// align is the element alignment of every tensor in an arena and in each
// state buffer: 16 bytes for float32, so that GPU kernels can use 4-wide
// vector loads from the start of every tensor. The padding between tensors
// is never exposed; a range may run over it (see stepRanges), which updates
// nothing anyone reads.
const align = 4

func alignUp(n int) int { return (n + align - 1) / align * align }

// layout places the tensors in the parameter buffer and their states in
// the state buffer of each state's type, and returns the state buffers'
// sizes. A buffer holds its states in regions: every tensor's first state
// of the buffer's type in the first region, tensor after tensor, a second
// one (device.AdagradDA's, device.AdagradJAX's) in the region after it. In
// a model whose tensors all keep the same states per element, each region
// is laid out as the parameters are, so that neighbours still merge into
// one range. Every buffer's size in bytes, padding included, must fit in
// an int.
func (a *arena) layout() (stateLen [device.StateBuffers]int, err error) {
	limit := math.MaxInt/max(a.dt.Size(), a.dt.Compute().Size()) - align // room for alignUp
	tooBig := fmt.Errorf("%w: the %v tensors do not fit in an address space", ErrShape, a.dt)
	// region[b][j]: the size of buffer b's region j so far; a tensor's
	// state k first takes its offset within its region.
	var region [device.StateBuffers][device.MaxStates]int
	slot := func(t *tensor, k int) (b, j int) {
		b = t.spec.State[k].Buffer()
		for _, ss := range t.spec.State[:k] {
			if ss.Buffer() == b {
				j++
			}
		}
		return b, j
	}
	for _, t := range a.tensors {
		if a.n > limit || t.n > limit-alignUp(a.n) {
			return stateLen, tooBig
		}
		t.off = alignUp(a.n)
		a.n = t.off + t.n
		for k := range t.spec.State {
			b, j := slot(t, k)
			size := t.stateLen(k)
			if region[b][j] > limit || size > limit-alignUp(region[b][j]) {
				return stateLen, tooBig
			}
			t.stateOff[k] = alignUp(region[b][j])
			region[b][j] = t.stateOff[k] + size
		}
	}
	// The regions one after the other.
	var start [device.StateBuffers][device.MaxStates]int
	for b := range region {
		for j, size := range region[b] {
			if size == 0 { // no state here, or states of no element
				start[b][j] = stateLen[b]
				continue
			}
			start[b][j] = alignUp(stateLen[b])
			if stateLen[b] > limit || size > limit-start[b][j] {
				return stateLen, tooBig
			}
			stateLen[b] = start[b][j] + size
		}
	}
	for _, t := range a.tensors {
		for k := range t.spec.State {
			b, j := slot(t, k)
			t.stateOff[k] += start[b][j]
		}
	}
	return stateLen, nil
}

// newArena lays out the tensors of one dtype and allocates their buffers.
// On error it frees what it allocated.
func newArena(dev device.Backend, caps device.Capabilities, dt device.DType, ts []*tensor) (*arena, error) {
	a := &arena{dt: dt, gradDT: dt, tensors: ts}
	stateLen, err := a.layout()
	if err != nil {
		return nil, err
	}
	a.gradDT = dt.Compute()
	if err := a.alloc(dev, caps, stateLen); err != nil {
		a.free(dev)
		return nil, err
	}
	if a.gradDT == device.Float32 {
		a.grad32 = make([]float32, a.n)
	} else {
		a.grad64 = make([]float64, a.n)
	}
	return a, nil
}

// alloc allocates the arena's device buffers: parameters, the state
// buffers some tensor's rule uses, and gradients of the compute dtype.
func (a *arena) alloc(dev device.Backend, caps device.Capabilities, stateLen [device.StateBuffers]int) error {
	var err error
	if a.param, err = dev.Alloc(a.dt, a.n); err != nil {
		return err
	}
	for b, n := range stateLen {
		if n == 0 && !a.hasState(b) {
			continue
		}
		dt := a.dt.Compute()
		if b == device.StateBytes {
			dt = device.Uint8
		}
		if a.state[b], err = dev.Alloc(dt, n); err != nil {
			return err
		}
	}
	a.grads, err = allocGrads(dev, caps, a.gradDT, a.n)
	return err
}

// hasState reports whether some tensor's rule has a state in buffer b.
func (a *arena) hasState(b int) bool {
	for _, t := range a.tensors {
		for _, ss := range t.spec.State {
			if ss.Buffer() == b {
				return true
			}
		}
	}
	return false
}

// free releases the device buffers where the backend can free one buffer at
// a time; otherwise they go when the backend is closed.
func (a *arena) free(dev device.Backend) error {
	bufs := append([]device.Buffer{a.param}, a.state[:]...)
	err := errors.Join(freeBuffers(dev, bufs), freeBuffers(dev, a.grads))
	a.param, a.state, a.grads = nil, [device.StateBuffers]device.Buffer{}, nil
	return err
}

// allocGrads allocates the gradient buffers of an arena: two on a backend
// whose writes overlap its kernels, else one.
func allocGrads(dev device.Backend, caps device.Capabilities, dt device.DType, n int) ([]device.Buffer, error) {
	count := 1
	if caps.OverlapsWrites {
		count = 2
	}
	grads := make([]device.Buffer, 0, count)
	for range count {
		b, err := dev.Alloc(dt, n)
		if err != nil {
			freeBuffers(dev, grads)
			return nil, err
		}
		grads = append(grads, b)
	}
	return grads, nil
}

// freeBuffers frees bufs where the backend can free single buffers.
func freeBuffers(dev device.Backend, bufs []device.Buffer) error {
	f, ok := dev.(device.Freer)
	if !ok {
		return nil
	}
	var errs []error
	for _, b := range bufs {
		if b != nil {
			errs = append(errs, f.Free(b))
		}
	}
	return errors.Join(errs...)
}

// hostGrad returns the staging slice of t, its capacity cut at its length
// so that an append cannot write into the next tensor's gradient.
func (a *arena) hostGrad(t *tensor) any {
	if a.grad32 != nil {
		return a.grad32[t.off : t.off+t.n : t.off+t.n]
	}
	return a.grad64[t.off : t.off+t.n : t.off+t.n]
}

// span is a run [off, end) of the arena covering neighbouring tensors that
// all have a pending gradient (and the padding between them).
type span struct{ off, end int }

// pendingSpans returns the runs of neighbouring tensors with a pending
// gradient, so that each run is uploaded in one copy.
func (a *arena) pendingSpans() []span {
	var spans []span
	for i, t := range a.tensors {
		if !t.pending {
			continue
		}
		if k := len(spans) - 1; k >= 0 && i > 0 && a.tensors[i-1].pending {
			spans[k].end = t.off + t.n
			continue
		}
		spans = append(spans, span{t.off, t.off + t.n})
	}
	return spans
}

// densePlan is an arena's part of a step: the spans of gradients to
// upload and the backend call, checked as the backend will check it.
type densePlan struct {
	ar     *arena
	spans  []span
	update device.Update
}

// planStep builds the arena's part of the next step, or nil when no tensor
// of it has a pending gradient. Gradients that travel in half precision
// are narrowed here, once: the finiteness check sees, and the upload
// sends, the same bits.
func (a *arena) planStep(caps device.Capabilities) (*densePlan, error) {
	ranges := a.stepRanges()
	if len(ranges) == 0 {
		return nil, nil
	}
	d := &densePlan{ar: a, spans: a.pendingSpans(),
		update: device.Update{Param: a.param, Grad: a.grads[a.cur], State: a.state, Ranges: ranges}}
	if a.gradDT.Half() {
		for _, s := range d.spans {
			narrowGrads(a.grad16[s.off:s.end], a.grad32[s.off:s.end], a.gradDT)
		}
	}
	if err := a.checkFinite(); err != nil {
		return nil, err
	}
	if err := d.update.Validate(); err != nil {
		return nil, fmt.Errorf("optim: step of the %v tensors: %w", a.dt, err)
	}
	if err := caps.CheckRules(a.dt, false, ranges...); err != nil {
		return nil, fmt.Errorf("optim: step of the %v tensors: %w", a.dt, err)
	}
	return d, nil
}

// sentGrads is the host side of span s as it is uploaded: the staging
// slice, or its half-precision narrowing.
func (a *arena) sentGrads(s span) any {
	switch {
	case a.gradDT.Half():
		return a.grad16[s.off:s.end]
	case a.grad32 != nil:
		return a.grad32[s.off:s.end]
	}
	return a.grad64[s.off:s.end]
}

// checkFinite returns an error naming the first tensor that asks for
// SkipNonFinite and whose pending gradient, as the device will receive it
// (after narrowing to the transfer precision), holds a NaN or Inf.
func (a *arena) checkFinite() error {
	for _, t := range a.tensors {
		if !t.pending || !t.hyper.SkipNonFinite {
			continue
		}
		lo, hi := t.off, t.off+t.n
		switch {
		case a.gradDT.Half():
			if i := firstNonFiniteHalf(a.grad16[lo:hi], a.gradDT); i >= 0 {
				return fmt.Errorf("%w: tensor %q, element %d (%v is not finite in %v)", ErrNonFinite, t.name, i, a.grad32[lo+i], a.gradDT)
			}
		case a.grad32 != nil:
			if i := firstNonFinite(a.grad32[lo:hi]); i >= 0 {
				return fmt.Errorf("%w: tensor %q, element %d (%v)", ErrNonFinite, t.name, i, a.grad32[lo+i])
			}
		default:
			if i := firstNonFinite(a.grad64[lo:hi]); i >= 0 {
				return fmt.Errorf("%w: tensor %q, element %d (%v)", ErrNonFinite, t.name, i, a.grad64[lo+i])
			}
		}
	}
	return nil
}

func firstNonFinite[T float32 | float64](s []T) int {
	for i, v := range s {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return i
		}
	}
	return -1
}

// firstNonFiniteHalf is firstNonFinite for the raw bits of a half type:
// NaN and ±Inf are the values whose exponent bits are all set.
func firstNonFiniteHalf(s []uint16, dt device.DType) int {
	exp := uint16(0x7c00) // float16: 5 exponent bits
	if dt == device.BFloat16 {
		exp = 0x7f80 // bfloat16: 8, as float32
	}
	for i, h := range s {
		if h&exp == exp {
			return i
		}
	}
	return -1
}

// stepRanges builds the update ranges of the tensors with a pending
// gradient, merging neighbours that share rule and coefficients and whose
// state lies alike (the padding between them included: its gradient is
// always zero).
func (a *arena) stepRanges() []device.Range {
	rs := a.ranges[:0]
	for i, t := range a.tensors {
		if !t.pending {
			continue
		}
		r := t.nextRange()
		if k := len(rs) - 1; k >= 0 && i > 0 && a.tensors[i-1].pending && mergeable(rs[k], r) {
			rs[k].Len = r.Off + r.Len - rs[k].Off
			continue
		}
		rs = append(rs, r)
	}
	a.ranges = rs
	return rs
}

// mergeable reports whether range b can extend range a: the same rule,
// coefficients and rounding key, and every state of the rule per element
// and as far from a's as the parameters are.
func mergeable(a, b device.Range) bool {
	if a.Rule != b.Rule || a.Coef != b.Coef || a.Key != b.Key {
		return false
	}
	spec, _ := a.Rule.Spec()
	for k, ss := range spec.State {
		if ss.Per != device.PerElement || b.StateOff[k]-a.StateOff[k] != b.Off-a.Off {
			return false
		}
	}
	return true
}
