package devicetest

import (
	"cmp"
	"embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"slices"
	"sync"

	"github.com/adagrad-go/adagrad/device"
)

// The PyTorch trajectories every backend is held to, in the layout of
// testdata/oracle/README.md:
//
//   - testdata/oracle: torch.optim.Adagrad (PyTorch 2.11) on an H200 and on
//     the CPU; every backend must give PyTorch's CUDA result bitwise;
//   - testdata/torchcpu: a few seeded cases of testdata/torchcpu/generate.py
//     (Debian's PyTorch 1.13 on the CPU), with, for sparse cases, PyTorch's
//     CUDA sparse path emulated elementwise ("emulated"), which every
//     backend must give bitwise;
//   - the folder named by $ADAGRAD_TORCH_CASES, when set: more of those
//     (CI generates a few hundred).
//
// PyTorch's CPU result is held to a tolerance: its distance from the
// CUDA (or emulated) result in the same case, or, where there is none
// (dense cases made on the CPU), the largest CPU↔CUDA distance of the
// dense cases in testdata/oracle. PyTorch's dense CPU path divides before
// it scales by the learning rate and its CUDA path scales first; device.Adagrad
// follows CUDA.

//go:embed testdata/oracle testdata/torchcpu
var torchFS embed.FS

// TorchCasesEnv names a folder of more cases made by
// testdata/torchcpu/generate.py.
const TorchCasesEnv = "ADAGRAD_TORCH_CASES"

// TorchCase is one PyTorch Adagrad trajectory.
type TorchCase struct {
	Name   string
	Set    string // "oracle", "torchcpu" or TorchCasesEnv
	DType  device.DType
	Sparse bool
	Hyper  TorchHyper
	Params []TorchParam
	Grads  [][]TorchGrad // Grads[step][param]
	// expected results by source: "cpu", "cuda", "emulated".
	expected map[string][]torchResult
}

// TorchHyper is the keyword arguments given to torch.optim.Adagrad, with
// PyTorch's defaults filled in.
type TorchHyper struct {
	LR, Eps, LRDecay, WeightDecay, InitialAccumulatorValue float64
	Maximize                                               bool
}

// TorchParam is one parameter: its shape and starting values.
type TorchParam struct {
	Shape []int
	Init  []float64 // exact in the case's dtype
}

// Rows and Width view the parameter as rows of the trailing dimensions, as
// PyTorch's sparse gradients do.
func (p TorchParam) Rows() int { return p.Shape[0] }

// Width is the number of elements of one row (see Rows).
func (p TorchParam) Width() int {
	if len(p.Shape) == 0 {
		return 1
	}
	w := 1
	for _, d := range p.Shape[1:] {
		w *= d
	}
	return w
}

// TorchGrad is one parameter's gradient at one step: none (p.grad is None,
// and the parameter's step does not advance), dense, or row-sparse with
// duplicate indices in no order.
type TorchGrad struct {
	None    bool
	Dense   []float64
	Indices []int64
	Values  []float64 // one row per index
}

type torchResult struct{ param, sum []float64 }

// Coef is device.Adagrad's coefficients at a parameter's step t (1-based),
// computed as PyTorch does: lr / (1 + (t-1)·lr_decay) in float64.
func (c *TorchCase) Coef(t int64) [device.MaxCoefs]float64 {
	h := c.Hyper
	return adagradCoef(h.LR/(1+float64(t-1)*h.LRDecay), h.Eps, h.WeightDecay, h.Maximize)
}

var loadTorchCases = sync.OnceValues(func() ([]*TorchCase, error) {
	var all []*TorchCase
	for _, set := range []string{"oracle", "torchcpu"} {
		sub, err := fs.Sub(torchFS, "testdata/"+set)
		if err != nil {
			return nil, err
		}
		cases, err := readTorchCases(sub, set)
		if err != nil {
			return nil, err
		}
		all = append(all, cases...)
	}
	if dir := os.Getenv(TorchCasesEnv); dir != "" {
		cases, err := readTorchCases(os.DirFS(dir), TorchCasesEnv)
		if err != nil {
			return nil, err
		}
		if len(cases) == 0 {
			return nil, fmt.Errorf("devicetest: no cases in %s=%s", TorchCasesEnv, dir)
		}
		all = append(all, cases...)
	}
	return all, nil
})

// TorchCases returns every case: the committed ones and those of
// $ADAGRAD_TORCH_CASES.
func TorchCases() ([]*TorchCase, error) { return loadTorchCases() }

// torchManifest is case.json.
type torchManifest struct {
	Name   string `json:"name"`
	DType  string `json:"dtype"`
	Steps  int    `json:"steps"`
	Sparse bool   `json:"sparse"`
	Hyper  struct {
		LR                      *float64 `json:"lr"`
		Eps                     *float64 `json:"eps"`
		LRDecay                 float64  `json:"lr_decay"`
		WeightDecay             float64  `json:"weight_decay"`
		InitialAccumulatorValue float64  `json:"initial_accumulator_value"`
		Maximize                bool     `json:"maximize"`
	} `json:"hyper"`
	Params []struct {
		Shape []int  `json:"shape"`
		Init  string `json:"init"`
	} `json:"params"`
	Grads [][]struct {
		None    bool   `json:"none"`
		Dense   string `json:"dense"`
		Indices string `json:"indices"`
		Values  string `json:"values"`
	} `json:"grads"`
	Expected map[string][]struct {
		Param string `json:"param"`
		Sum   string `json:"sum"`
	} `json:"expected"`
}

func readTorchCases(fsys fs.FS, set string) ([]*TorchCase, error) {
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var cases []*TorchCase
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		c, err := readTorchCase(fsys, e.Name(), set)
		if err != nil {
			return nil, fmt.Errorf("devicetest: %s case %s: %w", set, e.Name(), err)
		}
		cases = append(cases, c)
	}
	slices.SortFunc(cases, func(a, b *TorchCase) int { return cmp.Compare(a.Name, b.Name) })
	return cases, nil
}

func readTorchCase(fsys fs.FS, dir, set string) (*TorchCase, error) {
	raw, err := fs.ReadFile(fsys, path.Join(dir, "case.json"))
	if err != nil {
		return nil, err
	}
	var m torchManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	c := &TorchCase{Name: m.Name, Set: set, Sparse: m.Sparse, expected: map[string][]torchResult{}}
	switch m.DType {
	case "float32":
		c.DType = device.Float32
	case "float64":
		c.DType = device.Float64
	default:
		return nil, fmt.Errorf("dtype %q", m.DType)
	}
	c.Hyper = TorchHyper{LR: 0.01, Eps: 1e-10, LRDecay: m.Hyper.LRDecay, WeightDecay: m.Hyper.WeightDecay,
		InitialAccumulatorValue: m.Hyper.InitialAccumulatorValue, Maximize: m.Hyper.Maximize}
	if m.Hyper.LR != nil {
		c.Hyper.LR = *m.Hyper.LR
	}
	if m.Hyper.Eps != nil {
		c.Hyper.Eps = *m.Hyper.Eps
	}
	floats := func(name string) ([]float64, error) { return readFloats(fsys, path.Join(dir, name), c.DType) }
	for _, p := range m.Params {
		init, err := floats(p.Init)
		if err != nil {
			return nil, err
		}
		tp := TorchParam{Shape: p.Shape, Init: init}
		if n := tp.Rows() * tp.Width(); len(p.Shape) == 0 || n != len(init) {
			return nil, fmt.Errorf("shape %v for %d values", p.Shape, len(init))
		}
		c.Params = append(c.Params, tp)
	}
	if len(m.Grads) != m.Steps {
		return nil, fmt.Errorf("%d gradient steps, want %d", len(m.Grads), m.Steps)
	}
	for t, row := range m.Grads {
		if len(row) != len(c.Params) {
			return nil, fmt.Errorf("step %d: %d gradients for %d parameters", t, len(row), len(c.Params))
		}
		var grads []TorchGrad
		for k, g := range row {
			var tg TorchGrad
			switch {
			case g.None:
				tg.None = true
			case m.Sparse:
				raw, err := fs.ReadFile(fsys, path.Join(dir, g.Indices))
				if err != nil {
					return nil, err
				}
				for i := 0; i+8 <= len(raw); i += 8 {
					tg.Indices = append(tg.Indices, int64(binary.LittleEndian.Uint64(raw[i:])))
				}
				if tg.Values, err = floats(g.Values); err != nil {
					return nil, err
				}
				if len(raw)%8 != 0 || len(tg.Values) != len(tg.Indices)*c.Params[k].Width() {
					return nil, fmt.Errorf("step %d param %d: %d values for %d bytes of indices", t, k, len(tg.Values), len(raw))
				}
			default:
				if tg.Dense, err = floats(g.Dense); err != nil {
					return nil, err
				}
				if len(tg.Dense) != len(c.Params[k].Init) {
					return nil, fmt.Errorf("step %d param %d: %d gradients", t, k, len(tg.Dense))
				}
			}
			grads = append(grads, tg)
		}
		c.Grads = append(c.Grads, grads)
	}
	for src, outs := range m.Expected {
		if len(outs) != len(c.Params) {
			return nil, fmt.Errorf("%d %s results for %d parameters", len(outs), src, len(c.Params))
		}
		for k, o := range outs {
			p, err := floats(o.Param)
			if err != nil {
				return nil, err
			}
			s, err := floats(o.Sum)
			if err != nil {
				return nil, err
			}
			if len(p) != len(c.Params[k].Init) || len(s) != len(p) {
				return nil, fmt.Errorf("%s result %d: %d and %d values", src, k, len(p), len(s))
			}
			c.expected[src] = append(c.expected[src], torchResult{p, s})
		}
	}
	if c.expected["cpu"] == nil {
		return nil, fmt.Errorf("no PyTorch CPU result")
	}
	return c, nil
}

// readFloats reads a raw little-endian file of dt as float64 values
// (exact for float32).
func readFloats(fsys fs.FS, name string, dt device.DType) ([]float64, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	size := dt.Size()
	if len(raw)%size != 0 {
		return nil, fmt.Errorf("%s: %d bytes is not a whole number of %v", name, len(raw), dt)
	}
	out := make([]float64, len(raw)/size)
	for i := range out {
		if size == 4 {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		} else {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	}
	return out, nil
}
