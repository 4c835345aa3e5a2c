package optim_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/half"
	"github.com/adagrad-go/adagrad/optim"
)

// recording is a CPU backend that keeps what the optimizer sends it: half
// gradients written, and row updates.
type recording struct {
	*cpu.Backend
	halfWrites [][]uint16
	rows       []device.RowUpdate
}

func (r *recording) Write(dst device.Buffer, off int, src any) error {
	if h, ok := src.([]uint16); ok {
		r.halfWrites = append(r.halfWrites, slices.Clone(h))
	}
	return r.Backend.Write(dst, off, src)
}

func (r *recording) UpdateRows(u device.RowUpdate) error {
	r.rows = append(r.rows, u)
	return r.Backend.UpdateRows(u)
}

// TestSkipNonFiniteAfterNarrowing gives float32 gradients that are finite
// but not in the half type they travel as: SkipNonFinite refuses them with
// nothing changed, a tensor without it takes them (as PyTorch would), and
// what is sent is the gradient narrowed once, to nearest.
func TestSkipNonFiniteAfterNarrowing(t *testing.T) {
	cases := []struct {
		dt       device.DType
		bad, top float32 // not finite in dt; the largest finite there
	}{
		{device.Float16, 1e5, 65504},
		{device.Float16, 65520, 65504}, // rounds up to +Inf
		{device.BFloat16, math.MaxFloat32, 3.3895314e38},
	}
	for _, c := range cases {
		dev := &recording{Backend: cpu.New()}
		opt, err := optim.New(dev, []optim.Param{
			{Name: "skip", Init: []float32{1, 2, 3}, Options: []optim.Option{optim.SkipNonFinite(true)}},
			{Name: "keep", Init: []float32{1, 2}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := opt.SetGradPrecision(c.dt); err != nil {
			t.Fatal(err)
		}
		before := takeSnapshot(t, opt)
		if err := opt.SetGrad("skip", []float32{0.5, -c.bad, 1}); err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(); !errors.Is(err, optim.ErrNonFinite) {
			t.Errorf("%v: a gradient of %v with SkipNonFinite: err = %v, want ErrNonFinite", c.dt, -c.bad, err)
		}
		if d := before.diff(takeSnapshot(t, opt)); d != "" {
			t.Errorf("%v: the refused step changed the state: %s", c.dt, d)
		}
		// The largest finite value passes, and goes as its exact bits.
		grad := []float32{0.5, -c.top, 1}
		if err := opt.SetGrad("skip", grad); err != nil {
			t.Fatal(err)
		}
		dev.halfWrites = nil
		if err := opt.Step(); err != nil {
			t.Errorf("%v: a gradient of %v: %v", c.dt, -c.top, err)
		}
		if len(dev.halfWrites) != 1 || !slices.Equal(dev.halfWrites[0], narrow(grad, c.dt)) {
			t.Errorf("%v: sent %x, want %x", c.dt, dev.halfWrites, narrow(grad, c.dt))
		}
		// Without SkipNonFinite the step runs.
		if err := opt.SetGrad("keep", []float32{c.bad, 0}); err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(); err != nil {
			t.Errorf("%v: without SkipNonFinite: %v", c.dt, err)
		}
		opt.Close()
		dev.Close()
	}
}

func narrow(g []float32, dt device.DType) []uint16 {
	out := make([]uint16, len(g))
	for i, f := range g {
		if dt == device.BFloat16 {
			out[i] = half.FromFloat32BF16(f)
		} else {
			out[i] = half.FromFloat32F16(f)
		}
	}
	return out
}

// TestSkipNonFiniteAfterSumming gives a sparse gradient whose duplicate
// rows are finite but sum to +Inf: SkipNonFinite refuses it with nothing
// changed; finite sums pass, and the device receives the sums it was
// checked with, each row once, sorted.
func TestSkipNonFiniteAfterSumming(t *testing.T) {
	dev := &recording{Backend: cpu.New()}
	defer dev.Close()
	opt, err := optim.New(dev, []optim.Param{
		{Name: "emb", Init: make([]float32, 8), Shape: []int{4, 2}},
		{Name: "emb64", Init: make([]float64, 8), Shape: []int{4, 2}},
	}, optim.SkipNonFinite(true))
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	before := takeSnapshot(t, opt)
	if err := opt.SetSparseGrad("emb", []int64{2, 0, 2}, []float32{3e38, 1, 1, 1, 3e38, 1}); err != nil {
		t.Fatal(err)
	}
	if err := opt.Step(); !errors.Is(err, optim.ErrNonFinite) {
		t.Errorf("rows summing to +Inf: err = %v, want ErrNonFinite", err)
	}
	if len(dev.rows) != 0 {
		t.Errorf("%d row updates sent by a refused step", len(dev.rows))
	}
	if d := before.diff(takeSnapshot(t, opt)); d != "" {
		t.Errorf("the refused step changed the state: %s", d)
	}
	// The same rows in float64 sum to 6e38: finite.
	if err := opt.SetSparseGrad("emb64", []int64{2, 0, 2}, []float64{3e38, 1, 1, 1, 3e38, 1}); err != nil {
		t.Fatal(err)
	}
	if err := opt.SetSparseGrad("emb", []int64{2, 0, 2}, []float32{3e38, 1, 1, 1, -3e38, 0.5}); err != nil {
		t.Fatal(err)
	}
	if err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	if len(dev.rows) != 2 {
		t.Fatalf("%d row updates, want 2", len(dev.rows))
	}
	u := dev.rows[0]
	if !slices.Equal(u.Indices, []int64{0, 2}) || !slices.Equal(u.Values.([]float32), []float32{1, 1, 0, 1.5}) {
		t.Errorf("sent rows %v, values %v; want rows [0 2], values [1 1 0 1.5]", u.Indices, u.Values)
	}
	u = dev.rows[1]
	if !slices.Equal(u.Indices, []int64{0, 2}) || !slices.Equal(u.Values.([]float64), []float64{1, 1, 6e38, 2}) {
		t.Errorf("sent rows %v, values %v; want rows [0 2], values [1 1 6e38 2]", u.Indices, u.Values)
	}
}
