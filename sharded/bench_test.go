package sharded_test

import (
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/optim"
	"github.com/adagrad-go/adagrad/sharded"
)

// stepper is what the benchmarks drive: optim.Adagrad or sharded.Adagrad.
type stepper interface {
	Grad32(name string) ([]float32, error)
	SetSparseGrad(name string, indices []int64, values any) error
	ReadRows(name string, rows []int64, dst any) error
	Step() error
	Close() error
}

// BenchmarkStep compares one sharded rank in the world of one with
// optim.Adagrad on the same steps: what the sharded layer costs when
// there is nothing to share (a dense step over 4 MiB of float32
// gradients; a step of 1024 rows of 64 of an embedding, with their
// gather).
func BenchmarkStep(b *testing.B) {
	const rows, width, touched = 65536, 64, 1024
	model := func() []optim.Param {
		return []optim.Param{
			{Name: "w", Init: make([]float32, 1<<20), Shape: []int{1024, 1024}},
			{Name: "emb", Init: make([]float32, rows*width), Shape: []int{rows, width}},
		}
	}
	makers := []struct {
		name string
		make func() (stepper, error)
	}{
		{"optim", func() (stepper, error) { return optim.New(cpu.New(), model()) }},
		{"sharded-one", func() (stepper, error) { return sharded.New(collective.One(), cpu.New(), model()) }},
	}
	for _, m := range makers {
		b.Run("dense/"+m.name, func(b *testing.B) {
			opt, err := m.make()
			if err != nil {
				b.Fatal(err)
			}
			defer opt.Close()
			b.SetBytes(4 << 20)
			for b.Loop() {
				if _, err := opt.Grad32("w"); err != nil {
					b.Fatal(err)
				}
				if err := opt.Step(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("sparse/"+m.name, func(b *testing.B) {
			opt, err := m.make()
			if err != nil {
				b.Fatal(err)
			}
			defer opt.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			idx := make([]int64, touched)
			vals := make([]float32, touched*width)
			got := make([]float32, touched*width)
			b.SetBytes(touched * width * 4)
			for b.Loop() {
				for i := range idx {
					idx[i] = int64(rng.IntN(rows))
				}
				if err := opt.ReadRows("emb", idx, got); err != nil {
					b.Fatal(err)
				}
				if err := opt.SetSparseGrad("emb", idx, vals); err != nil {
					b.Fatal(err)
				}
				if err := opt.Step(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
