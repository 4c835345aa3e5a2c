package sharded

import (
	"fmt"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/device"
)

// rowsIn is the row-sparse gradient of one tensor that reached its owner:
// the rows every rank sent, concatenated in rank order, with indices into
// the owner's rows.
type rowsIn struct {
	indices []int64
	values  any // []float32 or []float64
}

// rowMessage lays out one message of rows between two ranks: the indices
// of every tensor's rows (int64), then the float64 rows, then the float32
// rows, each section in tensor order, so that every section starts 8-byte
// aligned.
type rowMessage struct {
	idx, f64, f32 []int // per tensor (of ts), where its part of each section starts
	size          int   // bytes
}

// layoutRows lays out a message carrying rows(t) rows of each tensor of ts.
func layoutRows(ts []*tensor, rows func(t *tensor) int) rowMessage {
	m := rowMessage{idx: make([]int, len(ts)), f64: make([]int, len(ts)), f32: make([]int, len(ts))}
	var idx, f64, f32 int
	for j, t := range ts {
		k := rows(t)
		m.idx[j] = idx
		idx += k
		if t.dt == device.Float64 {
			m.f64[j] = f64
			f64 += k * t.width
		} else {
			m.f32[j] = f32
			f32 += k * t.width
		}
	}
	// Offsets in bytes: indices, then float64, then float32.
	for j := range ts {
		m.idx[j] *= 8
		m.f64[j] = 8*idx + 8*m.f64[j]
		m.f32[j] = 8*idx + 8*f64 + 4*m.f32[j]
	}
	m.size = 8*idx + 8*f64 + 4*f32
	return m
}

// exchangeRows sends every row of this rank's row-sparse gradients to its
// owner, in one all-to-all, and returns the rows that reached this rank
// (indexed by tensor).
func (s *Adagrad) exchangeRows(p *stepPlan) ([]*rowsIn, error) {
	var ts []*tensor
	for i, t := range s.tensors {
		if p.kinds[i] == rowSparse {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		return nil, nil
	}
	n, me := s.comm.Size(), s.comm.Rank()
	send, recv := make([][]byte, n), make([][]byte, n)
	layouts := make([]rowMessage, n)
	for r := range n {
		out := layoutRows(ts, func(t *tensor) int {
			if p.routes[t.index] == nil {
				return 0
			}
			return len(p.routes[t.index][r])
		})
		send[r] = alignedBytes(out.size)
		for j, t := range ts {
			if p.routes[t.index] != nil {
				packRows(send[r], out, j, t, p.routes[t.index][r])
			}
		}
		layouts[r] = layoutRows(ts, func(t *tensor) int { return p.sparseRows(r, t.index) })
		recv[r] = alignedBytes(layouts[r].size)
	}
	if err := s.count(&s.traffic.SparseBytes, func() error { return s.comm.AllToAll(send, recv) }); err != nil {
		return nil, fmt.Errorf("sharded: routing sparse rows: %w", err)
	}
	rows := make([]*rowsIn, len(s.tensors))
	for j, t := range ts {
		total := 0
		for r := range n {
			total += p.sparseRows(r, t.index)
		}
		in := &rowsIn{indices: make([]int64, 0, total)}
		own, _ := t.owned(me)
		for r := range n {
			k := p.sparseRows(r, t.index)
			for _, x := range view[int64](recv[r][layouts[r].idx[j]:])[:k] {
				in.indices = append(in.indices, x-int64(own))
			}
		}
		if t.dt == device.Float64 {
			in.values = concatRows[float64](recv, layouts, j, total*t.width, func(m rowMessage) int { return m.f64[j] }, func(r int) int { return p.sparseRows(r, t.index) * t.width })
		} else {
			in.values = concatRows[float32](recv, layouts, j, total*t.width, func(m rowMessage) int { return m.f32[j] }, func(r int) int { return p.sparseRows(r, t.index) * t.width })
		}
		rows[t.index] = in
	}
	return rows, nil
}

// packRows writes the rows of tensor j (t) at positions into buf, laid out
// by m.
func packRows(buf []byte, m rowMessage, j int, t *tensor, positions []int) {
	idx := view[int64](buf[m.idx[j]:])
	for k, pos := range positions {
		idx[k] = t.sparse.indices[pos]
	}
	switch v := t.sparse.values.(type) {
	case []float64:
		copyRows(view[float64](buf[m.f64[j]:]), v, positions, t.width)
	case []float32:
		copyRows(view[float32](buf[m.f32[j]:]), v, positions, t.width)
	}
}

func copyRows[T collective.Float](dst, src []T, positions []int, width int) {
	for k, pos := range positions {
		copy(dst[k*width:(k+1)*width], src[pos*width:(pos+1)*width])
	}
}

// concatRows concatenates, in rank order, the values of tensor j in the
// messages received.
func concatRows[T collective.Float](recv [][]byte, layouts []rowMessage, j, total int, at func(rowMessage) int, count func(r int) int) []T {
	out := make([]T, 0, total)
	for r := range recv {
		if k := count(r); k > 0 {
			out = append(out, view[T](recv[r][at(layouts[r]):])[:k]...)
		}
	}
	return out
}
