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

// rankCheck is a check of how the ranks agree, run on every rank of a
// world of at least min ranks (in-process here, under mpirun in
// mpi_test.go).
type rankCheck struct {
	name string
	min  int
	run  func(c collective.Comm) error
}

func rankChecks() []rankCheck {
	return []rankCheck{
		{"MixedGradients", 2, withOptimizer(mixedGradients)},
		{"OneRankWrong", 2, withOptimizer(oneRankWrong)},
		{"NewAgrees", 3, newAgrees},
		{"NonFiniteAlike", 2, nonFiniteAlike},
		{"LoadStateChecks", 2, withOptimizer(loadStateChecks)},
	}
}

func TestRankChecks(t *testing.T) {
	for _, ch := range rankChecks() {
		t.Run(ch.name, func(t *testing.T) {
			if err := collectivetest.OnEveryRank(inProcess(t, 3), ch.run); err != nil {
				t.Error(err)
			}
		})
	}
}

// withOptimizer runs f with a sharded optimizer over the shared model
// (Defaults).
func withOptimizer(f func(c collective.Comm, opt *sharded.Adagrad) error) func(c collective.Comm) error {
	return func(c collective.Comm) error {
		dev := cpu.New()
		defer dev.Close()
		opt, err := sharded.New(c, dev, params(scenarios()[0], 1))
		if err != nil {
			return err
		}
		defer opt.Close()
		return f(c, opt)
	}
}

// mixedGradients: dense on one rank and sparse on another is refused
// alike on every rank, changes nothing, and leaves the gradients pending.
func mixedGradients(c collective.Comm, opt *sharded.Adagrad) error {
	if c.Rank() == 1 {
		if err := opt.SetSparseGrad("b32", []int64{2}, []float32{1}); err != nil {
			return err
		}
	} else if err := opt.SetGrad("b32", make([]float32, 6)); err != nil {
		return err
	}
	before, err := opt.State()
	if err != nil {
		return err
	}
	if err := opt.Step(); !errors.Is(err, sharded.ErrMixedGradients) {
		return fmt.Errorf("Step = %v, want ErrMixedGradients", err)
	}
	after, err := opt.State()
	if err != nil {
		return err
	}
	if err := sameState(after, before); err != nil {
		return fmt.Errorf("a refused step changed the state: %w", err)
	}
	// Rank 1 replaces its gradient by a dense one: the step goes on.
	if c.Rank() == 1 {
		if err := opt.SetGrad("b32", make([]float32, 6)); err != nil {
			return err
		}
	}
	if err := opt.Step(); err != nil {
		return err
	}
	if step := opt.Tensors()[2].Step; step != 1 {
		return fmt.Errorf("b32 at step %d, want 1", step)
	}
	return nil
}

// oneRankWrong: a rank whose arguments are wrong fails after taking its
// part; the others finish.
func oneRankWrong(c collective.Comm, opt *sharded.Adagrad) error {
	// Read: rank 1's destination is too short.
	dst := make([]float64, 20)
	if c.Rank() == 1 {
		dst = dst[:19]
	}
	err := opt.Read("w64", dst)
	if (c.Rank() == 1) != errors.Is(err, optim.ErrShape) || (c.Rank() != 1 && err != nil) {
		return fmt.Errorf("Read: %v", err)
	}
	// ReadRows: rank 0 asks for a row that does not exist.
	rows := []int64{1, 4}
	if c.Rank() == 0 {
		rows[1] = 13
	}
	err = opt.ReadRows("emb32", rows, make([]float32, 6))
	if (c.Rank() == 0) != errors.Is(err, optim.ErrIndex) || (c.Rank() != 0 && err != nil) {
		return fmt.Errorf("ReadRows: %v", err)
	}
	// Then everything goes on.
	return opt.Read("w64", make([]float64, 20))
}

// newAgrees: a rank that cannot build its part, or ranks given other
// models, make New fail on every rank.
func newAgrees(c collective.Comm) error {
	build := func(c collective.Comm, change func(rank int, ps []optim.Param)) error {
		dev := cpu.New()
		defer dev.Close()
		ps := params(scenarios()[0], 1)
		change(c.Rank(), ps)
		opt, err := sharded.New(c, dev, ps)
		if err == nil {
			opt.Close()
		}
		return err
	}
	err := build(c, func(rank int, ps []optim.Param) {
		if rank == 2 {
			ps[1].Options = []optim.Option{optim.LR(-1)}
		}
	})
	switch {
	case c.Rank() == 2 && (!errors.Is(err, device.ErrHyper) || errors.Is(err, sharded.ErrPeer)):
		return fmt.Errorf("given a bad learning rate: %v, want its own ErrHyper", err)
	case c.Rank() != 2 && (!errors.Is(err, sharded.ErrPeer) || !errors.Is(err, device.ErrHyper)):
		return fmt.Errorf("rank 2 given a bad learning rate: %v, want ErrPeer wrapping ErrHyper", err)
	}
	err = build(c, func(rank int, ps []optim.Param) {
		if rank == 1 {
			ps[0].Options = []optim.Option{optim.LR(0.5)}
		}
	})
	if !errors.Is(err, sharded.ErrMismatch) {
		return fmt.Errorf("rank 1 given another learning rate: %v, want ErrMismatch", err)
	}
	return nil
}

// nonFiniteAlike: the rank that finds an Inf and the others return
// errors that errors.Is matches to optim.ErrNonFinite.
func nonFiniteAlike(c collective.Comm) error {
	dev := cpu.New()
	defer dev.Close()
	opt, err := sharded.New(c, dev, params(scenarios()[0], 1), optim.SkipNonFinite(true))
	if err != nil {
		return err
	}
	defer opt.Close()
	g := make([]float64, 20)
	g[19] = 1e308 // the sum overflows to +Inf, in a row the last rank owns
	if err := opt.SetGrad("w64", g); err != nil {
		return err
	}
	err = opt.Step()
	if !errors.Is(err, optim.ErrNonFinite) {
		return fmt.Errorf("Step = %v, want ErrNonFinite", err)
	}
	if c.Rank() != c.Size()-1 && !errors.Is(err, sharded.ErrPeer) {
		return fmt.Errorf("a rank that owns no bad row: %v, want ErrPeer too", err)
	}
	return nil
}

// loadStateChecks: a state of another model is refused on every rank;
// ranks given states that differ find out.
func loadStateChecks(c collective.Comm, opt *sharded.Adagrad) error {
	st, err := opt.State()
	if err != nil {
		return err
	}
	bad := st
	bad.Tensors = append([]optim.TensorState(nil), st.Tensors...)
	bad.Tensors[1].Param = make([]float64, 19)
	if err := opt.LoadState(bad); !errors.Is(err, optim.ErrShape) {
		return fmt.Errorf("short parameter: %v, want ErrShape", err)
	}
	other := st
	other.Tensors = append([]optim.TensorState(nil), st.Tensors...)
	if c.Rank() == 1 {
		other.Tensors[0].Step = 7
	}
	if err := opt.LoadState(other); !errors.Is(err, sharded.ErrMismatch) {
		return fmt.Errorf("ranks given other states: %v, want ErrMismatch", err)
	}
	return opt.LoadState(st)
}

// TestLocalErrors: what optim refuses, the sharded optimizer refuses with
// the same sentinels, without communicating.
func TestLocalErrors(t *testing.T) {
	dev := cpu.New()
	defer dev.Close()
	sc := scenarios()[3] // weight decay on the dense tensors
	opt, err := sharded.New(collective.One(), dev, params(sc, 1), sc.opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what string
		err  error
		want error
	}{
		{"unknown", opt.SetGrad("nope", []float32{1}), optim.ErrUnknownTensor},
		{"length", opt.SetGrad("b32", []float32{1}), optim.ErrShape},
		{"dtype", opt.SetGrad("b32", make([]float64, 6)), optim.ErrShape},
		{"row", opt.SetSparseGrad("emb32", []int64{13}, make([]float32, 3)), optim.ErrIndex},
		{"values", opt.SetSparseGrad("emb32", []int64{1}, make([]float32, 2)), optim.ErrShape},
		{"weight decay", opt.SetSparseGrad("w64", []int64{1}, make([]float64, 4)), optim.ErrSparseWeightDecay},
		{"read", opt.Read("b32", make([]float32, 5)), optim.ErrShape},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.what, c.err, c.want)
		}
	}
	if _, err := opt.Grad64("b32"); !errors.Is(err, optim.ErrShape) {
		t.Errorf("Grad64 of a float32 tensor: %v", err)
	}
	opt.Close()
	if err := opt.Step(); !errors.Is(err, optim.ErrClosed) {
		t.Errorf("Step after Close: %v", err)
	}
}

// TestRankOwningNothing: with more ranks than rows, a rank that owns no
// row of any tensor still takes its part in every call, checks included.
func TestRankOwningNothing(t *testing.T) {
	ps := func() []optim.Param {
		return []optim.Param{
			{Name: "a", Init: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, Shape: []int{2, 5}},
			{Name: "e", Init: []float64{1, 2}, Shape: []int{2, 1}},
		}
	}
	err := collectivetest.OnEveryRank(inProcess(t, 3), func(c collective.Comm) error {
		dev, refDev := cpu.New(), cpu.New()
		defer dev.Close()
		defer refDev.Close()
		opt, err := sharded.New(c, dev, ps(), optim.SkipNonFinite(true))
		if err != nil {
			return err
		}
		defer opt.Close()
		ref, err := optim.New(refDev, ps(), optim.SkipNonFinite(true))
		if err != nil {
			return err
		}
		defer ref.Close()
		if shards, _ := opt.Shards(0); shards[0].Rows != 0 || shards[1].Rows != 0 {
			return fmt.Errorf("rank 0 owns %+v; want no rows", shards)
		}
		for step := range 3 {
			g := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, float32(step)}
			if err := opt.SetGrad("a", g); err != nil {
				return err
			}
			sparse := step%2 == 1 // some steps dense only
			if sparse {
				if err := opt.SetSparseGrad("e", []int64{1, 0}, []float64{0.5, 0.25}); err != nil {
					return err
				}
			}
			sum := make([]float32, 10)
			for r := range c.Size() {
				for i := range sum {
					if r == 0 {
						sum[i] = g[i]
					} else {
						sum[i] += g[i]
					}
				}
			}
			if err := ref.SetGrad("a", sum); err != nil {
				return err
			}
			if sparse {
				var idx []int64
				var vals []float64
				for range c.Size() {
					idx, vals = append(idx, 1, 0), append(vals, 0.5, 0.25)
				}
				if err := ref.SetSparseGrad("e", idx, vals); err != nil {
					return err
				}
			}
			if err := errors.Join(opt.Step(), ref.Step()); err != nil {
				return err
			}
		}
		got, err := opt.State()
		if err != nil {
			return err
		}
		want, err := ref.State()
		if err != nil {
			return err
		}
		return sameState(got, want)
	})
	if err != nil {
		t.Error(err)
	}
}

// TestRefusedVariants: half-precision parameters and 8-bit state are not
// sharded (a rank's rows would round and quantize apart from the whole
// tensor's): New refuses them with device.ErrDType and device.ErrRule.
func TestRefusedVariants(t *testing.T) {
	dev := cpu.New()
	defer dev.Close()
	for _, c := range []struct {
		what string
		p    optim.Param
		want error
	}{
		{"bfloat16 parameters", optim.Param{Name: "h", Init: make([]float32, 4), DType: device.BFloat16}, device.ErrDType},
		{"8-bit state", optim.Param{Name: "q", Init: make([]float32, 4), Options: []optim.Option{optim.UpdateRule(device.Adagrad8Bit)}}, device.ErrRule},
	} {
		if _, err := sharded.New(collective.One(), dev, []optim.Param{c.p}); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.what, err, c.want)
		}
	}
}
