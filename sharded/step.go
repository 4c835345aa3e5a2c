package sharded

import (
	"fmt"
	"math"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// The step header tells every rank, per tensor, what gradient this rank
// gave: none, dense, or row-sparse with so many rows for the receiving
// rank (codeSparse + rows).
const (
	codeNone   = 0
	codeDense  = -1
	codeSparse = 1
)

// stepPlan is what the ranks agreed a step does.
type stepPlan struct {
	kinds  []kind    // per tensor, over all ranks
	in     [][]int64 // in[r][i]: rank r's header code for tensor i, as sent here
	routes [][][]int // routes[i][dst]: this rank's rows of tensor i (positions in its indices) owned by dst
}

// sparseRows returns how many rows of tensor i rank r sends here.
func (p *stepPlan) sparseRows(r, i int) int {
	if c := p.in[r][i]; c >= codeSparse {
		return int(c - codeSparse)
	}
	return 0
}

// Step applies one update to every tensor to which any rank gave a
// gradient since the last Step, and skips the others; every rank calls it.
// Dense gradients are summed in rank order at their rows' owners, and
// row-sparse ones concatenated in rank order there (see the package
// comment); each owner then updates its rows. A refusal (dense and sparse
// gradients for one tensor, a non-finite gradient under SkipNonFinite, a
// weight decay with a sparse gradient) is the same on every rank, changes
// nothing, and leaves the gradients pending, as optim's Step does.
func (s *Adagrad) Step() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return optim.ErrClosed
	}
	s.traffic.Steps++
	p, err := s.plan()
	switch {
	case err != nil:
		return err
	case p == nil:
		return s.local.Step() // nothing to do, counted as optim counts it
	}
	g32, err := reduceDense(s, p, device.Float32, &s.dense32, func(t *tensor) []float32 { return t.grad32 })
	if err != nil {
		return err
	}
	g64, err := reduceDense(s, p, device.Float64, &s.dense64, func(t *tensor) []float64 { return t.grad64 })
	if err != nil {
		return err
	}
	rows, err := s.exchangeRows(p)
	if err != nil {
		return err
	}
	if err := s.checkFinite(p, g32, g64, rows); err != nil {
		return err
	}
	if err := s.apply(p, g32, g64, rows); err != nil {
		s.local.ZeroGrad()
		return err
	}
	for _, t := range s.tensors {
		t.pending, t.sparse = none, nil
	}
	return nil
}

// plan exchanges the step headers and decides, alike on every rank, what
// the step does; nil when no rank gave any gradient.
func (s *Adagrad) plan() (*stepPlan, error) {
	n := s.comm.Size()
	p := &stepPlan{kinds: make([]kind, len(s.tensors)), in: make([][]int64, n), routes: make([][][]int, len(s.tensors))}
	out := make([][]int64, n)
	for r := range n {
		out[r], p.in[r] = make([]int64, len(s.tensors)), make([]int64, len(s.tensors))
	}
	for i, t := range s.tensors {
		switch t.pending {
		case dense:
			for r := range n {
				out[r][i] = codeDense
			}
		case rowSparse:
			p.routes[i] = make([][]int, n)
			for pos, row := range t.sparse.indices {
				d := t.owner(row)
				p.routes[i][d] = append(p.routes[i][d], pos)
			}
			for r := range n {
				out[r][i] = codeSparse + int64(len(p.routes[i][r]))
			}
		}
	}
	if err := s.control(func() error { return collective.AllToAllOf(s.comm, out, p.in) }); err != nil {
		return nil, fmt.Errorf("sharded: step header: %w", err)
	}
	any := false
	for i, t := range s.tensors {
		var denseFrom, sparseFrom = -1, -1
		for r := range n {
			switch c := p.in[r][i]; {
			case c == codeDense && denseFrom < 0:
				denseFrom = r
			case c >= codeSparse && sparseFrom < 0:
				sparseFrom = r
			}
		}
		switch {
		case denseFrom >= 0 && sparseFrom >= 0:
			return nil, fmt.Errorf("%w: tensor %q: dense from rank %d, row-sparse from rank %d", ErrMixedGradients, t.name, denseFrom, sparseFrom)
		case denseFrom >= 0:
			p.kinds[i] = dense
		case sparseFrom >= 0:
			// Refused alike on every rank: every rank knows the tensor's
			// hyperparameters and the devices' capabilities.
			if err := s.checkSparse(t); err != nil {
				return nil, err
			}
			p.kinds[i] = rowSparse
		}
		any = any || p.kinds[i] != none
	}
	if !any {
		return nil, nil
	}
	return p, nil
}

// reduceDense sums the dense gradients of dtype dt at their owners, in
// one reduce-scatter, and returns this rank's rows of each sum (indexed by
// tensor). The gradients are packed owner by owner: rank r's piece is its
// rows of every such tensor, in tensor order; a rank that gave a tensor no
// gradient sends zeros for it.
func reduceDense[T collective.Float](s *Adagrad, p *stepPlan, dt device.DType, b *denseBuffers[T], grad func(*tensor) []T) ([][]T, error) {
	var ts []*tensor
	for i, t := range s.tensors {
		if t.dt == dt && p.kinds[i] == dense {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		return nil, nil
	}
	n, me := s.comm.Size(), s.comm.Rank()
	counts := make([]int, n)
	total := 0
	for r := range n {
		for _, t := range ts {
			_, rows := t.owned(r)
			counts[r] += rows * t.width
		}
		total += counts[r]
	}
	b.send = grow(b.send, total)
	off := 0
	for r := range n {
		for _, t := range ts {
			first, rows := t.owned(r)
			seg := b.send[off : off+rows*t.width]
			if t.pending == dense {
				copy(seg, grad(t)[first*t.width:])
			} else {
				clear(seg)
			}
			off += len(seg)
		}
	}
	b.piece = grow(b.piece, counts[me])
	b.scratch = grow(b.scratch, (n-1)*counts[me])
	if err := s.count(&s.traffic.GradientBytes, func() error {
		return collective.ReduceScatter(s.comm, b.send, counts, b.piece, b.scratch)
	}); err != nil {
		return nil, fmt.Errorf("sharded: summing %v gradients: %w", dt, err)
	}
	pieces := make([][]T, len(s.tensors))
	off = 0
	for _, t := range ts {
		_, rows := t.owned(me)
		pieces[t.index] = b.piece[off : off+rows*t.width]
		off += rows * t.width
	}
	return pieces, nil
}

// checkFinite refuses, on every rank alike, a step whose summed gradient
// (or rows) holds NaN or ±Inf in a tensor that asks for SkipNonFinite:
// each owner looks at its rows, then the ranks agree.
func (s *Adagrad) checkFinite(p *stepPlan, g32 [][]float32, g64 [][]float64, rows []*rowsIn) error {
	needed := false
	for i, t := range s.tensors {
		needed = needed || (p.kinds[i] != none && t.hyper.SkipNonFinite)
	}
	if !needed {
		return nil
	}
	// first returns the first non-finite value among this rank's rows of
	// tensor i's summed gradient (or rows received), or -1.
	first := func(i int) int {
		switch {
		case p.kinds[i] == dense && s.tensors[i].dt == device.Float32:
			return firstNonFinite(g32[i])
		case p.kinds[i] == dense:
			return firstNonFinite(g64[i])
		}
		if v, ok := rows[i].values.([]float32); ok {
			return firstNonFinite(v)
		}
		return firstNonFinite(rows[i].values.([]float64))
	}
	var bad error
	me := s.comm.Rank()
	for i, t := range s.tensors {
		if p.kinds[i] == none || !t.hyper.SkipNonFinite {
			continue
		}
		j := first(i)
		if j < 0 {
			continue
		}
		own, _ := t.owned(me)
		if p.kinds[i] == dense {
			bad = fmt.Errorf("%w: tensor %q, element %d of the summed gradient", optim.ErrNonFinite, t.name, own*t.width+j)
		} else {
			bad = fmt.Errorf("%w: tensor %q, a sparse value of row %d", optim.ErrNonFinite, t.name, int64(own)+rows[i].indices[j/t.width])
		}
		break
	}
	return s.agree("Step", bad, nil)
}

func firstNonFinite[T collective.Float](s []T) int {
	for i, v := range s {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return i
		}
	}
	return -1
}

// apply gives this rank's optimizer its rows of the step's gradients and
// steps it. Every tensor that steps anywhere steps here too (with no rows
// when this rank owns none), so that step counts agree.
func (s *Adagrad) apply(p *stepPlan, g32 [][]float32, g64 [][]float64, rows []*rowsIn) error {
	for i, t := range s.tensors {
		var err error
		switch {
		case p.kinds[i] == dense && t.dt == device.Float32:
			var g []float32
			if g, err = s.local.Grad32(t.name); err == nil {
				copy(g, g32[i])
			}
		case p.kinds[i] == dense:
			var g []float64
			if g, err = s.local.Grad64(t.name); err == nil {
				copy(g, g64[i])
			}
		case p.kinds[i] == rowSparse:
			err = s.local.SetSparseGrad(t.name, rows[i].indices, rows[i].values)
		}
		if err != nil {
			return fmt.Errorf("sharded: rank %d: %w", s.comm.Rank(), err)
		}
	}
	if err := s.local.Step(); err != nil {
		return fmt.Errorf("sharded: rank %d: %w", s.comm.Rank(), err)
	}
	return nil
}
