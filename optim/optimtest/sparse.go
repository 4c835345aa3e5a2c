package optimtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/device/devicetest"
	"github.com/adagrad-go/adagrad/optim"
)

// sparseShapes are the tables of the sparse model: a single-row table, a
// 1-D tensor (rows of one element), widths either side of the 4-wide
// vectors, and a wide embedding.
var sparseShapes = [][]int{{1, 5}, {200}, {50, 8}, {37, 3}, {300, 64}, {64, 17}}

// sparseGradient is what tensor k gets at one step of the sparse model.
type sparseGradient struct {
	dense   []float64 // a dense gradient instead (mixed use), or nil
	indices []int64   // duplicates, in no order
	values  []float64
	skip    bool
}

type sparseModel struct {
	dt     device.DType
	shapes [][]int // tensor k's: sparseShapes[k%len(sparseShapes)]
	init   [][]float64
	hyper  []optim.Hyper
	steps  [][]sparseGradient // steps[s][k]
}

const sparseSteps = 5

func newSparseModel(dev device.Backend, dt device.DType, seed uint64) *sparseModel {
	rng := rand.New(rand.NewPCG(seed, 11))
	m := &sparseModel{dt: dt}
	hypers := []optim.Hyper{
		{LR: 0.05, Eps: 1e-10, InitialAccumulatorValue: 0.1},
		{LR: 0.1, Eps: 1e-8, LRDecay: 0.01, Maximize: true},
		{LR: 0.01, Eps: 0, InitialAccumulatorValue: 0.5},
		{LR: 0.2, Eps: 1e-6, LRDecay: 0.1, InitialAccumulatorValue: 0.3, Rule: device.AdagradEpsInside},
		{LR: 0.05, Eps: 1e-7, InitialAccumulatorValue: 0.1, Rule: device.AdagradTF},
		{LR: 0.1, Eps: 1e-7, InitialAccumulatorValue: 0.1, Rule: device.AdagradOptax},
		{LR: 0.2, InitialAccumulatorValue: 0.1, Rule: device.AdagradNoEps},
		{LR: 0.05, InitialAccumulatorValue: 1, Rule: device.AdagradGloVe},
		{LR: 0.3, InitialAccumulatorValue: 0.1, L1: 0.05, L2: 0.1, Rule: device.ProximalAdagrad},
		{LR: 0.2, InitialAccumulatorValue: 0.1, L1: 0.1, L2: 0.2, Rule: device.AdagradDA},
		{LR: 0.1, Momentum: 0.9, Maximize: true, Rule: device.AdagradJAX},
		{LR: 0.1, Eps: 1e-8, WeightDecay: 0.01, InitialAccumulatorValue: 0.1, Rule: device.AdagradRowwise},
		{LR: 0.05, Eps: 1e-10, WeightDecay: 0.1, DecoupledWeightDecay: true, Rule: device.AdagradRowwise},
	}
	// Every hyperparameter set on a table, the tables in turn.
	for k := range max(len(sparseShapes), len(hypers)) {
		shape := sparseShapes[k%len(sparseShapes)]
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = narrowTo(dt, rng.NormFloat64())
		}
		h := hypers[k%len(hypers)]
		if !dev.Capabilities().Supports(ruleOf(h), dt, true) {
			h = asAdagrad(h)
			h.WeightDecay = 0 // Adagrad's row-sparse form has none
		}
		m.shapes, m.init, m.hyper = append(m.shapes, shape), append(m.init, v), append(m.hyper, h)
	}
	for s := range sparseSteps {
		row := make([]sparseGradient, len(m.init))
		for k, shape := range m.shapes {
			rows, width := shape[0], len(m.init[k])/shape[0]
			g := &row[k]
			switch {
			case s == 1 && k == 2:
				continue // no rows touched: the step still counts
			case s == 2 && k == 3:
				g.skip = true
				continue
			case s == 3 && k == 4:
				g.dense = make([]float64, len(m.init[k]))
				for i := range g.dense {
					g.dense[i] = narrowTo(dt, rng.NormFloat64())
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
				g.values = append(g.values, narrowTo(dt, rng.NormFloat64()*(1+float64(s))))
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

func (m *sparseModel) run(dev device.Backend) (_ *result, err error) {
	ps := make([]optim.Param, len(m.init))
	for k, v := range m.init {
		ps[k] = optim.Param{Name: m.name(k), Init: typed(m.dt, v), Shape: m.shapes[k],
			Options: []optim.Option{optim.WithHyper(m.hyper[k])}}
	}
	opt, err := optim.New(dev, ps)
	if err != nil {
		return nil, err
	}
	defer closeInto(&err, opt)
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

func (m *sparseModel) reference() (*result, error) {
	refs := make([]*refTensor, len(m.init))
	names := make([]string, len(m.init))
	for k, v := range m.init {
		refs[k], names[k] = newRefTensor(m.dt, v, m.shapes[k], m.hyper[k]), m.name(k)
		refs[k].name = names[k]
		for s, row := range m.steps {
			var err error
			switch g := row[k]; {
			case g.skip:
			case g.dense != nil:
				err = refs[k].dense(g.dense)
			default:
				err = refs[k].sparse(g.indices, g.values)
			}
			if err != nil {
				return nil, fmt.Errorf("reference step %d tensor %d: %w", s, k, err)
			}
		}
	}
	return referenceResult(names, refs), nil
}

// testSparse checks row-sparse gradients through the optimizer (summed in
// PyTorch's order, mixed with dense ones, skipped, empty) bitwise against
// the references and, for a backend other than the CPU, the CPU backend.
func testSparse(t *testing.T, open devicetest.Opener) {
	dev := devicetest.MustOpen(t, open)
	for _, dt := range realDTypes(dev) {
		t.Run(dt.String(), func(t *testing.T) {
			if !dev.Capabilities().Supports(device.Adagrad, dt, true) {
				t.Skipf("%v runs no row-sparse %v on %v", dev, device.Adagrad, dt)
			}
			m := newSparseModel(dev, dt, 6)
			holdTo(t, dev, m.run, m.reference)
		})
	}
}

// testBadSparse checks the sentinels of bad sparse gradients, and that
// they change nothing.
func testBadSparse(t *testing.T, open devicetest.Opener) {
	dev := devicetest.MustOpen(t, open)
	if !dev.Capabilities().Supports(device.Adagrad, device.Float32, true) {
		t.Skipf("%v runs no row-sparse %v on float32", dev, device.Adagrad)
	}
	opt, err := optim.New(dev, []optim.Param{
		{Name: "emb", Init: make([]float32, 40), Shape: []int{10, 4}},
		{Name: "decayed", Init: make([]float32, 8), Shape: []int{2, 4}, Options: []optim.Option{optim.WeightDecay(0.1)}},
		{Name: "checked", Init: make([]float32, 8), Shape: []int{2, 4}, Options: []optim.Option{optim.SkipNonFinite(true)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeOrFail(t, opt) })
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
	expectErrors(t, []badCall{
		{"a row past the end", optim.ErrIndex, func() error { return opt.SetSparseGrad("emb", []int64{0, 10}, make([]float32, 8)) }},
		{"a negative row", optim.ErrIndex, func() error { return opt.SetSparseGrad("emb", []int64{-1}, make([]float32, 4)) }},
		{"values too short", optim.ErrShape, func() error { return opt.SetSparseGrad("emb", []int64{0, 1}, make([]float32, 7)) }},
		{"float64 values for a float32 tensor", device.ErrDType, func() error { return opt.SetSparseGrad("emb", []int64{0}, make([]float64, 4)) }},
		{"values of ints", device.ErrDType, func() error { return opt.SetSparseGrad("emb", []int64{0}, make([]int, 4)) }},
		{"weight decay", optim.ErrSparseWeightDecay, func() error { return opt.SetSparseGrad("decayed", []int64{0}, make([]float32, 4)) }},
		{"an unknown tensor", optim.ErrUnknownTensor, func() error { return opt.SetSparseGrad("nope", nil, []float32{}) }},
		{"a NaN value with SkipNonFinite", optim.ErrNonFinite, func() error {
			if err := opt.SetSparseGrad("checked", []int64{1}, []float32{0, float32(math.NaN()), 0, 0}); err != nil {
				return err
			}
			return opt.Step()
		}},
		{"weight decay set after the sparse gradient", optim.ErrSparseWeightDecay, func() error {
			opt.ZeroGrad()
			if err := opt.SetSparseGrad("emb", []int64{2}, make([]float32, 4)); err != nil {
				return err
			}
			if err := opt.SetHyper([]string{"emb"}, optim.WeightDecay(0.5)); err != nil {
				return err
			}
			err := opt.Step()
			if e := opt.SetHyper([]string{"emb"}, optim.WeightDecay(0)); e != nil {
				return e
			}
			return err
		}},
	})
	opt.ZeroGrad()
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
}

// testReadRows checks the gather of rows through the optimizer against a
// full read, and its sentinels.
func testReadRows(t *testing.T, open devicetest.Opener) {
	dev := devicetest.MustOpen(t, open)
	init := make([]float64, 7*5)
	for i := range init {
		init[i] = float64(i)
	}
	for _, dt := range realDTypes(dev) {
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
		other := device.Float64
		if dt == device.Float64 {
			other = device.Float32
		}
		expectErrors(t, []badCall{
			{"ReadRows of a row past the end", optim.ErrIndex, func() error { return opt.ReadRows("t", []int64{7}, zeros(dt, 5)) }},
			{"ReadRows of a negative row", optim.ErrIndex, func() error { return opt.ReadRows("t", []int64{-1}, zeros(dt, 5)) }},
			{"ReadRows into a short dst", optim.ErrShape, func() error { return opt.ReadRows("t", []int64{1}, zeros(dt, 4)) }},
			{"ReadRows into another dtype", device.ErrDType, func() error { return opt.ReadRows("t", []int64{1}, zeros(other, 5)) }},
			{"ReadRows of an unknown tensor", optim.ErrUnknownTensor, func() error { return opt.ReadRows("nope", []int64{1}, zeros(dt, 5)) }},
		})
		if err := opt.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
