package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// trainerRow is one trainer step as users run it, through the optimizer,
// timed per step: a sparse model's step (gather the touched rows to the
// host, send their gradient rows, update) or a small dense step waited for
// (the latency of one step).
type trainerRow struct {
	spec, name string
	kind       string // "sparse" or "latency"
	rows       int    // sparse: table rows; latency: parameters
	width      int    // sparse: row width
	touched    int    // sparse: rows per step
	stepSec    float64
	torchSec   float64 // 0: not measured
}

func (r trainerRow) label() string {
	if r.kind == "latency" {
		return fmt.Sprintf("dense step + wait, %s params", pow2(r.rows))
	}
	return fmt.Sprintf("sparse: %d of %s×%d rows gathered, sent, updated", r.touched, pow2(r.rows), r.width)
}

// torchArg is how torch_bench.py takes the case.
func (r trainerRow) torchArg() string {
	if r.kind == "latency" {
		return fmt.Sprintf("latency:%d", r.rows)
	}
	return fmt.Sprintf("sparse:%d:%d:%d", r.rows, r.width, r.touched)
}

func pow2(n int) string {
	if n > 0 && n&(n-1) == 0 {
		for l := 0; ; l++ {
			if 1<<l == n {
				return fmt.Sprintf("2^%d", l)
			}
		}
	}
	return fmt.Sprint(n)
}

// touchedSets returns count sets of k distinct rows below rows, increasing,
// as a sparse model's batches touch them.
func touchedSets(rows, k, count int) [][]int64 {
	rng := rand.New(rand.NewPCG(1, uint64(rows)))
	sets := make([][]int64, count)
	for i := range sets {
		seen := make(map[int64]bool, k)
		for len(seen) < k {
			seen[rng.Int64N(int64(rows))] = true
		}
		for r := range seen {
			sets[i] = append(sets[i], r)
		}
		slices.Sort(sets[i])
	}
	return sets
}

// measureSparse times a sparse model's trainer step: a rows × width table
// on dev, k touched rows a step read back with ReadRows, their gradient
// rows sent with SetSparseGrad, and Step.
func measureSparse(dev device.Backend, rows, width, k int, budget time.Duration) (trainerRow, error) {
	r := trainerRow{kind: "sparse", rows: rows, width: width, touched: k}
	init := make([]float32, rows*width)
	for i := range init {
		init[i] = float32(i%1013) * 1e-4
	}
	opt, err := optim.New(dev, []optim.Param{{Name: "w", Init: init, Shape: []int{rows, width}}}, optim.LR(0.1), optim.Eps(1e-10))
	if err != nil {
		return r, err
	}
	defer opt.Close()
	sets := touchedSets(rows, k, 16)
	cur, grads := make([]float32, k*width), make([]float32, k*width)
	for i := range grads {
		grads[i] = float32(i%7-3) * 1e-2
	}
	step := 0
	r.stepSec, err = timeIt(dev, budget, func() error {
		set := sets[step%len(sets)]
		step++
		if err := opt.ReadRows("w", set, cur); err != nil {
			return err
		}
		if err := opt.SetSparseGrad("w", set, grads); err != nil {
			return err
		}
		return opt.Step()
	})
	return r, err
}

// measureLatency times one dense trainer step of n parameters with its
// gradient from the host, waited for: what a small model pays per step.
func measureLatency(dev device.Backend, n int, budget time.Duration) (trainerRow, error) {
	r := trainerRow{kind: "latency", rows: n}
	opt, err := optim.New(dev, []optim.Param{{Name: "w", Init: make([]float32, n)}}, optim.LR(0.01))
	if err != nil {
		return r, err
	}
	defer opt.Close()
	r.stepSec, err = timeIt(dev, budget, func() error {
		g, err := opt.Grad32("w")
		if err != nil {
			return err
		}
		for i := range g {
			g[i] = 1e-3
		}
		if err := opt.Step(); err != nil {
			return err
		}
		return opt.Sync()
	})
	return r, err
}

func printTrainer(out io.Writer, rows []trainerRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(out)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "device\ttrainer step\tstep µs\ttorch µs\tx torch\t")
	for _, r := range rows {
		torchS, speedup := "-", "-"
		if r.torchSec > 0 {
			torchS, speedup = fmt.Sprintf("%.1f", r.torchSec*1e6), fmt.Sprintf("%.2f", r.torchSec/r.stepSec)
		}
		fmt.Fprintf(w, "%s\t%s\t%.1f\t%s\t%s\t\n", r.spec, r.label(), r.stepSec*1e6, torchS, speedup)
	}
	w.Flush()
	fmt.Fprintln(out, "Trainer steps through optim, gradients from the host: sparse rows gathered to the host (ReadRows), their gradients sent (SetSparseGrad) and applied (Step); and a small dense step waited for (Step + Sync). PyTorch does the same from the host (index_select to the CPU, a sparse gradient from pinned memory, step; a pinned gradient copy, step, synchronize).")
}
