package devicetest

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// TorchFit is how far one parameter's result is from PyTorch's.
type TorchFit struct {
	Elements int // parameters and accumulator elements compared
	// Contract is the largest ulp distance from the result every backend
	// must give bitwise (PyTorch's CUDA result, or its CUDA sparse path
	// emulated), when HasContract.
	Contract    uint64
	HasContract bool
	// CPU is the largest ulp distance from PyTorch's CPU result, and
	// CPUTolerance what it is held to; CPURel the largest difference
	// relative to 1+|PyTorch's value| (ulps are fine-grained near zero).
	CPU, CPUTolerance uint64
	CPURel            float64
}

// contract returns the result every backend must give bitwise, or nil.
func (c *TorchCase) contract() []torchResult {
	if r := c.expected["cuda"]; r != nil {
		return r
	}
	return c.expected["emulated"]
}

// Check holds parameter k's final values and accumulator (sum, PyTorch's
// state['sum']) to PyTorch: bitwise to the contract result where the case
// has one, within tolerance of PyTorch's CPU result (see TorchCases), and,
// for float32 cases, close to the float64 reference of the trajectory. It
// returns the distances.
func (c *TorchCase) Check(t testing.TB, k int, param, sum []float64) TorchFit {
	t.Helper()
	fit := TorchFit{Elements: len(param) + len(sum)}
	cpu := c.expected["cpu"][k]
	if want := c.contract(); want != nil {
		fit.HasContract = true
		for _, role := range []struct {
			name      string
			got, want []float64
		}{{"param", param, want[k].param}, {"sum", sum, want[k].sum}} {
			d, at := maxUlp(c.DType, role.got, role.want)
			fit.Contract = max(fit.Contract, d)
			if d != 0 {
				t.Errorf("%s p%d %s[%d] = %v, %d ulp from PyTorch's CUDA result %v (want 0)", c.Name, k, role.name, at, valueAt(role.got, at), d, valueAt(role.want, at))
			}
			spread, _ := maxUlp(c.DType, role.want, cpuRole(cpu, role.name))
			fit.CPUTolerance = max(fit.CPUTolerance, spread)
		}
	} else {
		fit.CPUTolerance = torchDenseSpread(c.DType)
	}
	for _, role := range []struct {
		name      string
		got, want []float64
	}{{"param", param, cpu.param}, {"sum", sum, cpu.sum}} {
		d, at := maxUlp(c.DType, role.got, role.want)
		fit.CPU = max(fit.CPU, d)
		for i := range min(len(role.got), len(role.want)) {
			if x := math.Abs(role.got[i]-role.want[i]) / (1 + math.Abs(role.want[i])); x > fit.CPURel {
				fit.CPURel = x
			}
		}
		if d > fit.CPUTolerance {
			t.Errorf("%s p%d %s[%d] = %v, %d ulp from PyTorch's CPU result %v (tolerance %d)", c.Name, k, role.name, at, valueAt(role.got, at), d, valueAt(role.want, at), fit.CPUTolerance)
		}
	}
	if c.DType == device.Float32 {
		if err := c.checkWide(k, param, sum); err != nil {
			t.Errorf("%s p%d: %v", c.Name, k, err)
		}
	}
	return fit
}

func cpuRole(r torchResult, role string) []float64 {
	if role == "sum" {
		return r.sum
	}
	return r.param
}

func valueAt(v []float64, i int) float64 {
	if i < len(v) {
		return v[i]
	}
	return math.NaN()
}

// maxUlp is the largest ulp distance in dt between a and b, and where;
// any NaN equals any NaN, and slices of other lengths are infinitely far.
func maxUlp(dt device.DType, a, b []float64) (worst uint64, at int) {
	if len(a) != len(b) {
		return math.MaxUint64, 0
	}
	for i := range a {
		d := ulpDiff(a[i], b[i])
		if dt == device.Float32 {
			d = ulpDiff(float32(a[i]), float32(b[i]))
		}
		if d > worst {
			worst, at = d, i
		}
	}
	return worst, at
}

// torchDenseSpread is the largest ulp distance between PyTorch's CPU and
// CUDA results over the dense cases of testdata/oracle in dt: how closely
// PyTorch's two dense paths agree.
func torchDenseSpread(dt device.DType) uint64 { return denseSpreads()[dt] }

var denseSpreads = sync.OnceValue(func() map[device.DType]uint64 {
	out := map[device.DType]uint64{}
	cases, _ := TorchCases() // the tests that call Check have loaded them
	for _, c := range cases {
		if c.Sparse || c.expected["cuda"] == nil {
			continue
		}
		for k, r := range c.expected["cuda"] {
			p, _ := maxUlp(c.DType, r.param, c.expected["cpu"][k].param)
			s, _ := maxUlp(c.DType, r.sum, c.expected["cpu"][k].sum)
			out[c.DType] = max(out[c.DType], p, s)
		}
	}
	return out
})

// checkWide compares a float32 result with the float64 reference of the
// trajectory. Elements whose float32 accumulator overflowed to +Inf are
// left out: there float32 and float64 Adagrad legitimately part ways
// (edge_f32 plants such gradients).
func (c *TorchCase) checkWide(k int, param, sum []float64) error {
	wp, ws, err := c.wideReference(k)
	if err != nil {
		return err
	}
	for i := range wp {
		if math.IsInf(sum[i], 1) {
			continue
		}
		if !closeTo(param[i], wp[i], 1e-5*(1+math.Abs(wp[i]))) {
			return fmt.Errorf("param[%d] = %v, float64 reference %v", i, param[i], wp[i])
		}
		if !closeTo(sum[i], ws[i], 1e-5*math.Abs(ws[i])+minNormal32) {
			return fmt.Errorf("sum[%d] = %v, float64 reference %v", i, sum[i], ws[i])
		}
	}
	return nil
}

// wideReference replays parameter k's trajectory in float64 by the
// references of device.Adagrad.
func (c *TorchCase) wideReference(k int) (param, sum []float64, err error) {
	p := c.Params[k]
	param = slices.Clone(p.Init)
	sum = make([]float64, len(param))
	for i := range sum {
		sum[i] = c.Hyper.InitialAccumulatorValue
	}
	st := [device.MaxStates][]float64{sum}
	var step int64
	for _, row := range c.Grads {
		g := row[k]
		if g.None {
			continue
		}
		step++
		if c.Sparse {
			// Duplicate rows are summed in the case's dtype, as every
			// backend sums them: the sum of rows that cancel is the input
			// here, not part of the rule's arithmetic.
			idx, vals := Coalesce(g.Indices, g.Values, p.Width())
			if c.DType == device.Float32 {
				_, v32 := Coalesce(g.Indices, narrow[float32](g.Values), p.Width())
				vals = widened(v32)
			}
			err = ReferenceRows(device.Adagrad, c.Coef(step), p.Width(), param, st, idx, vals)
		} else {
			err = ReferenceStep(device.Adagrad, c.Coef(step), p.Width(), param, g.Dense, st)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return param, sum, nil
}

// TorchFigures gathers TorchFits by set, form and dtype, for the log.
type TorchFigures map[string]*torchFigure

type torchFigure struct {
	TorchFit
	cases int
}

// Add counts one case and its parameters' fits.
func (f TorchFigures) Add(c *TorchCase, fits ...TorchFit) {
	form := "dense"
	if c.Sparse {
		form = "sparse"
	}
	key := fmt.Sprintf("%s %s %v", c.Set, form, c.DType)
	s := f[key]
	if s == nil {
		s = &torchFigure{}
		f[key] = s
	}
	s.cases++
	for _, fit := range fits {
		s.Elements += fit.Elements
		s.HasContract = s.HasContract || fit.HasContract
		s.Contract = max(s.Contract, fit.Contract)
		s.CPU = max(s.CPU, fit.CPU)
		s.CPURel = max(s.CPURel, fit.CPURel)
		s.CPUTolerance = max(s.CPUTolerance, fit.CPUTolerance)
	}
}

// Log writes one line per set, form and dtype.
func (f TorchFigures) Log(t testing.TB) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(f)) {
		s := f[k]
		contract := "no CUDA result"
		if s.HasContract {
			contract = fmt.Sprintf("%d ulp from CUDA (or its emulation)", s.Contract)
		}
		t.Logf("fidelity %-28s %4d cases %7d elements: %s; from PyTorch's CPU %d ulp, %.3g relative to 1+|x| (tolerance up to %d ulp)",
			k, s.cases, s.Elements, contract, s.CPU, s.CPURel, s.CPUTolerance)
	}
}
