package devicetest

import (
	"fmt"
	"math"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// testOracle replays every PyTorch trajectory through the optimizer on the
// backend and compares the final parameters and accumulators with
// PyTorch's CPU and CUDA results, bitwise with the CPU backend, and float32
// runs with a float64 reference.
func testOracle(t *testing.T, open Opener) {
	cases, err := loadOracle()
	if err != nil {
		t.Fatal(err)
	}
	spread, err := torchSpread(cases)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("PyTorch CPU vs CUDA spread: float32 %d ulp, float64 %d ulp", spread["float32"], spread["float64"])
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			dev := mustOpen(t, open)
			got, err := runOracle(dev, c)
			if err != nil {
				t.Fatal(err)
			}
			cpuDev := mustOpen(t, func() (device.Backend, error) { return cpu.New(), nil })
			want, err := runOracle(cpuDev, c)
			if err != nil {
				t.Fatal(err)
			}
			if d := (&result{got.param, got.sum}).diff(&result{want.param, want.sum}); d != "" {
				t.Errorf("not bitwise equal to the cpu backend: %s", d)
			}
			for k := range c.Params {
				for _, role := range []string{"param", "sum"} {
					ours := got.param[k]
					if role == "sum" {
						ours = got.sum[k]
					}
					cpuRef, cudaRef, err := c.expected(k, role)
					if err != nil {
						t.Fatal(err)
					}
					toCPU, _ := closestUlp(c.DType, ours, cpuRef, cpuRef)
					toCUDA, _ := closestUlp(c.DType, ours, cudaRef, cudaRef)
					t.Logf("p%d %s: at most %d ulp from PyTorch CPU, %d from CUDA", k, role, toCPU, toCUDA)
					if worst, at := closestUlp(c.DType, ours, cpuRef, cudaRef); worst > spread[c.DType] {
						t.Errorf("p%d %s[%d] = %v: %d ulp from the nearer of PyTorch CPU %v and CUDA %v (spread %d)",
							k, role, at, ours[at], worst, cpuRef[at], cudaRef[at], spread[c.DType])
					}
				}
				if c.DType == "float32" {
					checkWide(t, c, k, got)
				}
			}
		})
	}
}

type oracleResult struct {
	param, sum [][]float64
	wide       []*wide64 // float64 reference, float32 cases only
}

func (c *oracleCase) hyper() optim.Hyper {
	return optim.Hyper{
		LR: c.lr(), Eps: c.eps(), LRDecay: c.Hyper.LRDecay, WeightDecay: c.Hyper.WeightDecay,
		InitialAccumulatorValue: c.Hyper.InitialAccumulatorValue, Maximize: c.Hyper.Maximize,
	}
}

func runOracle(dev device.Backend, c *oracleCase) (*oracleResult, error) {
	dt := dtypeOf(c.DType)
	h := c.hyper()
	res := &oracleResult{}
	params := make([]optim.Param, len(c.Params))
	for k, p := range c.Params {
		init, err := c.floats(p.Init)
		if err != nil {
			return nil, err
		}
		params[k] = optim.Param{Name: fmt.Sprintf("p%d", k), Init: typed(dt, init), Shape: p.Shape}
		res.wide = append(res.wide, newRefTensor(init, h))
	}
	opt, err := optim.New(dev, params, optim.WithHyper(h))
	if err != nil {
		return nil, err
	}
	defer opt.Close()
	for step := range c.Steps {
		for k := range c.Params {
			if c.Sparse {
				idx, vals, err := c.sparseGrad(step, k)
				if err != nil {
					return nil, err
				}
				if err := opt.SetSparseGrad(params[k].Name, idx, typed(dt, vals)); err != nil {
					return nil, err
				}
				res.wide[k].updateRows(idx, vals, len(vals)/max(len(idx), 1))
				continue
			}
			g, err := c.denseGrad(step, k)
			if err != nil {
				return nil, err
			}
			if err := opt.SetGrad(params[k].Name, typed(dt, g)); err != nil {
				return nil, err
			}
			res.wide[k].update(g)
		}
		if err := opt.Step(); err != nil {
			return nil, fmt.Errorf("step %d: %w", step, err)
		}
	}
	read, err := readResult(opt)
	if err != nil {
		return nil, err
	}
	res.param, res.sum = read.param, read.sum
	return res, nil
}

// expected returns PyTorch's CPU and CUDA results for parameter k.
func (c *oracleCase) expected(k int, role string) (cpu, cuda []float64, err error) {
	file := func(dev string) string {
		if role == "sum" {
			return c.Expected[dev][k].Sum
		}
		return c.Expected[dev][k].Param
	}
	if cpu, err = c.floats(file("cpu")); err != nil {
		return nil, nil, err
	}
	cuda, err = c.floats(file("cuda"))
	return cpu, cuda, err
}

// torchSpread is the largest ulp distance between PyTorch's own CPU and
// CUDA results, over every case of each dtype: how closely PyTorch agrees
// with itself.
func torchSpread(cases []*oracleCase) (map[string]uint64, error) {
	spread := map[string]uint64{}
	for _, c := range cases {
		for k := range c.Params {
			for _, role := range []string{"param", "sum"} {
				a, b, err := c.expected(k, role)
				if err != nil {
					return nil, err
				}
				for i := range a {
					spread[c.DType] = max(spread[c.DType], ulp(c.DType, a[i], b[i]))
				}
			}
		}
	}
	return spread, nil
}

func ulp(dtype string, a, b float64) uint64 {
	if dtype == "float32" {
		return ulpDiff(float32(a), float32(b))
	}
	return ulpDiff(a, b)
}

// closestUlp returns the largest, over elements, distance from ours to the
// nearer of the two references, and where it occurs.
func closestUlp(dtype string, ours, a, b []float64) (worst uint64, at int) {
	if len(ours) != len(a) || len(ours) != len(b) {
		return math.MaxUint64, 0
	}
	for i := range ours {
		if d := min(ulp(dtype, ours[i], a[i]), ulp(dtype, ours[i], b[i])); d > worst {
			worst, at = d, i
		}
	}
	return worst, at
}

// minNormal32 is the smallest normal float32: float32 sums below it
// underflow where float64 sums do not.
const minNormal32 = 0x1p-126

// checkWide compares a float32 run with the float64 reference. Elements
// whose float32 accumulator overflowed to +Inf are left out: there float32
// and float64 Adagrad legitimately part ways (the edge case plants them).
func checkWide(t *testing.T, c *oracleCase, k int, got *oracleResult) {
	t.Helper()
	w := got.wide[k]
	for i := range w.p {
		if math.IsInf(got.sum[k][i], 1) {
			continue
		}
		if d := math.Abs(got.param[k][i] - w.p[i]); d > 1e-5*(1+math.Abs(w.p[i])) {
			t.Errorf("p%d param[%d] = %v, float64 reference %v", k, i, got.param[k][i], w.p[i])
			return
		}
		if d := math.Abs(got.sum[k][i] - w.s[i]); d > 1e-5*math.Abs(w.s[i])+minNormal32 {
			t.Errorf("p%d sum[%d] = %v, float64 reference %v", k, i, got.sum[k][i], w.s[i])
			return
		}
	}
}
