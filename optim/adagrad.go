package optim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/adagrad-go/adagrad/device"
)

// Param declares one named parameter tensor.
type Param struct {
	Name string
	// Init holds the starting values, []float32 or []float64; the tensor's
	// dtype is Init's unless DType says otherwise. It is copied to the
	// device by New and not kept.
	Init any
	// DType keeps the parameters on the device in half the memory:
	// device.BFloat16 or device.Float16 (0: Init's dtype). Init is then
	// []float32, rounded to nearest, or []uint16 codes. The tensor computes
	// in float32 with float32 state, takes float32 gradients (Grad32,
	// SetGrad, SetSparseGrad; SetGradPrecision may send them in the same
	// half type), and writes its parameters back with stochastic rounding
	// seeded by Hyper.Seed (see device.Range.Key), the same bits on every
	// backend. Read returns them as []uint16 codes or widened []float32.
	DType device.DType
	// Shape is the row-major shape; nil means one dimension of len(Init).
	Shape []int
	// Options override the optimizer's hyperparameters for this tensor.
	Options []Option
}

// Adagrad is the optimizer. Its methods are safe for concurrent use: each
// holds the optimizer's lock. The slices Grad32 and Grad64 return are the
// exception: they are the optimizer's staging memory, which Step reads, so
// filling one while another goroutine calls Step is a data race. Fill them
// from the goroutine that calls Step, or give gradients with SetGrad,
// which copies under the lock.
type Adagrad struct {
	mu      sync.Mutex
	dev     device.Backend
	upd     device.Updater
	caps    device.Capabilities
	arenas  []*arena // one per parameter dtype present, in paramDTypes order
	tensors []*tensor
	byName  map[string]*tensor
	closed  bool
	stats   statsCounter
}

type tensor struct {
	name     string
	shape    []int
	dt       device.DType // the parameters' dtype; they compute in dt.Compute()
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

// shapeSize returns the number of elements of shape. A dimension may not
// be negative, and the product of the non-zero ones, in bytes of dt, must
// fit in an int: then no product of dimensions (a row's width, rows ×
// width) and no byte count of the tensor overflows anywhere.
func shapeSize(shape []int, dt device.DType) (int, error) {
	limit := math.MaxInt / dt.Size()
	size, nonzero := 1, 1
	for _, d := range shape {
		switch {
		case d < 0:
			return 0, fmt.Errorf("%w: negative dimension in %v", ErrShape, shape)
		case d == 0:
			size = 0
		case nonzero > limit/d:
			return 0, fmt.Errorf("%w: shape %v overflows: more than %d %v elements", ErrShape, shape, limit, dt)
		default:
			nonzero *= d
		}
	}
	if size != 0 {
		size = nonzero
	}
	return size, nil
}

// paramDType returns a Param's dtype and length.
func paramDType(p Param) (device.DType, int, error) {
	switch {
	case p.DType == 0:
		return device.DTypeOf(p.Init)
	case p.DType.Half():
		codes, err := halfParams(p.Init, p.DType)
		return p.DType, len(codes), err
	case p.DType.Real():
		dt, n, err := device.DTypeOf(p.Init)
		if err == nil && dt != p.DType {
			err = fmt.Errorf("%w: DType %v with Init of %v", device.ErrDType, p.DType, dt)
		}
		return dt, n, err
	}
	return 0, 0, fmt.Errorf("%w: parameters of %v", device.ErrDType, p.DType)
}

// paramDTypes are the parameter dtypes, in the order of the arenas.
var paramDTypes = []device.DType{device.Float32, device.Float64, device.BFloat16, device.Float16}

func newTensor(p Param, base Hyper) (*tensor, error) {
	if err := CheckName(p.Name); err != nil {
		return nil, err
	}
	dt, n, err := paramDType(p)
	if err != nil {
		return nil, err
	}
	shape := p.Shape
	if shape == nil {
		shape = []int{n}
	}
	size, err := shapeSize(shape, dt)
	if err != nil {
		return nil, err
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
	for _, dt := range paramDTypes {
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
			p := init[t]
			if t.dt.Half() {
				p, _ = halfParams(p, t.dt) // checked by newTensor
			}
			if err := a.upload(t, p, nil); err != nil {
				a.freeArenas()
				return err
			}
		}
	}
	return nil
}

// upload writes a tensor's parameters (of its dtype: codes for half
// parameters) and its state (each filled with the rule's starting value
// when state is nil).
func (a *Adagrad) upload(t *tensor, param any, state []any) error {
	ar := t.arena
	start := time.Now()
	bytes := int64(t.n) * int64(t.dt.Size())
	if err := a.dev.Write(ar.param, t.off, param); err != nil {
		return fmt.Errorf("optim: uploading %q: %w", t.name, err)
	}
	for k, ss := range t.spec.State {
		dt := ss.DTypeFor(t.dt)
		var s any
		if state != nil {
			s = state[k]
		} else {
			s = filled(dt, t.stateLen(k), t.def.initial(t.hyper, k))
		}
		if err := a.dev.Write(ar.state[ss.Buffer()], t.stateOff[k], s); err != nil {
			return fmt.Errorf("optim: uploading %s of %q: %w", ss.Name, t.name, err)
		}
		bytes += int64(t.stateLen(k)) * int64(dt.Size())
	}
	a.stats.transfer(bytes, 0, start)
	return nil
}

func (a *Adagrad) freeArenas() error {
	var errs []error
	for _, ar := range a.arenas {
		errs = append(errs, ar.free(a.dev))
	}
	a.arenas = nil
	return errors.Join(errs...)
}

// Step applies one update to every tensor that received a gradient since
// the last Step, and skips the others, as PyTorch skips parameters whose
// grad is None. It uploads the dense gradients and runs one backend call
// per dtype (device.Updater's Update), then one per tensor with a
// row-sparse gradient (UpdateRows, sent only its rows), and reads nothing
// back.
//
// Against bad input Step is all or nothing. Before anything is sent it
// checks everything the step needs: step counts (ErrStepCount); where
// SkipNonFinite is set, what the device will receive, that is the
// gradients after rounding to the transfer precision (SetGradPrecision)
// and the sparse rows after duplicates are summed (ErrNonFinite);
// row-sparse support (ErrNoSparse) and weight decay
// (ErrSparseWeightDecay); and every backend call as the backend will check
// it: the coefficients at this step (the learning rate after decay) in the
// tensor's dtype, the ranges and the rules (device.ErrHyper,
// device.ErrRange, device.ErrRule). On any of these errors nothing has
// changed and the gradients stay pending.
//
// Only a failure of the device itself (a driver error, the device closed
// or out of memory under the optimizer) can stop a step part-way. Then the
// tensors of the backend calls that returned before the failing one have
// taken their step (step counts advanced, gradients no longer pending),
// and the others, the failing call's included, keep their step counts and
// pending gradients: Tensors says which is which. On an asynchronous
// device (CUDA, OpenCL) a kernel that fails once launched reports it later,
// at Sync or at the next read.
func (a *Adagrad) Step() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrClosed
	}
	plan, err := a.planStep()
	if err != nil {
		return err
	}
	return a.runStep(plan)
}

// stepPlan is everything one Step sends to the device, built and checked
// before the first byte moves.
type stepPlan struct {
	dense  []*densePlan
	sparse []sparsePlan
}

// planStep builds and checks the step's backend calls.
func (a *Adagrad) planStep() (stepPlan, error) {
	var p stepPlan
	for _, t := range a.tensors {
		if (t.pending || t.sparse != nil) && t.step == math.MaxInt64 {
			return p, fmt.Errorf("%w: tensor %q has taken %d steps", ErrStepCount, t.name, t.step)
		}
	}
	for _, ar := range a.arenas {
		d, err := ar.planStep(a.caps)
		if err != nil {
			return p, err
		}
		if d != nil {
			p.dense = append(p.dense, d)
		}
	}
	for _, t := range a.tensors {
		if t.sparse == nil {
			continue
		}
		sp, err := a.planSparse(t)
		if err != nil {
			return p, err
		}
		p.sparse = append(p.sparse, sp)
	}
	return p, nil
}

// runStep sends a checked plan, and advances each tensor once its backend
// call has returned.
func (a *Adagrad) runStep(p stepPlan) error {
	for _, d := range p.dense {
		if err := a.runDense(d); err != nil {
			return err
		}
		for _, t := range d.ar.tensors {
			if t.pending {
				t.stepped()
			}
		}
	}
	for _, sp := range p.sparse {
		if err := a.runSparse(sp); err != nil {
			return err
		}
		sp.t.stepped()
	}
	a.stats.step()
	return nil
}

// stepped records that t took a step with its pending gradient.
func (t *tensor) stepped() {
	t.step++
	t.pending, t.sparse = false, nil
}

// runDense uploads an arena's pending gradients, as checked (already
// narrowed when they travel in half precision), and runs its update.
func (a *Adagrad) runDense(d *densePlan) error {
	ar := d.ar
	for _, s := range d.spans {
		start := time.Now()
		if err := a.dev.Write(d.update.Grad, s.off, ar.sentGrads(s)); err != nil {
			return fmt.Errorf("optim: uploading gradients: %w", err)
		}
		a.stats.transfer(int64(s.end-s.off)*int64(ar.gradDT.Size()), 0, start)
	}
	start := time.Now()
	if err := a.upd.Update(d.update); err != nil {
		return fmt.Errorf("optim: step of the %v tensors: %w", ar.dt, err)
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
