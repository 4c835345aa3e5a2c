package sharded

import (
	"errors"
	"fmt"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// Read copies the tensor's current parameters into dst ([]float32 or
// []float64 of the tensor's dtype and length) on every rank: each owner
// reads its rows and the rows are all-gathered. Every rank calls it with
// the same name; a rank whose dst is wrong still takes its part, then
// fails.
func (s *Adagrad) Read(name string, dst any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookup(name)
	if err != nil {
		return err
	}
	bad := t.checkLen(dst, t.n)
	if bad != nil {
		dst = zeros(t.dt, t.n)
	}
	var gather error
	switch d := dst.(type) {
	case []float32:
		gather = gatherRows(s, t, d, t.width, func(mine []float32) error { return s.local.Read(name, mine) })
	case []float64:
		gather = gatherRows(s, t, d, t.width, func(mine []float64) error { return s.local.Read(name, mine) })
	}
	return errors.Join(bad, gather)
}

// gatherRows fills all (a tensor's rows, each width elements, on every
// rank) from the rows' owners: this rank fills its rows with read, then the
// rows are all-gathered in place.
func gatherRows[T collective.Float](s *Adagrad, t *tensor, all []T, width int, read func(mine []T) error) error {
	n, me := s.comm.Size(), s.comm.Rank()
	pieces := make([][]T, n)
	for r := range n {
		first, rows := t.owned(r)
		pieces[r] = all[first*width : (first+rows)*width]
	}
	var local error
	if len(pieces[me]) > 0 {
		if local = read(pieces[me]); local != nil {
			local = fmt.Errorf("sharded: rank %d: %w", me, local)
		}
	}
	// A rank whose read failed still takes its part: the others would wait.
	err := s.count(&s.traffic.ParamBytes, func() error { return collective.AllGatherOf(s.comm, pieces[me], pieces) })
	return errors.Join(local, err)
}

// ReadRows gathers the current parameters of the named rows of a tensor
// (viewed as shape[0] × the rest) into dst, row i at dst[i*width:], as
// optim.Adagrad.ReadRows does, from their owners: each rank sends the
// indices it wants to their owners, which read them in one gather and send
// the rows back; only those rows move. Every rank calls it with the same
// name, each with the rows it wants (none is fine). A rank whose rows or
// dst are wrong asks for nothing, takes its part, then fails.
func (s *Adagrad) ReadRows(name string, rows []int64, dst any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookup(name)
	if err != nil {
		return err
	}
	bad := t.checkLen(dst, len(rows)*t.width)
	if bad == nil {
		bad = t.checkRows(rows)
	}
	if bad != nil {
		rows, dst = nil, zeros(t.dt, 0)
	}
	var gather error
	switch d := dst.(type) {
	case []float32:
		gather = gatherSomeRows(s, t, rows, d)
	case []float64:
		gather = gatherSomeRows(s, t, rows, d)
	}
	return errors.Join(bad, gather)
}

func gatherSomeRows[T collective.Float](s *Adagrad, t *tensor, rows []int64, dst []T) error {
	n, me := s.comm.Size(), s.comm.Rank()
	w := t.width
	// Requests: the rows each owner is asked for, and where they go.
	ask := make([][]int64, n)
	where := make([][]int, n)
	for i, row := range rows {
		d := t.owner(row)
		ask[d] = append(ask[d], row)
		where[d] = append(where[d], i)
	}
	var asked [][]int64
	if err := s.count(&s.traffic.ParamBytes, func() (err error) {
		asked, err = collective.AllToAllV(s.comm, ask)
		return err
	}); err != nil {
		return fmt.Errorf("sharded: row requests: %w", err)
	}
	// Answers: one local gather of every row asked of this rank.
	own, _ := t.owned(me)
	var local []int64
	for _, a := range asked {
		for _, row := range a {
			local = append(local, row-int64(own))
		}
	}
	vals := make([]T, len(local)*w)
	var readErr error
	if len(local) > 0 {
		if readErr = s.local.ReadRows(t.name, local, vals); readErr != nil {
			readErr = fmt.Errorf("sharded: rank %d: %w", me, readErr)
		}
	}
	out, in := make([][]T, n), make([][]T, n)
	off := 0
	for r := range n {
		out[r] = vals[off : off+len(asked[r])*w]
		off += len(out[r])
		in[r] = make([]T, len(ask[r])*w)
	}
	if err := s.count(&s.traffic.ParamBytes, func() error { return collective.AllToAllOf(s.comm, out, in) }); err != nil {
		return errors.Join(readErr, fmt.Errorf("sharded: rows: %w", err))
	}
	for r := range n {
		for k, i := range where[r] {
			copy(dst[i*w:(i+1)*w], in[r][k*w:(k+1)*w])
		}
	}
	return readErr
}

// checkLen reports whether s is a slice of t's dtype and length n.
func (t *tensor) checkLen(s any, n int) error {
	dt, got, err := device.DTypeOf(s)
	if err != nil {
		return err
	}
	if dt != t.dt || got != n {
		return fmt.Errorf("%w: tensor %q takes %d %v, got %d %v", optim.ErrShape, t.name, n, t.dt, got, dt)
	}
	return nil
}

// zeros returns n zeros of dt.
func zeros(dt device.DType, n int) any {
	if dt == device.Float64 {
		return make([]float64, n)
	}
	return make([]float32, n)
}
