//go:build mpi

package sharded_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/internal/mpirun"
	"github.com/adagrad-go/adagrad/optim"
	"github.com/adagrad-go/adagrad/sharded"
)

// TestTimingUnderMpirun measures time per step on 1, 2 and 3 ranks and
// prints it, with the bytes each rank sends per step. It asserts nothing
// about time; it runs when ADAGRAD_SHARDED_TIMING=1.
func TestTimingUnderMpirun(t *testing.T) {
	if os.Getenv("ADAGRAD_SHARDED_TIMING") != "1" {
		t.Skip("set ADAGRAD_SHARDED_TIMING=1 to measure")
	}
	for _, np := range []int{1, 2, 3} {
		r := mpirun.Run(t, np, "^TestTimingRank$", 10*time.Minute, "ADAGRAD_SHARDED_TIMING=1")
		if r.Err != nil {
			t.Fatalf("%v\n%s", r.Err, r.Output)
		}
		for _, line := range splitLines(r.Output) {
			if len(line) > 7 && line[:7] == "TIMING " {
				t.Log(line[7:])
			}
		}
	}
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

// timingModel: two dense float32 tensors of 2²⁰ elements in all (4 MiB)
// and a float32 embedding of 2¹⁶ rows of 64 (16 MiB).
func timingModel() []optim.Param {
	return []optim.Param{
		{Name: "w", Init: make([]float32, 768*1024), Shape: []int{768, 1024}},
		{Name: "v", Init: make([]float32, 256*1024), Shape: []int{256, 1024}},
		{Name: "emb", Init: make([]float32, 65536*64), Shape: []int{65536, 64}},
	}
}

func TestTimingRank(t *testing.T) {
	w := needWorld(t)
	if os.Getenv("ADAGRAD_SHARDED_TIMING") != "1" {
		t.Skip("launched by TestTimingUnderMpirun")
	}
	dev := cpu.New()
	defer dev.Close()
	opt, err := sharded.New(w, dev, timingModel())
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	const steps, rowsPerRank = 30, 1024
	rng := rand.New(rand.NewPCG(uint64(w.Rank()), 1))
	rows := make([]int64, rowsPerRank)
	vals := make([]float32, rowsPerRank*64)
	for i := range vals {
		vals[i] = rng.Float32() - 0.5
	}
	gw, _ := opt.Grad32("w")
	gv, _ := opt.Grad32("v")
	for i := range gw {
		gw[i] = rng.Float32() - 0.5
	}
	for i := range gv {
		gv[i] = rng.Float32() - 0.5
	}
	pw, pv := make([]float32, len(gw)), make([]float32, len(gv))
	gathered := make([]float32, rowsPerRank*64)

	measure := func(name string, step func() error) {
		var times []time.Duration
		before := opt.Traffic()
		for i := range steps + 3 {
			if err := w.Barrier(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := step(); err != nil {
				t.Fatal(err)
			}
			if i >= 3 { // warm-up
				times = append(times, time.Since(start))
			}
		}
		per := opt.Traffic().Sub(before)
		slices.Sort(times)
		total := int64(steps + 3)
		fmt.Printf("TIMING N=%d rank %d: %-28s median %8.3f ms  sent/step: gradients %d B, rows %d B, parameters %d B, control %d B\n",
			w.Size(), w.Rank(), name, float64(times[len(times)/2].Microseconds())/1000,
			per.GradientBytes/total, per.SparseBytes/total, per.ParamBytes/total, per.ControlBytes/total)
	}
	measure("dense step", func() error {
		opt.Grad32("w")
		opt.Grad32("v")
		return opt.Step()
	})
	measure("dense step + Read", func() error {
		opt.Grad32("w")
		opt.Grad32("v")
		if err := opt.Step(); err != nil {
			return err
		}
		if err := opt.Read("w", pw); err != nil {
			return err
		}
		return opt.Read("v", pv)
	})
	measure("sparse step + ReadRows", func() error {
		for i := range rows {
			rows[i] = int64(rng.IntN(65536))
		}
		if err := opt.ReadRows("emb", rows, gathered); err != nil {
			return err
		}
		if err := opt.SetSparseGrad("emb", rows, vals); err != nil {
			return err
		}
		return opt.Step()
	})
	if w.Size() == 1 {
		// The same steps on one optim.Adagrad, without the sharded layer.
		ref, err := optim.New(dev, timingModel())
		if err != nil {
			t.Fatal(err)
		}
		defer ref.Close()
		one := func(name string, step func() error) {
			var times []time.Duration
			for i := range steps + 3 {
				start := time.Now()
				if err := step(); err != nil {
					t.Fatal(err)
				}
				if i >= 3 {
					times = append(times, time.Since(start))
				}
			}
			slices.Sort(times)
			fmt.Printf("TIMING optim.Adagrad (no sharding): %-28s median %8.3f ms\n", name, float64(times[len(times)/2].Microseconds())/1000)
		}
		one("dense step", func() error {
			copy(must(ref.Grad32("w")), gw)
			copy(must(ref.Grad32("v")), gv)
			return ref.Step()
		})
		one("sparse step + ReadRows", func() error {
			for i := range rows {
				rows[i] = int64(rng.IntN(65536))
			}
			if err := ref.ReadRows("emb", rows, gathered); err != nil {
				return err
			}
			if err := ref.SetSparseGrad("emb", rows, vals); err != nil {
				return err
			}
			return ref.Step()
		})
	}
}

func must(g []float32, _ error) []float32 { return g }
