package sharded_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/collective/collectivetest"
	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
	"github.com/adagrad-go/adagrad/sharded"
)

// trafficModel has rows that 1, 2 and 3 ranks split evenly: three dense
// tensors of 888 bytes in all, and one float32 embedding of 30 rows of 4.
func trafficModel() []optim.Param {
	return []optim.Param{
		{Name: "a", Init: make([]float32, 120), Shape: []int{12, 10}},
		{Name: "b", Init: make([]float64, 42), Shape: []int{6, 7}},
		{Name: "c", Init: make([]float32, 18)},
		{Name: "e", Init: make([]float32, 120), Shape: []int{30, 4}},
	}
}

const denseBytes = 480 + 336 + 72

// checkTraffic runs one dense step, a fetch of the dense parameters and one
// sparse step, and checks the bytes this rank sent against the analytic
// figures, and its share of the state against 1/N. It returns a line of
// figures for the log.
func checkTraffic(c collective.Comm) (string, error) {
	dev := cpu.New()
	defer dev.Close()
	opt, err := sharded.New(c, dev, trafficModel())
	if err != nil {
		return "", err
	}
	defer opt.Close()
	n, me := int64(c.Size()), c.Rank()
	tensors := int64(len(trafficModel()))
	header := 8 * tensors * (n - 1)
	var errs []error
	expect := func(what string, got, want int64) {
		if got != want {
			errs = append(errs, fmt.Errorf("rank %d of %d: %s: %d bytes, want %d", me, n, what, got, want))
		}
	}

	// Dense: reduce-scatter, then the parameters all-gathered.
	start := opt.Traffic()
	for _, name := range []string{"a", "c"} {
		g, _ := opt.Grad32(name)
		g[0] = 1
	}
	g, _ := opt.Grad64("b")
	g[0] = 1
	if err := opt.Step(); err != nil {
		return "", err
	}
	step := opt.Traffic().Sub(start)
	for _, name := range []string{"a", "c"} {
		if err := opt.Read(name, make([]float32, map[string]int{"a": 120, "c": 18}[name])); err != nil {
			return "", err
		}
	}
	if err := opt.Read("b", make([]float64, 42)); err != nil {
		return "", err
	}
	dense := opt.Traffic().Sub(start)
	piece := int64(denseBytes) / n // even shards
	expect("dense gradients", dense.GradientBytes, denseBytes-piece)
	expect("parameters gathered", dense.ParamBytes, (n-1)*piece)
	expect("step header", step.ControlBytes, header)
	// The figure: reduce-scatter and all-gather send 2·(N−1)/N of
	// the gradient bytes.
	expect("dense step with the fetch", dense.GradientBytes+dense.ParamBytes, 2*(n-1)*denseBytes/n)

	// Sparse: each rank gives 4 rows (one twice); only rows owned by
	// another rank move, each with its 8-byte index.
	start = opt.Traffic()
	rows := []int64{int64(me), 7, 29, 7}
	if err := opt.SetSparseGrad("e", rows, make([]float32, 16)); err != nil {
		return "", err
	}
	if err := opt.Step(); err != nil {
		return "", err
	}
	sparse := opt.Traffic().Sub(start)
	var moved int64
	for _, r := range rows {
		if owner := ownerOf(r, 30, int(n)); owner != me {
			moved++
		}
	}
	expect("sparse rows", sparse.SparseBytes, moved*(8+4*4))
	expect("step header", sparse.ControlBytes, header)

	// This rank's share of the state: parameters and accumulators of its
	// rows, 1/N of the model's.
	st, err := opt.ShardState()
	if err != nil {
		return "", err
	}
	var held int64
	for _, ts := range st.Tensors {
		for _, buf := range append([]any{ts.Param}, ts.State...) {
			dt, k, _ := device.DTypeOf(buf)
			held += int64(k * dt.Size())
		}
	}
	const stateBytes = 2 * (denseBytes + 480) // parameters and accumulators
	expect("parameters and accumulators held", held, stateBytes/n)
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return fmt.Sprintf("rank %d of %d: dense step %d B of gradients + %d B of parameters (2·(N−1)/N of %d B), header %d B; sparse step %d B for %d of 4 rows; holds %d of %d B of state",
		me, n, dense.GradientBytes, dense.ParamBytes, denseBytes, step.ControlBytes, sparse.SparseBytes, moved, held, stateBytes), nil
}

func ownerOf(row int64, rows, n int) int {
	for r := n - 1; r >= 0; r-- {
		if int(row) >= collective.Bound(rows, n, r) {
			return r
		}
	}
	return 0
}

func TestTraffic(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			err := collectivetest.OnEveryRank(inProcess(t, n), func(c collective.Comm) error {
				line, err := checkTraffic(c)
				t.Log(line)
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
}
