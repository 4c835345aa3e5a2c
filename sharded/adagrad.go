package sharded

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// Adagrad is one rank's part of a sharded optimizer. Its methods are safe
// for concurrent use on one rank; across ranks, the collective ones are
// called by every rank in the same order (see the package comment).
type Adagrad struct {
	mu      sync.Mutex
	comm    collective.Comm
	dev     device.Backend
	local   *optim.Adagrad // this rank's rows of every tensor (some may have none)
	tensors []*tensor      // in the order given to New
	byName  map[string]*tensor
	closed  bool
	traffic Traffic
	dense32 denseBuffers[float32]
	dense64 denseBuffers[float64]
}

// New makes this rank's part of an optimizer over params, sharded over the
// ranks of c. Every rank calls it with the same params and options (each
// keeps only its rows of Init, on dev) and gets the same error if any rank
// fails or the ranks' models differ. The optimizer owns neither c nor dev.
func New(c collective.Comm, dev device.Backend, params []optim.Param, opts ...optim.Option) (*Adagrad, error) {
	if c == nil {
		return nil, errors.New("sharded: nil Comm")
	}
	s := &Adagrad{comm: c, dev: dev, byName: make(map[string]*tensor, len(params))}
	err := s.build(params, opts)
	var fp []byte
	if err == nil {
		fp = s.fingerprint()
	}
	if err := s.agree("New", err, fp); err != nil {
		if s.local != nil {
			s.local.Close()
		}
		return nil, err
	}
	return s, nil
}

// build makes the tensors and the local optimizer over this rank's rows.
func (s *Adagrad) build(params []optim.Param, opts []optim.Option) error {
	local := make([]optim.Param, len(params))
	for i, p := range params {
		t, err := newTensor(i, p, s.comm.Size())
		if err != nil {
			return err
		}
		// optim.New refuses duplicate and empty names.
		if _, dup := s.byName[t.name]; !dup {
			s.byName[t.name] = t
		}
		s.tensors = append(s.tensors, t)
		local[i] = t.localParam(p, s.comm.Rank())
	}
	var err error
	if s.local, err = optim.New(s.dev, local, opts...); err != nil {
		return fmt.Errorf("sharded: rank %d: %w", s.comm.Rank(), err)
	}
	for i, info := range s.local.Tensors() {
		s.tensors[i].hyper = info.Hyper
		for _, ss := range s.tensors[i].spec().State {
			if ss.Per == device.PerBlock {
				// Blocks run from a tensor's first element: a rank's rows
				// would start blocks of their own.
				return fmt.Errorf("sharded: param %d (%q): %w: %v keeps state per block of the whole tensor", i, s.tensors[i].name, device.ErrRule, info.Hyper.Rule)
			}
		}
	}
	return nil
}

// Comm returns the group the optimizer is sharded over.
func (s *Adagrad) Comm() collective.Comm { return s.comm }

// Device returns this rank's device.
func (s *Adagrad) Device() device.Backend { return s.dev }

// Close frees this rank's device buffers. It does not close the Comm or
// the device, and does not communicate.
func (s *Adagrad) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.local.Close()
}

// lookup returns the named tensor; the caller holds s.mu.
func (s *Adagrad) lookup(name string) (*tensor, error) {
	if s.closed {
		return nil, optim.ErrClosed
	}
	t, ok := s.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", optim.ErrUnknownTensor, name)
	}
	return t, nil
}

// Tensors describes every tensor of the whole model (not this rank's
// rows), in the order given to New.
func (s *Adagrad) Tensors() []optim.TensorInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The local optimizer holds every tensor (with this rank's rows, or
	// none), stepped whenever any rank gave it a gradient.
	out := s.local.Tensors()
	for i, t := range s.tensors {
		out[i].Shape, out[i].Len = slices.Clone(t.shape), t.n
	}
	return out
}

// Shard is the block of a tensor's rows that one rank owns.
type Shard struct {
	Name        string
	First, Rows int // rows [First, First+Rows) of the tensor's shape[0]
}

// Shards returns the rows rank r owns of every tensor, in the order given
// to New.
func (s *Adagrad) Shards(r int) ([]Shard, error) {
	if r < 0 || r >= s.comm.Size() {
		return nil, fmt.Errorf("sharded: no rank %d of %d", r, s.comm.Size())
	}
	out := make([]Shard, len(s.tensors))
	for i, t := range s.tensors {
		first, rows := t.owned(r)
		out[i] = Shard{Name: t.name, First: first, Rows: rows}
	}
	return out, nil
}

// Stats returns the counts of this rank's device traffic (optim.Stats);
// Traffic counts what went to other ranks.
func (s *Adagrad) Stats() optim.Stats { return s.local.Stats() }

// Sync waits for this rank's device to finish the queued steps.
func (s *Adagrad) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return optim.ErrClosed
	}
	return s.local.Sync()
}

// SetHyper changes hyperparameters as optim.Adagrad.SetHyper does. It does
// not communicate: every rank makes the same call, and gets the same
// answer.
func (s *Adagrad) SetHyper(names []string, opts ...optim.Option) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return optim.ErrClosed
	}
	if err := s.local.SetHyper(names, opts...); err != nil {
		return err
	}
	s.syncHyper()
	return nil
}

// syncHyper copies the local optimizer's hyperparameters to the tensors.
func (s *Adagrad) syncHyper() {
	for i, info := range s.local.Tensors() {
		s.tensors[i].hyper = info.Hyper
	}
}

// SetGradPrecision chooses how the summed float32 gradients of this rank's
// rows travel to its device (see optim.Adagrad.SetGradPrecision); the sum
// itself is taken in float32. Every rank makes the same call.
func (s *Adagrad) SetGradPrecision(dt device.DType) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return optim.ErrClosed
	}
	return s.local.SetGradPrecision(dt)
}
