package device_test

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// buf is a buffer made by a Tracker, as backends make them, with no memory:
// the validators look only at dtypes and lengths.
type buf struct{ device.BufferHeader }

var allDTypes = device.Capabilities{DTypes: []device.DType{device.Float32, device.Float64, device.BFloat16, device.Float16}}

func newBuf(t testing.TB, tr *device.Tracker, dt device.DType, n int) *buf {
	t.Helper()
	h, err := tr.NewHeader(allDTypes, dt, n, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := &buf{h}
	tr.Adopt(b)
	return b
}

// extremes are the values that overflow careless bounds checks.
var extremes = []int{0, 1, 2, 3, 4, 7, 8, -1, math.MinInt, math.MaxInt, math.MaxInt - 1, math.MaxInt / 2, math.MaxInt/2 + 1,
	math.MaxInt / 4, math.MaxInt/4 + 1, math.MaxInt / 8, 1 << 31, 1 << 32, 1<<62 + 1, -(1 << 62)}

func coefs(lr float64) [device.MaxCoefs]float64 {
	return [device.MaxCoefs]float64{lr, 1e-8, 0, 1}
}

// TestValidatorsRefuseOverflow gives the validators offsets, lengths,
// widths and row counts whose sums or products overflow an int: each is
// refused with device.ErrRange, none panics.
func TestValidatorsRefuseOverflow(t *testing.T) {
	var tr device.Tracker
	p, g, s := newBuf(t, &tr, device.Float32, 16), newBuf(t, &tr, device.Float32, 16), newBuf(t, &tr, device.Float32, 16)
	st := [device.StateBuffers]device.Buffer{s}
	dense := func(r device.Range) error {
		r.Rule, r.Coef = device.Adagrad, coefs(0.1)
		return device.Update{Param: p, Grad: g, State: st, Ranges: []device.Range{r}}.Validate()
	}
	rows := func(rows, width, off int, idx []int64, nv int) error {
		r := device.Range{Off: off, Len: rows * width, Width: width, Rule: device.Adagrad, Coef: coefs(0.1)}
		return device.RowUpdate{Param: p, State: st, Range: r, Rows: rows, Indices: idx, Values: make([]float32, nv)}.Validate()
	}
	cases := map[string]func() error{
		"dense off+len wraps":            func() error { return dense(device.Range{Off: math.MaxInt, Len: math.MaxInt}) },
		"dense off+len wraps to 0":       func() error { return dense(device.Range{Off: math.MaxInt, Len: math.MinInt + 1}) },
		"dense len past the end":         func() error { return dense(device.Range{Off: 8, Len: 9}) },
		"dense state off+len wraps":      func() error { return dense(device.Range{Len: 4, StateOff: [2]int{math.MaxInt - 1}}) },
		"dense negative state off":       func() error { return dense(device.Range{Len: 4, StateOff: [2]int{math.MinInt}}) },
		"dense negative width":           func() error { return dense(device.Range{Len: 4, Width: math.MinInt}) },
		"rows × width wraps to 16":       func() error { return rows(4, 1<<62+1, 0, nil, 0) },
		"rows × width wraps to 0":        func() error { return rows(1<<32, 1<<32, 0, nil, 0) },
		"indices × width wraps":          func() error { return rows(1, 16, 0, make([]int64, 1<<12), 0) },
		"row past rows":                  func() error { return rows(2, 8, 0, []int64{2}, 8) },
		"row math.MaxInt64":              func() error { return rows(2, 8, 0, []int64{math.MaxInt64}, 8) },
		"row math.MinInt64":              func() error { return rows(2, 8, 0, []int64{math.MinInt64}, 8) },
		"rows at an offset past the end": func() error { return rows(2, 8, 1, []int64{0}, 8) },
		"gather off+rows wraps": func() error {
			return device.CheckRows(make([]float32, 4), p, math.MaxInt, 4, []int64{0})
		},
		"gather row × width wraps": func() error {
			return device.CheckRows(make([]float32, 2), p, 0, 2, []int64{math.MaxInt64 / 2})
		},
		"gather rows × width wraps": func() error {
			return device.CheckRows(make([]float32, 0), p, 0, 1<<62, make([]int64, 4))
		},
		"gather negative width": func() error { return device.CheckRows(make([]float32, 0), p, 0, -4, []int64{1}) },
		"gather negative row":   func() error { return device.CheckRows(make([]float32, 4), p, 0, 4, []int64{-1}) },
		"gather negative row of width 0": func() error {
			return device.CheckRows(make([]float32, 0), p, 0, 0, []int64{math.MinInt64})
		},
		"copy off+n wraps":      func() error { _, err := device.CheckCopy(p, math.MaxInt, make([]float32, 2)); return err },
		"copy negative off":     func() error { _, err := device.CheckCopy(p, math.MinInt, make([]float32, 2)); return err },
		"alloc of 2^61 float32": func() error { _, err := tr.NewHeader(allDTypes, device.Float32, 1<<61, 0); return err },
		"alloc of MaxInt float64": func() error {
			_, err := tr.NewHeader(allDTypes, device.Float64, math.MaxInt, 0)
			return err
		},
		"alloc past the limit": func() error { _, err := tr.NewHeader(allDTypes, device.Float16, 1<<20+1, 1<<21); return err },
		"alloc of -1":          func() error { _, err := tr.NewHeader(allDTypes, device.Float32, -1, 0); return err },
		"params as state": func() error {
			return device.Update{Param: p, Grad: g, State: [device.StateBuffers]device.Buffer{p},
				Ranges: []device.Range{{Len: 4, Rule: device.Adagrad, Coef: coefs(0.1)}}}.Validate()
		},
		"gradients as params": func() error {
			return device.Update{Param: p, Grad: p, State: st,
				Ranges: []device.Range{{Len: 4, Rule: device.Adagrad, Coef: coefs(0.1)}}}.Validate()
		},
		"row update with params as state": func() error {
			return device.RowUpdate{Param: p, State: [device.StateBuffers]device.Buffer{p}, Rows: 2, Values: []float32{},
				Range: device.Range{Len: 16, Width: 8, Rule: device.Adagrad, Coef: coefs(0.1)}}.Validate()
		},
	}
	for name, call := range cases {
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: panic %v", name, r)
				}
			}()
			err = call()
		}()
		if !errors.Is(err, device.ErrRange) {
			t.Errorf("%s: err = %v, want device.ErrRange", name, err)
		}
	}
}

// TestValidatorsBoundsProperty draws offsets, lengths, widths, rows and
// indices from values near the ends of int (and small ones), and checks,
// in exact arithmetic, that whatever a validator accepts lies inside its
// buffers: the property that lets backends index without checking again.
func TestValidatorsBoundsProperty(t *testing.T) {
	var tr device.Tracker
	const n = 64
	p, g := newBuf(t, &tr, device.Float64, n), newBuf(t, &tr, device.Float64, n)
	s := newBuf(t, &tr, device.Float64, n/2)
	st := [device.StateBuffers]device.Buffer{s}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() int {
		if rng.IntN(2) == 0 {
			return extremes[rng.IntN(len(extremes))]
		}
		return rng.IntN(n + 2)
	}
	inside := func(off, length, size int) bool { // off+length <= size, exactly
		end := new(big.Int).Add(big.NewInt(int64(off)), big.NewInt(int64(length)))
		return off >= 0 && length >= 0 && end.Cmp(big.NewInt(int64(size))) <= 0
	}
	// length is mostly k rows of width, when that is small, else any
	// small length.
	length := func(k, width int) int {
		if width >= 0 && k <= 4*n/max(width, 1) && rng.IntN(4) > 0 {
			return k * width
		}
		return rng.IntN(4*n + 1)
	}
	const draws = 200_000
	accepted := [4]int{}
	for range draws {
		r := device.Range{Off: pick(), Len: pick(), Width: pick(), Rule: device.Adagrad, Coef: coefs(0.1), StateOff: [2]int{pick()}}
		if (device.Update{Param: p, Grad: g, State: st, Ranges: []device.Range{r}}).Validate() == nil {
			accepted[0]++
			if !inside(r.Off, r.Len, n) || !inside(r.StateOff[0], r.Len, s.Len()) {
				t.Fatalf("dense %+v accepted outside %d params, %d states", r, n, s.Len())
			}
		}
		rows, k := pick(), rng.IntN(4)
		idx := make([]int64, k)
		for i := range idx {
			idx[i] = int64(pick())
		}
		if rng.IntN(2) == 0 { // mostly coherent, so that some pass
			rows, r.Width = rng.IntN(9), rng.IntN(9)
			r.Len = rows * r.Width
			for i := range idx {
				idx[i] = int64(i + rng.IntN(3) - 1)
			}
		}
		nv := length(k, r.Width)
		ru := device.RowUpdate{Param: p, State: st, Range: r, Rows: rows, Indices: idx, Values: make([]float64, nv)}
		if ru.Validate() == nil {
			accepted[1]++
			prod := new(big.Int).Mul(big.NewInt(int64(rows)), big.NewInt(int64(r.Width)))
			if prod.Cmp(big.NewInt(int64(r.Len))) != 0 || !inside(r.Off, r.Len, n) || !inside(r.StateOff[0], r.Len, s.Len()) {
				t.Fatalf("row update of %d rows, %+v accepted outside %d params", rows, r, n)
			}
			for _, row := range idx {
				if row < 0 || row >= int64(rows) {
					t.Fatalf("row %d of %d accepted", row, rows)
				}
			}
		}
		off, width := pick(), pick()
		dst := make([]float64, length(k, width))
		if device.CheckRows(dst, p, off, width, idx) == nil {
			accepted[2]++
			for _, row := range idx {
				end := new(big.Int).Mul(big.NewInt(row+1), big.NewInt(int64(width)))
				end.Add(end, big.NewInt(int64(off)))
				if row < 0 || end.Cmp(big.NewInt(n)) > 0 {
					t.Fatalf("gather of row %d of width %d at %d accepted in %d", row, width, off, n)
				}
			}
		}
		if _, err := device.CheckCopy(p, off, make([]float64, rng.IntN(n+2))); err == nil {
			accepted[3]++
		}
	}
	t.Logf("%d draws each; accepted: %d dense, %d row updates, %d gathers, %d copies", draws, accepted[0], accepted[1], accepted[2], accepted[3])
	if accepted[0] == 0 || accepted[1] == 0 || accepted[2] == 0 {
		t.Errorf("the draws never passed a validator: %v", accepted)
	}
}
