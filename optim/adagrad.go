package optim

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/adagrad-go/adagrad/device"
)

// Param declares one named parameter tensor.
type Param struct {
	Name string
	// Init holds the starting values, []float32 or []float64; the tensor's
	// dtype is Init's. It is copied to the device by New and not kept.
	Init any
	// Shape is the row-major shape; nil means one dimension of len(Init).
	Shape []int
	// Options override the optimizer's hyperparameters for this tensor.
	Options []Option
}

// Adagrad is the optimizer. Its methods are safe for concurrent use.
type Adagrad struct {
	mu      sync.Mutex
	dev     device.Backend
	upd     device.Updater
	caps    device.Capabilities
	arenas  []*arena // one per dtype present, Float32 first
	tensors []*tensor
	byName  map[string]*tensor
	closed  bool
	stats   statsCounter
}

type tensor struct {
	name     string
	shape    []int
	dt       device.DType
	n        int
	hyper    Hyper
	rule     device.Rule
	spec     device.RuleSpec
	def      ruleDef
	group    int // index of the first tensor with equal hyperparameters
	arena    *arena
	off      int                   // in the parameter and gradient buffers
	stateOff [device.MaxStates]int // in each state buffer of the rule
	step     int64
	pending  bool        // a dense gradient waits in the staging slice
	sparse   *sparseGrad // a row-sparse gradient waits (then pending is false)
}

// New uploads every parameter and its accumulator to dev. The options set
// the hyperparameters of every tensor (on top of DefaultHyper); each Param's
// own options apply after them. The optimizer does not own dev: Close it
// yourself after closing the optimizer.
func New(dev device.Backend, params []Param, opts ...Option) (*Adagrad, error) {
	if dev == nil {
		return nil, errors.New("optim: nil device")
	}
	upd, ok := dev.(device.Updater)
	if !ok {
		return nil, fmt.Errorf("%w: %v runs no update rules (device.Updater)", device.ErrRule, dev)
	}
	base, err := apply(DefaultHyper(), opts)
	if err != nil {
		return nil, fmt.Errorf("optim: %w", err)
	}
	a := &Adagrad{dev: dev, upd: upd, caps: dev.Capabilities(), byName: make(map[string]*tensor, len(params))}
	var groups []Hyper
	for i, p := range params {
		t, err := newTensor(p, base)
		if err != nil {
			return nil, fmt.Errorf("optim: param %d (%q): %w", i, p.Name, err)
		}
		if _, dup := a.byName[t.name]; dup {
			return nil, fmt.Errorf("optim: param %d: duplicate name %q", i, t.name)
		}
		if !a.caps.Supports(t.rule, t.dt, false) {
			return nil, fmt.Errorf("optim: param %d (%q): %w: %v on %v parameters, on %v", i, t.name, device.ErrRule, t.rule, t.dt, dev)
		}
		t.group = slices.Index(groups, t.hyper)
		if t.group < 0 {
			t.group = len(groups)
			groups = append(groups, t.hyper)
		}
		a.byName[t.name] = t
		a.tensors = append(a.tensors, t)
	}
	if err := a.build(params); err != nil {
		return nil, err
	}
	return a, nil
}

func newTensor(p Param, base Hyper) (*tensor, error) {
	if err := CheckName(p.Name); err != nil {
		return nil, err
	}
	dt, n, err := device.DTypeOf(p.Init)
	if err != nil {
		return nil, err
	}
	shape := p.Shape
	if shape == nil {
		shape = []int{n}
	}
	size := 1
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("%w: negative dimension in %v", ErrShape, shape)
		}
		size *= d
	}
	if size != n {
		return nil, fmt.Errorf("%w: shape %v holds %d elements, Init has %d", ErrShape, shape, size, n)
	}
	h, err := apply(base, p.Options)
	if err != nil {
		return nil, err
	}
	t := &tensor{name: p.Name, shape: slices.Clone(shape), dt: dt, n: n}
	if err := t.setHyper(h); err != nil {
		return nil, err
	}
	return t, nil
}

// build lays the tensors out in one arena per dtype, grouped by
// hyperparameters so that equal neighbours merge into one range, and uploads
// parameters and accumulators.
func (a *Adagrad) build(params []Param) error {
	init := make(map[*tensor]any, len(params))
	for i, t := range a.tensors {
		init[t] = params[i].Init
	}
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		var ts []*tensor
		for _, t := range a.tensors {
			if t.dt == dt {
				ts = append(ts, t)
			}
		}
		if len(ts) == 0 {
			continue
		}
		slices.SortStableFunc(ts, func(x, y *tensor) int { return x.group - y.group })
		ar, err := newArena(a.dev, a.caps, dt, ts)
		if err != nil {
			a.freeArenas()
			return fmt.Errorf("optim: allocating %v buffers on %v: %w", dt, a.dev, err)
		}
		a.arenas = append(a.arenas, ar)
		for _, t := range ts {
			t.arena = ar
			if err := a.upload(t, init[t], nil); err != nil {
				a.freeArenas()
				return err
			}
		}
	}
	return nil
}

// upload writes a tensor's parameters and its state (each filled with the
// rule's starting value when state is nil).
func (a *Adagrad) upload(t *tensor, param any, state []any) error {
	ar := t.arena
	start := time.Now()
	bytes := int64(t.n * t.dt.Size())
	if err := a.dev.Write(ar.param, t.off, param); err != nil {
		return fmt.Errorf("optim: uploading %q: %w", t.name, err)
	}
	for k := range t.spec.State {
		var s any
		if state != nil {
			s = state[k]
		} else {
			s = filled(t.dt, t.stateLen(k), t.def.initial(t.hyper, k))
		}
		if err := a.dev.Write(ar.state[k], t.stateOff[k], s); err != nil {
			return fmt.Errorf("optim: uploading %s of %q: %w", t.spec.State[k].Name, t.name, err)
		}
		bytes += int64(t.stateLen(k) * t.dt.Size())
	}
	a.stats.transfer(bytes, 0, start)
	return nil
}

func filled(dt device.DType, n int, v float64) any {
	if dt == device.Float32 {
		s := make([]float32, n)
		if v != 0 {
			for i := range s {
				s[i] = float32(v)
			}
		}
		return s
	}
	s := make([]float64, n)
	if v != 0 {
		for i := range s {
			s[i] = v
		}
	}
	return s
}

func (a *Adagrad) freeArenas() error {
	var errs []error
	for _, ar := range a.arenas {
		errs = append(errs, ar.free(a.dev))
	}
	a.arenas = nil
	return errors.Join(errs...)
}

// Step applies one Adagrad update to every tensor that received a gradient
// since the last Step, and skips the others. It uploads the gradients, runs
// one backend call per dtype and reads nothing back. On error nothing has
// changed (unless the device itself failed mid-way) and the gradients stay
// pending.
func (a *Adagrad) Step() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrClosed
	}
	for _, ar := range a.arenas {
		if err := ar.checkFinite(); err != nil {
			return err
		}
	}
	if err := a.checkSparse(); err != nil {
		return err
	}
	for _, ar := range a.arenas {
		if err := a.stepArena(ar); err != nil {
			return err
		}
	}
	if err := a.stepSparse(); err != nil {
		return err
	}
	for _, t := range a.tensors {
		if t.pending || t.sparse != nil {
			t.step++
			t.pending, t.sparse = false, nil
		}
	}
	a.stats.step()
	return nil
}

func (a *Adagrad) stepArena(ar *arena) error {
	ranges := ar.stepRanges()
	if len(ranges) == 0 {
		return nil
	}
	grad := ar.grads[ar.cur]
	for _, s := range ar.pendingSpans() {
		var src any
		switch {
		case ar.gradDT.Half():
			src = narrowGrads(ar.grad16[s.off:s.end], ar.grad32[s.off:s.end], ar.gradDT)
		case ar.dt == device.Float32:
			src = ar.grad32[s.off:s.end]
		default:
			src = ar.grad64[s.off:s.end]
		}
		start := time.Now()
		if err := a.dev.Write(grad, s.off, src); err != nil {
			return fmt.Errorf("optim: uploading gradients: %w", err)
		}
		a.stats.transfer(int64((s.end-s.off)*ar.gradDT.Size()), 0, start)
	}
	start := time.Now()
	if err := a.upd.Update(device.Update{Param: ar.param, Grad: grad, State: ar.state, Ranges: ranges}); err != nil {
		return fmt.Errorf("optim: step: %w", err)
	}
	ar.cur = (ar.cur + 1) % len(ar.grads)
	a.stats.compute(0, start)
	return nil
}

// Sync waits for the device to finish the queued steps.
func (a *Adagrad) Sync() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrClosed
	}
	defer a.stats.compute(0, time.Now())
	return a.dev.Sync()
}

// Close frees the optimizer's device buffers (where the backend can free
// single buffers). It does not close the device.
func (a *Adagrad) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	return a.freeArenas()
}

// Device returns the backend the optimizer runs on.
func (a *Adagrad) Device() device.Backend { return a.dev }
