package group

import (
	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/optim"
	"github.com/adagrad-go/adagrad/sharded"
)

// Paper counts, on paper, the bytes that each rank of a group sends in
// the collective calls of a sharded.Adagrad and of a Trainer over it, by
// purpose as sharded.Traffic counts what was sent, from what the ranks ask
// and give and from which rank owns which rows (rank r owns rows
// [R·r/N, R·(r+1)/N) of every tensor). Every rank can count every rank's:
// each knows the whole batch.
type Paper struct {
	n       int
	tensors map[string]layout
	ranks   []sharded.Traffic
	loss    []int64 // the Trainer's loss exchange (not the optimizer's)
}

type layout struct {
	rows, rowBytes int
	bounds         []int // rank r owns rows [bounds[r], bounds[r+1])
}

// NewPaper counts for n ranks over the tensors of a model (as
// sharded.Adagrad.Tensors describes them).
func NewPaper(n int, tensors []optim.TensorInfo) *Paper {
	p := &Paper{n: n, tensors: map[string]layout{}, ranks: make([]sharded.Traffic, n), loss: make([]int64, n)}
	for _, t := range tensors {
		rows := 1
		if len(t.Shape) > 0 {
			rows = t.Shape[0]
		}
		l := layout{rows: rows, bounds: make([]int, n+1)}
		if rows > 0 {
			l.rowBytes = t.Len / rows * t.DType.Size()
		}
		for r := range l.bounds {
			l.bounds[r] = collective.Bound(rows, n, r)
		}
		p.tensors[t.Name] = l
	}
	return p
}

// owner is the rank that owns a row of a tensor.
func (l layout) owner(row int64) int {
	r := len(l.bounds) - 2
	for r > 0 && int(row) < l.bounds[r] {
		r--
	}
	return r
}

// ReadRows counts one ReadRows (StepContext.Rows32) of a tensor in which
// rank r asks for the rows asked[r]: to every other rank a count (8
// bytes), to each row's owner its index (8 bytes), and from the owners
// back the rows.
func (p *Paper) ReadRows(name string, asked [][]int64) {
	l := p.tensors[name]
	for r, rows := range asked {
		p.ranks[r].ParamBytes += int64(8 * (p.n - 1))
		for _, row := range rows {
			if o := l.owner(row); o != r {
				p.ranks[r].ParamBytes += 8
				p.ranks[o].ParamBytes += int64(l.rowBytes)
			}
		}
	}
}

// Step counts one Step of the optimizer in which every rank gave the
// dense tensors a gradient and rank r gave each sparse tensor the rows
// sparse[name][r]: the step header (8 bytes per tensor of the model to
// every other rank); of each dense gradient the rows other ranks own (a
// reduce-scatter: (N−1)/N of it, with even pieces); each sparse row owned
// by another rank, with its 8-byte index.
func (p *Paper) Step(dense []string, sparse map[string][][]int64) {
	for r := range p.ranks {
		tr := &p.ranks[r]
		tr.Steps++
		tr.ControlBytes += int64(8 * len(p.tensors) * (p.n - 1))
		for _, name := range dense {
			l := p.tensors[name]
			tr.GradientBytes += int64((l.rows - (l.bounds[r+1] - l.bounds[r])) * l.rowBytes)
		}
		for name, perRank := range sparse {
			l := p.tensors[name]
			for _, row := range perRank[r] {
				if l.owner(row) != r {
					tr.SparseBytes += int64(8 + l.rowBytes)
				}
			}
		}
	}
}

// Loss counts the Trainer's sum of the ranks' losses: 8 bytes to every
// other rank.
func (p *Paper) Loss() {
	for r := range p.loss {
		p.loss[r] += int64(8 * (p.n - 1))
	}
}

// Traffic returns what rank r sent through the optimizer, and through the
// Trainer's loss exchange, so far.
func (p *Paper) Traffic(r int) (sharded.Traffic, int64) { return p.ranks[r], p.loss[r] }
