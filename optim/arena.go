package optim

import (
	"errors"
	"fmt"
	"math"

	"github.com/adagrad-go/adagrad/device"
)

// arena holds every tensor of one dtype: one device buffer per role and one
// host staging slice for gradients, each tensor a view at its offset.
type arena struct {
	dt           device.DType
	n            int
	tensors      []*tensor // in buffer order
	param, accum device.Buffer
	// grads holds the device gradient buffer, or two used in turn on a
	// backend whose writes overlap its kernels (device.Overlapper), so
	// that the next step's upload never lands in the buffer the running
	// step reads.
	grads  []device.Buffer
	cur    int // the grads entry the next step uses
	grad32 []float32
	grad64 []float64
	gradDT device.DType   // the device gradient buffer's: the arena's, or a half type
	grad16 []uint16       // half-precision staging, when gradDT is one
	ranges []device.Range // reused by every Step
}

// align is the element alignment of every tensor in an arena: 16 bytes for
// float32, so that GPU kernels can use 4-wide vector loads from the start
// of every tensor. The padding between tensors is never exposed; a range
// may run over it (see stepRanges), which updates nothing anyone reads.
const align = 4

func newArena(dev device.Backend, dt device.DType, ts []*tensor) (a *arena, err error) {
	a = &arena{dt: dt, gradDT: dt, tensors: ts}
	for _, t := range ts {
		t.off = (a.n + align - 1) / align * align
		a.n = t.off + t.n
	}
	defer func() {
		if err != nil {
			a.free(dev)
		}
	}()
	for _, b := range []*device.Buffer{&a.param, &a.accum} {
		if *b, err = dev.Alloc(dt, a.n); err != nil {
			return nil, err
		}
	}
	if a.grads, err = allocGrads(dev, dt, a.n); err != nil {
		return nil, err
	}
	if dt == device.Float32 {
		a.grad32 = make([]float32, a.n)
	} else {
		a.grad64 = make([]float64, a.n)
	}
	return a, nil
}

// free releases the device buffers where the backend can free one buffer at
// a time; otherwise they go when the backend is closed.
func (a *arena) free(dev device.Backend) error {
	f, ok := dev.(device.Freer)
	var errs []error
	for _, b := range []*device.Buffer{&a.param, &a.accum} {
		if *b != nil && ok {
			errs = append(errs, f.Free(*b))
		}
		*b = nil
	}
	errs = append(errs, freeBuffers(dev, a.grads))
	a.grads = nil
	return errors.Join(errs...)
}

// allocGrads allocates the gradient buffers of an arena: two on a backend
// whose writes overlap its kernels, else one.
func allocGrads(dev device.Backend, dt device.DType, n int) ([]device.Buffer, error) {
	count := 1
	if o, ok := dev.(device.Overlapper); ok && o.OverlapsWrites() {
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

// hostGrad returns the staging slice of t.
func (a *arena) hostGrad(t *tensor) any {
	if a.dt == device.Float32 {
		return a.grad32[t.off : t.off+t.n]
	}
	return a.grad64[t.off : t.off+t.n]
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

// checkFinite returns an error naming the first tensor that asks for
// SkipNonFinite and holds a NaN or Inf in its pending gradient.
func (a *arena) checkFinite() error {
	for _, t := range a.tensors {
		if !t.pending || !t.hyper.SkipNonFinite {
			continue
		}
		var bad int = -1
		if a.dt == device.Float32 {
			bad = firstNonFinite(a.grad32[t.off : t.off+t.n])
		} else {
			bad = firstNonFinite(a.grad64[t.off : t.off+t.n])
		}
		if bad >= 0 {
			return fmt.Errorf("%w: tensor %q, element %d", ErrNonFinite, t.name, bad)
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

// stepRanges builds the update ranges of the tensors with a pending
// gradient, merging neighbours whose coefficients are equal (the padding
// between them included: its gradient is always zero).
func (a *arena) stepRanges() []device.Range {
	rs := a.ranges[:0]
	for i, t := range a.tensors {
		if !t.pending {
			continue
		}
		r := device.Range{
			Off: t.off, Len: t.n,
			LR: t.hyper.stepLR(t.step + 1), Eps: t.hyper.Eps,
			WeightDecay: t.hyper.WeightDecay, Maximize: t.hyper.Maximize,
		}
		if k := len(rs) - 1; k >= 0 && i > 0 && a.tensors[i-1].pending && sameCoefficients(rs[k], r) {
			rs[k].Len = r.Off + r.Len - rs[k].Off
			continue
		}
		rs = append(rs, r)
	}
	a.ranges = rs
	return rs
}

func sameCoefficients(a, b device.Range) bool {
	return a.LR == b.LR && a.Eps == b.Eps && a.WeightDecay == b.WeightDecay && a.Maximize == b.Maximize
}
