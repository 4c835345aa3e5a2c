package main

// The data-parallel run, all of it in this file. Built with -tags mpi and
// started by mpirun, each rank computes the gradients of its slice of every
// global batch (gathering the rows its slice touches from their owners);
// the sharded optimizer concatenates the ranks' rows in rank order at
// their owners, each of which holds and updates its rows of the tables
// only. Alone, one process computes -slices slices one after the other.
// Either way the gradient rows arrive in batch order, and the slices'
// losses are summed in slice order: N ranks print what one process with
// -slices N prints, bit for bit.

import (
	"fmt"
	"io"
	"slices"

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
	n, err := g.Slices(c.slices, c.batch, "entries")
	if g.Rank() != 0 {
		c.out, c.csv, c.png = "", "", ""
	}
	return parallel{group: g, slices: n}, c, err
}

// step computes this process's slices of a global batch: their losses
// summed in slice order, their gradient rows concatenated in slice order
// and given to the optimizer. meter and paper, when not nil, measure and
// count the step's traffic.
func (p parallel) step(s *train.StepContext, batch []cooc, r gloveRun, meter *group.Meter, paper *group.Paper) (float64, error) {
	if meter != nil {
		meter.Begin()
	}
	first, last := p.group.Mine(p.slices)
	var loss float64
	var grads sliceGrads
	for k := first; k < last; k++ {
		lo, hi := group.Slice(len(batch), p.slices, k)
		l, g, err := gloveSlice(s, batch[lo:hi], len(batch), r.dim, r.xmax, r.alpha)
		if err != nil {
			return 0, err
		}
		if k == first {
			loss = l
		} else {
			loss += l
		}
		grads.add(g)
	}
	if paper != nil {
		p.count(paper, batch)
	}
	return loss, grads.give(s)
}

// count counts, on paper, what every rank sends in a step over batch: the
// rows of the four tables its slice touches, gathered from their owners,
// and a gradient row per entry of its slice for each table, sent to its
// owner; and the loss.
func (p parallel) count(paper *group.Paper, batch []cooc) {
	n := p.group.Size()
	if n == 1 {
		paper.Step(nil, nil) // alone, nothing leaves the process
		return
	}
	wi, cj := make([][]int64, n), make([][]int64, n)
	uw, uc := make([][]int64, n), make([][]int64, n)
	for r := range n {
		lo, hi := group.Slice(len(batch), p.slices, r)
		for _, e := range batch[lo:hi] {
			wi[r], cj[r] = append(wi[r], int64(e.i)), append(cj[r], int64(e.j))
		}
		uw[r], uc[r] = slices.Compact(sortedCopy(wi[r])), slices.Compact(sortedCopy(cj[r]))
	}
	paper.ReadRows("w", uw)
	paper.ReadRows("c", uc)
	paper.ReadRows("bw", uw)
	paper.ReadRows("bc", uc)
	paper.Step(nil, map[string][][]int64{"w": wi, "c": cj, "bw": wi, "bc": cj})
	paper.Loss()
}

// report gathers every rank's traffic and state after training (a
// collective call).
func (p parallel) report(opt *sharded.Adagrad, meter *group.Meter, paper *group.Paper) ([]group.RankReport, error) {
	held, err := group.Held(opt)
	if err != nil {
		return nil, err
	}
	sent, loss := paper.Traffic(p.group.Rank())
	return group.Gather(p.group.Comm, group.RankReport{Measured: meter.Sent, Paper: sent, LossMeasured: meter.Loss, LossPaper: loss, Held: held})
}

// printSetup says how the batches are cut, when they are.
func (p parallel) printSetup(w io.Writer, batch int) {
	sizes := group.SliceSizes(batch, p.slices)
	switch {
	case p.group.Size() > 1:
		fmt.Fprintf(w, "parallel  %d ranks, each computing the gradients of its slice of every batch (%s of %d\n"+
			"          entries); the tables and their accumulators sharded by rows, each rank holding its own\n", p.slices, sizes, batch)
	case p.slices > 1:
		fmt.Fprintf(w, "parallel  one process computing every batch in %d slices (%s of %d entries), as %d ranks do\n",
			p.slices, sizes, batch, p.slices)
	}
}

// printCommunication reports the traffic between the ranks, in a group.
func (p parallel) printCommunication(w io.Writer, reports []group.RankReport, words, dim int) {
	if p.group.Size() == 1 || len(reports) == 0 {
		return
	}
	fmt.Fprintln(w)
	group.Print(w, reports, int64(2*4*(2*words*dim+2*words))) // four float32 tables and their accumulators
}
