package main

// The data-parallel run, all of it in this file. Built with -tags mpi and
// started by mpirun, each rank computes the gradient of its slice of every
// global batch (gathering the rows its slice touches from their owners),
// and the sharded optimizer sums the ranks' gradients in rank order at the
// rows' owners, each of which holds and updates its rows only. Alone, one
// process computes -slices slices one after the other and sums their
// gradients in slice order, the same additions in the same order: N ranks
// print what one process with -slices N prints, bit for bit.

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/adagrad-go/adagrad/checkpoint"
	"github.com/adagrad-go/adagrad/examples/internal/group"
	"github.com/adagrad-go/adagrad/sharded"
	"github.com/adagrad-go/adagrad/train"
)

// parallel is how a run cuts its batches, and its place in the group.
type parallel struct {
	group  *group.Group
	slices int
}

// newParallel checks the settings that depend on the group, and returns
// them with the output files of every rank but 0 left out: rank 0 writes
// them.
func newParallel(g *group.Group, c config) (parallel, config, error) {
	n, err := g.Slices(c.slices, c.batch, "samples")
	if err == nil && g.Size() > 1 && c.checkpoint != "" && !isManifest(c.checkpoint) {
		err = fmt.Errorf("-checkpoint %s: %w", c.checkpoint, group.ErrWholeCheckpoint)
	}
	if g.Rank() != 0 {
		c.csv, c.png, c.writeData = "", "", ""
	}
	return parallel{group: g, slices: n}, c, err
}

func isManifest(path string) bool { return filepath.Ext(path) == checkpoint.ManifestExt }

// objective is the Trainer's objective: this process's slices of each
// global batch, their gradients and losses summed in slice order (each
// slice's divided by the global batch's size, so that the sum is the
// batch's mean). meter and paper, when not nil, measure and count the
// step's traffic.
func (p parallel) objective(b *batcher, grad *gradients, dense bool, meter *group.Meter, paper *group.Paper) train.Objective {
	first, last := p.group.Mine(p.slices)
	return func(s *train.StepContext) (float64, error) {
		if meter != nil {
			meter.Begin()
		}
		bias := make([]float32, 1)
		if err := s.Rows32("b", []int64{0}, bias); err != nil {
			return 0, err
		}
		batch := b.at(s.GlobalStep)
		var rows []int64
		var vals []float32
		var gb float32
		var loss float64
		for k := first; k < last; k++ {
			lo, hi := group.Slice(len(batch), p.slices, k)
			g, err := grad.batch(batch[lo:hi], len(batch), float64(bias[0]), func(rows []int64, weights []float32) error {
				return s.Rows32("w", rows, weights)
			})
			if err != nil {
				return 0, err
			}
			// Rows of several slices repeat: the optimizer sums them in
			// this order, as the ranks' at their owners.
			rows, vals = append(rows, g.rows...), append(vals, g.grads...)
			if k == first {
				gb, loss = float32(g.bias), g.loss
			} else {
				gb += float32(g.bias)
				loss += g.loss
			}
		}
		if paper != nil {
			p.count(paper, batch)
		}
		if err := setWeightGrad(s, rows, vals, dense); err != nil {
			return 0, err
		}
		gbs, err := s.Grad32("b")
		if err != nil {
			return 0, err
		}
		gbs[0] = gb
		return loss, nil
	}
}

// count counts, on paper, what every rank sends in a step over batch: the
// bias row gathered from its owner, the rows of w each slice touches
// gathered from theirs, the bias's gradient summed at its owner, the rows
// of w's gradient sent to theirs, and the loss.
func (p parallel) count(paper *group.Paper, batch []example) {
	n := p.group.Size()
	if n == 1 {
		paper.Step(nil, nil) // alone, nothing leaves the process
		return
	}
	bias, w := make([][]int64, n), make([][]int64, n)
	for r := range n {
		lo, hi := group.Slice(len(batch), p.slices, r)
		bias[r], w[r] = []int64{0}, touched(batch[lo:hi])
	}
	paper.ReadRows("b", bias)
	paper.ReadRows("w", w)
	paper.Step([]string{"b"}, map[string][][]int64{"w": w})
	paper.Loss()
}

// touched is the features a slice uses, each once, as gradients.batch
// lists its rows.
func touched(part []example) []int64 {
	var rows []int64
	for _, ex := range part {
		rows = append(rows, ex.features...)
	}
	slices.Sort(rows)
	return slices.Compact(rows)
}

// report gathers every rank's traffic and state after the final training
// run (a collective call).
func (p parallel) report(opt *sharded.Adagrad, meter *group.Meter, paper *group.Paper) ([]group.RankReport, error) {
	held, err := group.Held(opt)
	if err != nil {
		return nil, err
	}
	me := p.group.Rank()
	sent, loss := paper.Traffic(me)
	return group.Gather(p.group.Comm, group.RankReport{Measured: meter.Sent, Paper: sent, LossMeasured: meter.Loss, LossPaper: loss, Held: held})
}

// printSetup says how the batches are cut, when they are.
func (p parallel) printSetup(w io.Writer, batch int) {
	sizes := group.SliceSizes(batch, p.slices)
	switch {
	case p.group.Size() > 1:
		section(w, "parallel", fmt.Sprintf("%d ranks: each computes the gradient of its slice of every batch (%s of", p.slices, sizes),
			fmt.Sprintf("%d samples); Adagrad's state is sharded by rows, each rank holding its own", batch))
	case p.slices > 1:
		section(w, "parallel", fmt.Sprintf("one process computing every batch's gradient in %d slices (%s of %d samples),", p.slices, sizes, batch),
			fmt.Sprintf("summed in slice order, as %d ranks do", p.slices))
	}
}

// printCommunication reports the traffic between the ranks, in a group.
func (p parallel) printCommunication(w io.Writer, reports []group.RankReport, features int) {
	if p.group.Size() == 1 || len(reports) == 0 {
		return
	}
	fmt.Fprintln(w)
	group.Print(w, reports, int64(2*4*(features+1))) // parameters and accumulators, float32
}

// printDigest prints a digest of the trained weights' bits: runs on any
// number of ranks that compute the same slices print the same.
func printDigest(w io.Writer, m model) {
	ws := make([]float32, len(m.w)+1)
	for i, v := range m.w {
		ws[i] = float32(v) // read as float32: exact
	}
	ws[len(m.w)] = float32(m.b)
	fmt.Fprintf(w, "Adagrad's trained weights and bias: digest %s, a SHA-256 of their bits,\n"+
		"the same on any number of ranks that compute the same slices of every batch.\n\n", group.Digest(ws))
}

// setWeightGrad gives the optimizer w's gradient: the touched rows, summed
// in the order given, as a row-sparse gradient, or with dense as the whole
// tensor's, zero where no row was touched (so that every weight takes its
// step: a proximal rule's L1 then shrinks untouched weights too).
func setWeightGrad(s *train.StepContext, rows []int64, vals []float32, dense bool) error {
	if !dense {
		return s.SetSparseGrad("w", rows, vals)
	}
	g, err := s.Grad32("w")
	if err != nil {
		return err
	}
	clear(g)
	for i, r := range rows {
		g[r] += vals[i]
	}
	return nil
}
