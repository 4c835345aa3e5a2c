package optim

import (
	"fmt"
	"slices"
	"time"

	"github.com/adagrad-go/adagrad/device"
)

// TensorInfo describes one parameter tensor.
type TensorInfo struct {
	Name  string
	Shape []int
	DType device.DType
	Len   int
	Step  int64 // updates applied so far
	Hyper Hyper
}

// Tensors describes every tensor, in the order they were given to New.
func (a *Adagrad) Tensors() []TensorInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]TensorInfo, len(a.tensors))
	for i, t := range a.tensors {
		out[i] = TensorInfo{Name: t.name, Shape: slices.Clone(t.shape), DType: t.dt, Len: t.n, Step: t.step, Hyper: t.hyper}
	}
	return out
}

// lookup returns the named tensor; the caller holds a.mu.
func (a *Adagrad) lookup(name string) (*tensor, error) {
	if a.closed {
		return nil, ErrClosed
	}
	t, ok := a.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownTensor, name)
	}
	return t, nil
}

// Grad32 returns the host staging slice for the gradient of a float32
// tensor (or of a half-precision one: its gradients are float32) and marks
// the tensor for the next Step. Fill it in place; it stays
// valid until Close, and its contents are not cleared between steps. Its
// capacity is its length, so an append copies instead of writing into the
// next tensor's gradient.
//
// The slice is the optimizer's own memory, shared without a lock: Step
// reads it and SetGrad of the same tensor writes it. Fill it only while no
// other goroutine calls those, for example in the one goroutine that
// drives the training loop. Writing it while another goroutine steps is a
// data race and may send a torn gradient. Where several goroutines produce
// gradients, give them with SetGrad, which copies under the optimizer's
// lock.
func (a *Adagrad) Grad32(name string) ([]float32, error) {
	g, err := a.stage(name, device.Float32)
	if err != nil {
		return nil, err
	}
	return g.([]float32), nil
}

// Grad64 is Grad32 for a float64 tensor.
func (a *Adagrad) Grad64(name string) ([]float64, error) {
	g, err := a.stage(name, device.Float64)
	if err != nil {
		return nil, err
	}
	return g.([]float64), nil
}

func (a *Adagrad) stage(name string, dt device.DType) (any, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := a.lookup(name)
	if err != nil {
		return nil, err
	}
	if t.dt.Compute() != dt {
		return nil, fmt.Errorf("%w: tensor %q takes %v gradients, not %v", device.ErrDType, name, t.dt.Compute(), dt)
	}
	t.pending, t.sparse = true, nil
	return t.arena.hostGrad(t), nil
}

// SetGrad copies g ([]float32 or []float64, the tensor's compute dtype —
// float32 for half-precision tensors — and length) into the tensor's
// staging slice and marks it for the next Step. It holds
// the optimizer's lock while it copies, so it may be called from any
// goroutine, beside Step: the safe way to hand over gradients concurrently.
func (a *Adagrad) SetGrad(name string, g any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := a.lookup(name)
	if err != nil {
		return err
	}
	if err := t.check(g); err != nil {
		return err
	}
	switch g := g.(type) {
	case []float32:
		copy(t.arena.hostGrad(t).([]float32), g)
	case []float64:
		copy(t.arena.hostGrad(t).([]float64), g)
	}
	t.pending, t.sparse = true, nil
	return nil
}

// ZeroGrad drops every pending gradient, like PyTorch's zero_grad with
// set_to_none: the next Step skips tensors that get no new gradient.
func (a *Adagrad) ZeroGrad() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.tensors {
		t.pending, t.sparse = false, nil
	}
}

// check reports whether s is a gradient of t: a slice of t's compute dtype
// and length.
func (t *tensor) check(s any) error { return t.checkLen(s, t.n) }

// checkLen reports whether s is a slice of t's compute dtype
// (device.ErrDType) and of length n (ErrShape).
func (t *tensor) checkLen(s any, n int) error {
	dt, got, err := device.DTypeOf(s)
	if err != nil {
		return err
	}
	if dt != t.dt.Compute() {
		return fmt.Errorf("%w: tensor %q is %v, got %v", device.ErrDType, t.name, t.dt.Compute(), dt)
	}
	if got != n {
		return fmt.Errorf("%w: tensor %q takes %d elements, got %d", ErrShape, t.name, n, got)
	}
	return nil
}

// Read copies the tensor's current parameters from the device into dst,
// which must have the tensor's dtype and length. A half-precision tensor
// reads into []uint16 codes, or into []float32, widened exactly.
func (a *Adagrad) Read(name string, dst any) error { return a.read(name, dst, -1) }

// ReadAccum copies the tensor's accumulator (state 0 of its rule: PyTorch's
// state['sum'] for Adagrad) into dst.
func (a *Adagrad) ReadAccum(name string, dst any) error { return a.read(name, dst, 0) }

// ReadState copies state k of the tensor's rule (device.RuleSpec.State)
// into dst, a slice of the state's dtype (device.StateSpec.DTypeFor: the
// compute dtype, or []uint8 for 8-bit codes) and length (per element, per
// row or per block).
func (a *Adagrad) ReadState(name string, k int, dst any) error {
	if k < 0 {
		return fmt.Errorf("%w: no state %d", ErrShape, k)
	}
	return a.read(name, dst, k)
}

// read copies the parameters (k < 0) or state k.
func (a *Adagrad) read(name string, dst any, k int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := a.lookup(name)
	if err != nil {
		return err
	}
	src, off, n, dt := t.arena.param, t.off, t.n, t.dt
	what := fmt.Sprintf("tensor %q", name)
	if k >= 0 {
		if k >= len(t.spec.State) {
			return fmt.Errorf("%w: tensor %q's rule %v keeps %d states, not %d", ErrShape, name, t.rule, len(t.spec.State), k+1)
		}
		ss := t.spec.State[k]
		src, off, n, dt = t.arena.state[ss.Buffer()], t.stateOff[k], t.stateLen(k), ss.DTypeFor(t.dt)
		what = fmt.Sprintf("the %s of tensor %q", ss.Name, name)
	}
	if wide, ok := dst.([]float32); ok && k < 0 && dt.Half() {
		// Half parameters read as float32: their codes, widened.
		if len(wide) != n {
			return fmt.Errorf("%w: %s takes %d elements, got %d", ErrShape, what, n, len(wide))
		}
		codes := make([]uint16, n)
		if err := a.readRaw(codes, src, off, dt); err != nil {
			return fmt.Errorf("optim: reading %q: %w", name, err)
		}
		widenHalf(wide, codes, dt)
		return nil
	}
	if err := checkSlice(dst, dt, n, what); err != nil {
		return err
	}
	if err := a.readRaw(dst, src, off, dt); err != nil {
		return fmt.Errorf("optim: reading %q: %w", name, err)
	}
	return nil
}

// readRaw reads dst (a host slice of dt) from src at off, counted.
func (a *Adagrad) readRaw(dst any, src device.Buffer, off int, dt device.DType) error {
	n, _ := device.HostSlice(dst, dt)
	defer a.stats.transfer(0, int64(n)*int64(dt.Size()), time.Now())
	return a.dev.Read(dst, src, off)
}

// SetHyper changes the hyperparameters of the named tensors (all of them
// when names is empty), for example to follow a learning-rate schedule. The
// step counts and accumulators are kept. The new values are checked now,
// in each tensor's dtype (device.ErrHyper; device.ErrRule for a change of
// rule); invalid values change nothing.
func (a *Adagrad) SetHyper(names []string, opts ...Option) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrClosed
	}
	targets := a.tensors
	if len(names) > 0 {
		targets = make([]*tensor, len(names))
		for i, n := range names {
			t, err := a.lookup(n)
			if err != nil {
				return err
			}
			targets[i] = t
		}
	}
	if len(targets) == 0 {
		// No tensor to check them against: check them as given.
		if _, err := apply(DefaultHyper(), opts); err != nil {
			return fmt.Errorf("optim: %w", err)
		}
		return nil
	}
	next := make([]Hyper, len(targets))
	for i, t := range targets {
		h, err := apply(t.hyper, opts)
		if err == nil {
			probe := *t
			err = probe.setHyper(h)
		}
		if err != nil {
			return fmt.Errorf("optim: tensor %q: %w", t.name, err)
		}
		next[i] = h
	}
	for i, t := range targets {
		_ = t.setHyper(next[i]) // checked above
	}
	return nil
}
