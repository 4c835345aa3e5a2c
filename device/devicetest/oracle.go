package devicetest

import (
	"embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"path"
	"sort"
)

//go:embed testdata/oracle
var oracleFS embed.FS

// oracleCase is one PyTorch trajectory (see testdata/oracle/README.md).
type oracleCase struct {
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
		Dense   string `json:"dense"`
		Indices string `json:"indices"`
		Values  string `json:"values"`
	} `json:"grads"`
	Expected map[string][]struct {
		Param string `json:"param"`
		Sum   string `json:"sum"`
	} `json:"expected"`

	dir string
}

// PyTorch's defaults, for keys a case leaves out.
const (
	torchLR  = 0.01
	torchEps = 1e-10
)

func (c *oracleCase) lr() float64 {
	if c.Hyper.LR != nil {
		return *c.Hyper.LR
	}
	return torchLR
}

func (c *oracleCase) eps() float64 {
	if c.Hyper.Eps != nil {
		return *c.Hyper.Eps
	}
	return torchEps
}

func loadOracle() ([]*oracleCase, error) {
	const root = "testdata/oracle"
	ents, err := fs.ReadDir(oracleFS, root)
	if err != nil {
		return nil, err
	}
	var cases []*oracleCase
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := path.Join(root, e.Name())
		raw, err := oracleFS.ReadFile(path.Join(dir, "case.json"))
		if err != nil {
			return nil, err
		}
		c := &oracleCase{dir: dir}
		if err := json.Unmarshal(raw, c); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		if c.DType != "float32" && c.DType != "float64" {
			return nil, fmt.Errorf("%s: dtype %q", dir, c.DType)
		}
		if len(c.Grads) != c.Steps {
			return nil, fmt.Errorf("%s: %d gradient steps, want %d", dir, len(c.Grads), c.Steps)
		}
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("no oracle cases under %s", root)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	return cases, nil
}

// floats reads a raw little-endian float file of the case's dtype as
// float64 values (exact for float32 files).
func (c *oracleCase) floats(name string) ([]float64, error) {
	raw, err := oracleFS.ReadFile(path.Join(c.dir, name))
	if err != nil {
		return nil, err
	}
	size := 8
	if c.DType == "float32" {
		size = 4
	}
	if len(raw)%size != 0 {
		return nil, fmt.Errorf("%s/%s: %d bytes is not a whole number of %s", c.dir, name, len(raw), c.DType)
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

func (c *oracleCase) int64s(name string) ([]int64, error) {
	raw, err := oracleFS.ReadFile(path.Join(c.dir, name))
	if err != nil {
		return nil, err
	}
	if len(raw)%8 != 0 {
		return nil, fmt.Errorf("%s/%s: %d bytes is not a whole number of int64", c.dir, name, len(raw))
	}
	out := make([]int64, len(raw)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return out, nil
}

// denseGrad returns the dense gradient of parameter k at step t.
func (c *oracleCase) denseGrad(t, k int) ([]float64, error) {
	return c.floats(c.Grads[t][k].Dense)
}

// sparseGrad returns the row-sparse gradient of parameter k at step t:
// row indices (duplicates included) and one row of values per index.
func (c *oracleCase) sparseGrad(t, k int) ([]int64, []float64, error) {
	g := c.Grads[t][k]
	idx, err := c.int64s(g.Indices)
	if err != nil {
		return nil, nil, err
	}
	vals, err := c.floats(g.Values)
	if err != nil {
		return nil, nil, err
	}
	width := 1
	for _, d := range c.Params[k].Shape[1:] {
		width *= d
	}
	if len(vals) != len(idx)*width {
		return nil, nil, fmt.Errorf("%s step %d: %d values for %d rows of %d", c.Name, t, len(vals), len(idx), width)
	}
	return idx, vals, nil
}
