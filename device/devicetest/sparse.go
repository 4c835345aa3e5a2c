package devicetest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// sparseShapes are the tables of the sparse model: a single-row table, a
// 1-D tensor (rows of one element), widths either side of the 4-wide
// vectors, and a wide embedding.
var sparseShapes = [][]int{{1, 5}, {200}, {50, 8}, {37, 3}, {300, 64}, {64, 17}}

// sparseStep says what tensor k gets at one step of the sparse model.
type sparseGradient struct {
	dense   []float64 // a dense gradient instead (mixed use), or nil
	indices []int64
	values  []float64
	skip    bool
}

type sparseModel struct {
	dt    device.DType
	init  [][]float64
	hyper []optim.Hyper
	steps [][]sparseGradient // steps[s][k]
}

const sparseSteps = 5

func newSparseModel(dt device.DType, seed uint64) *sparseModel {
	rng := rand.New(rand.NewPCG(seed, 11))
	round := func(x float64) float64 {
		if dt == device.Float32 {
			return float64(float32(x))
		}
		return x
	}
	m := &sparseModel{dt: dt}
	hypers := []optim.Hyper{
		{LR: 0.05, Eps: 1e-10, InitialAccumulatorValue: 0.1},
		{LR: 0.1, Eps: 1e-8, LRDecay: 0.01, Maximize: true},
		{LR: 0.01, Eps: 0, InitialAccumulatorValue: 0.5},
	}
	for k, shape := range sparseShapes {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = round(rng.NormFloat64())
		}
		m.init = append(m.init, v)
		m.hyper = append(m.hyper, hypers[k%len(hypers)])
	}
	for s := range sparseSteps {
		row := make([]sparseGradient, len(sparseShapes))
		for k, shape := range sparseShapes {
			rows, width := shape[0], len(m.init[k])/shape[0]
			g := &row[k]
			switch {
			case s == 1 && k == 2:
				continue // an empty update: no rows touched, the step still counts
			case s == 2 && k == 3:
				g.skip = true
				continue
			case s == 3 && k == 4:
				g.dense = make([]float64, len(m.init[k]))
				for i := range g.dense {
					g.dense[i] = round(rng.NormFloat64())
				}
				continue
			}
			// Heavy duplication: draws from a few rows, many times.
			distinct := max(1, rows/4)
			count := 1 + rng.IntN(3*distinct)
			for range count {
				g.indices = append(g.indices, int64(rng.IntN(distinct)*(rows/distinct)))
			}
			for range count * width {
				g.values = append(g.values, round(rng.NormFloat64()*(1+float64(s))))
			}
		}
		m.steps = append(m.steps, row)
	}
	// Non-finite values in one row of one step.
	if vals := m.steps[4][4].values; len(vals) > 3 {
		vals[0], vals[1], vals[2] = math.Inf(1), math.NaN(), 1e30
	}
	return m
}

func (m *sparseModel) name(k int) string { return fmt.Sprintf("s%d", k) }

func (m *sparseModel) run(dev device.Backend) (*result, error) {
	ps := make([]optim.Param, len(m.init))
	for k, v := range m.init {
		ps[k] = optim.Param{Name: m.name(k), Init: typed(m.dt, v), Shape: sparseShapes[k],
			Options: []optim.Option{optim.WithHyper(m.hyper[k])}}
	}
	opt, err := optim.New(dev, ps)
	if err != nil {
		return nil, err
	}
	defer opt.Close()
	for s, row := range m.steps {
		for k, g := range row {
			switch {
			case g.skip:
			case g.dense != nil:
				err = opt.SetGrad(m.name(k), typed(m.dt, g.dense))
			default:
				err = opt.SetSparseGrad(m.name(k), g.indices, typed(m.dt, g.values))
			}
			if err != nil {
				return nil, fmt.Errorf("step %d tensor %d: %w", s, k, err)
			}
		}
		if err := opt.Step(); err != nil {
			return nil, fmt.Errorf("step %d: %w", s, err)
		}
	}
	return readResult(opt)
}

func (m *sparseModel) reference() *result {
	if m.dt == device.Float32 {
		return sparseReference[float32](m)
	}
	return sparseReference[float64](m)
}

func sparseReference[T float32 | float64](m *sparseModel) *result {
	r := &result{}
	for k, v := range m.init {
		ref := newRefTensor(narrow[T](v), m.hyper[k])
		width := len(v) / sparseShapes[k][0]
		for _, row := range m.steps {
			switch g := row[k]; {
			case g.skip:
			case g.dense != nil:
				ref.update(narrow[T](g.dense))
			default:
				ref.updateRows(g.indices, narrow[T](g.values), width)
			}
		}
		r.param, r.sum = append(r.param, widen(ref.p)), append(r.sum, widen(ref.s))
	}
	return r
}

// testSparse checks row-sparse gradients bitwise against the reference and
// the CPU backend, and that bad sparse input changes nothing.
func testSparse(t *testing.T, open Opener) {
	for _, dt := range dtypes {
		t.Run(dt.String(), func(t *testing.T) {
			m := newSparseModel(dt, 6)
			got, err := m.run(mustOpen(t, open))
			if err != nil {
				t.Fatal(err)
			}
			if d := got.diff(m.reference()); d != "" {
				t.Errorf("backend vs reference: %s", d)
			}
			want, err := m.run(mustOpen(t, func() (device.Backend, error) { return cpu.New(), nil }))
			if err != nil {
				t.Fatal(err)
			}
			if d := got.diff(want); d != "" {
				t.Errorf("backend vs cpu: %s", d)
			}
		})
	}
	t.Run("BadInput", func(t *testing.T) { testBadSparse(t, open) })
	t.Run("ReadRows", func(t *testing.T) { testReadRows(t, open) })
}

func testBadSparse(t *testing.T, open Opener) {
	dev := mustOpen(t, open)
	opt, err := optim.New(dev, []optim.Param{
		{Name: "emb", Init: make([]float32, 40), Shape: []int{10, 4}},
		{Name: "decayed", Init: make([]float32, 8), Shape: []int{2, 4}, Options: []optim.Option{optim.WeightDecay(0.1)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	if err := opt.SetSparseGrad("emb", []int64{1, 1, 9}, make([]float32, 12)); err != nil {
		t.Fatal(err)
	}
	if err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	before, err := opt.State()
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		what string
		want error
		call func() error
	}{
		{"row past the end", optim.ErrIndex, func() error { return opt.SetSparseGrad("emb", []int64{0, 10}, make([]float32, 8)) }},
		{"negative row", optim.ErrIndex, func() error { return opt.SetSparseGrad("emb", []int64{-1}, make([]float32, 4)) }},
		{"values too short", optim.ErrShape, func() error { return opt.SetSparseGrad("emb", []int64{0, 1}, make([]float32, 7)) }},
		{"float64 values", device.ErrDType, func() error { return opt.SetSparseGrad("emb", []int64{0}, make([]float64, 4)) }},
		{"weight decay", optim.ErrSparseWeightDecay, func() error { return opt.SetSparseGrad("decayed", []int64{0}, make([]float32, 4)) }},
		{"unknown tensor", optim.ErrUnknownTensor, func() error { return opt.SetSparseGrad("nope", nil, []float32{}) }},
	}
	for _, c := range bad {
		if err := c.call(); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.what, err, c.want)
		}
	}
	if err := opt.Step(); err != nil { // nothing pending: nothing changes
		t.Fatal(err)
	}
	after, err := opt.State()
	if err != nil {
		t.Fatal(err)
	}
	if d := stateDiff(before, after); d != "" {
		t.Errorf("refused sparse gradients changed the state: %s", d)
	}
	testBadRowUpdate(t, dev, updater(t, dev))
}

// testBadRowUpdate hands the backend malformed row updates directly.
func testBadRowUpdate(t *testing.T, dev device.Backend, rs device.Updater) {
	p, err := dev.Alloc(device.Float32, 16)
	if err != nil {
		t.Fatal(err)
	}
	s, err := dev.Alloc(device.Float32, 16)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, 16)
	for i := range want {
		want[i] = float64(i + 1)
	}
	for _, b := range []device.Buffer{p, s} {
		if err := dev.Write(b, 0, typed(device.Float32, want)); err != nil {
			t.Fatal(err)
		}
	}
	ok := device.RowUpdate{Param: p, State: states(s), Rows: 4, Indices: []int64{0, 2}, Values: make([]float32, 8),
		Range: device.Range{Len: 16, Width: 4, Rule: device.Adagrad, Coef: adagradCoef(0.1, 1e-8, 0, false)}}
	with := func(f func(u *device.RowUpdate)) device.RowUpdate { u := ok; f(&u); return u }
	bad := map[string]device.RowUpdate{
		"duplicate rows": with(func(u *device.RowUpdate) { u.Indices = []int64{2, 2} }),
		"unsorted rows":  with(func(u *device.RowUpdate) { u.Indices = []int64{2, 0} }),
		"row past end":   with(func(u *device.RowUpdate) { u.Indices = []int64{0, 4} }),
		"table too big":  with(func(u *device.RowUpdate) { u.Rows, u.Range.Len = 5, 20 }),
		"offset":         with(func(u *device.RowUpdate) { u.Range.Off = 4 }),
		"rows vs len":    with(func(u *device.RowUpdate) { u.Rows = 3 }),
		"weight decay":   with(func(u *device.RowUpdate) { u.Range.Coef[device.CoefWeightDecay] = 0.1 }),
		"no state":       with(func(u *device.RowUpdate) { u.State = states(nil) }),
		"values":         with(func(u *device.RowUpdate) { u.Values = make([]float32, 7) }),
		"values dtype":   with(func(u *device.RowUpdate) { u.Values = make([]float64, 8) }),
		"NaN lr":         with(func(u *device.RowUpdate) { u.Range.Coef[device.CoefLR] = math.NaN() }),
		"negative eps":   with(func(u *device.RowUpdate) { u.Range.Coef[device.CoefEps] = -1 }),
	}
	for name, u := range bad {
		if err := rs.UpdateRows(u); err == nil {
			t.Errorf("UpdateRows with %s succeeded", name)
		}
	}
	if err := dev.Sync(); err != nil {
		t.Fatal(err)
	}
	expectContents(t, dev, p, want)
	expectContents(t, dev, s, want)
}

// testReadRows checks the gather of rows against a full read.
func testReadRows(t *testing.T, open Opener) {
	dev := mustOpen(t, open)
	init := make([]float64, 7*5)
	for i := range init {
		init[i] = float64(i)
	}
	for _, dt := range dtypes {
		opt, err := optim.New(dev, []optim.Param{{Name: "pad", Init: zeros(dt, 3)}, {Name: "t", Init: typed(dt, init), Shape: []int{7, 5}}})
		if err != nil {
			t.Fatal(err)
		}
		rows := []int64{6, 0, 6, 3}
		got := zeros(dt, len(rows)*5)
		if err := opt.ReadRows("t", rows, got); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			for w := range 5 {
				if g := widen(got)[i*5+w]; g != init[int(r)*5+w] {
					t.Fatalf("%v: row %d element %d = %v, want %v", dt, r, w, g, init[int(r)*5+w])
				}
			}
		}
		if err := opt.ReadRows("t", []int64{7}, zeros(dt, 5)); !errors.Is(err, optim.ErrIndex) {
			t.Errorf("row past the end: err = %v", err)
		}
		if err := opt.ReadRows("t", []int64{1}, zeros(dt, 4)); !errors.Is(err, optim.ErrShape) {
			t.Errorf("short dst: err = %v", err)
		}
		opt.Close()
	}
}
