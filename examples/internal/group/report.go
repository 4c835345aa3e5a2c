package group

import (
	"fmt"
	"io"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/sharded"
)

// Meter measures what one rank sends in each training step: from the
// start of the step's objective to its Observer call, so that checkpoints
// and fetches outside the steps are not counted.
type Meter struct {
	opt   *sharded.Adagrad
	start sharded.Traffic
	comm  int64
	// Sent is what the optimizer sent in the steps measured; Loss what
	// else the Comm carried in them (the Trainer's loss exchange).
	Sent sharded.Traffic
	Loss int64
}

// NewMeter measures opt's steps.
func NewMeter(opt *sharded.Adagrad) *Meter { return &Meter{opt: opt} }

// Begin starts a step: call it first in the objective.
func (m *Meter) Begin() {
	m.start, m.comm = m.opt.Traffic(), m.opt.Comm().Stats().BytesSent
}

// End ends a step: call it from the Observer.
func (m *Meter) End() {
	d := m.opt.Traffic().Sub(m.start)
	m.Sent = add(m.Sent, d)
	m.Loss += m.opt.Comm().Stats().BytesSent - m.comm - d.Total()
}

func add(a, b sharded.Traffic) sharded.Traffic {
	return sharded.Traffic{Steps: a.Steps + b.Steps, GradientBytes: a.GradientBytes + b.GradientBytes,
		SparseBytes: a.SparseBytes + b.SparseBytes, ParamBytes: a.ParamBytes + b.ParamBytes, ControlBytes: a.ControlBytes + b.ControlBytes}
}

// RankReport is one rank's communication over a training run, measured
// and on paper, and the state it holds.
type RankReport struct {
	Measured, Paper         sharded.Traffic
	LossMeasured, LossPaper int64
	Held                    int64 // bytes of parameters and accumulators on the rank's device
}

// Equal reports whether what was measured is what the paper says.
func (r RankReport) Equal() bool { return r.Measured == r.Paper && r.LossMeasured == r.LossPaper }

// Total is every byte measured.
func (r RankReport) Total() int64 { return r.Measured.Total() + r.LossMeasured }

// Held returns the bytes of state (parameters and accumulators) that this
// rank holds.
func Held(opt *sharded.Adagrad) (int64, error) {
	st, err := opt.ShardState()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, ts := range st.Tensors {
		for _, buf := range append([]any{ts.Param}, ts.State...) {
			dt, k, err := device.DTypeOf(buf)
			if err != nil {
				return 0, err
			}
			n += int64(k * dt.Size())
		}
	}
	return n, nil
}

// Gather gives every rank every rank's report (a collective call).
func Gather(c collective.Comm, mine RankReport) ([]RankReport, error) {
	flat := func(r RankReport) []int64 {
		var out []int64
		for _, t := range []sharded.Traffic{r.Measured, r.Paper} {
			out = append(out, t.Steps, t.GradientBytes, t.SparseBytes, t.ParamBytes, t.ControlBytes)
		}
		return append(out, r.LossMeasured, r.LossPaper, r.Held)
	}
	send := flat(mine)
	recv := make([][]int64, c.Size())
	for r := range recv {
		recv[r] = make([]int64, len(send))
	}
	if err := collective.AllGatherOf(c, send, recv); err != nil {
		return nil, err
	}
	out := make([]RankReport, len(recv))
	for r, v := range recv {
		t := func(i int) sharded.Traffic {
			return sharded.Traffic{Steps: v[i], GradientBytes: v[i+1], SparseBytes: v[i+2], ParamBytes: v[i+3], ControlBytes: v[i+4]}
		}
		out[r] = RankReport{Measured: t(0), Paper: t(5), LossMeasured: v[10], LossPaper: v[11], Held: v[12]}
	}
	return out, nil
}

// Print writes the communication section of a report: per rank, the
// bytes sent per training step by purpose (measured), whether they equal
// the paper's count, and the state held; modelBytes is the whole model's
// state.
func Print(w io.Writer, reports []RankReport, modelBytes int64) {
	steps := max(reports[0].Measured.Steps, 1)
	per := func(b int64) string { return fmt.Sprintf("%.1f", float64(b)/float64(steps)) }
	fmt.Fprintf(w, "Communication between the %d ranks: bytes each rank sent per training step (mean of\n"+
		"%d steps), measured; \"paper\" says whether they equal the count from the batches and\n"+
		"the rows' owners; and the optimizer state (parameters and accumulators) each holds:\n", len(reports), steps)
	fmt.Fprintf(w, "  %4s %10s %10s %10s %9s %6s %10s  %-5s %16s\n", "rank", "gradients", "rows", "gathers", "control", "loss", "total", "paper", "state held")
	for r, rep := range reports {
		m := rep.Measured
		eq := "equal"
		if !rep.Equal() {
			eq = "DIFF"
		}
		fmt.Fprintf(w, "  %4d %10s %10s %10s %9s %6s %10s  %-5s %9.1f kB %4.1f%%\n", r, per(m.GradientBytes), per(m.SparseBytes),
			per(m.ParamBytes), per(m.ControlBytes), per(rep.LossMeasured), per(rep.Total()), eq,
			float64(rep.Held)/1e3, 100*float64(rep.Held)/float64(max(modelBytes, 1)))
	}
	fmt.Fprintf(w, "(gradients: dense pieces to their owners; rows: sparse gradient rows to their owners,\n"+
		"each with an 8-byte index; gathers: rows asked of their owners and sent back; control:\n"+
		"step headers and counts; loss: the ranks' losses summed; the whole state is %.1f kB.)\n", float64(modelBytes)/1e3)
}
