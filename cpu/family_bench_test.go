package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// BenchmarkFamily runs each member of the Adagrad family's kernels on one
// core over 2^16 float32 parameters (in cache), beside the plain step, in
// one run, on random data: the per-element cost of row-wise sums, 8-bit
// state and stochastic rounding ("x-plain" is the plain step's time over theirs).
func BenchmarkFamily(b *testing.B) {
	const n, width = 1 << 16, 64
	dev := New()
	defer dev.Close()
	alloc := func(dt device.DType, n int) device.Buffer {
		buf, err := dev.Alloc(dt, n)
		if err != nil {
			b.Fatal(err)
		}
		return buf
	}
	g, s, codes := alloc(device.Float32, n), alloc(device.Float32, n), alloc(device.Uint8, n)
	// Gradients and sums at random, as in training: branches that depend
	// on the data (the 8-bit state's codes) are then as unpredictable as
	// they are there.
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = rng.Float32() - 0.5
	}
	dev.Write(g, 0, vals)
	for i := range vals {
		vals[i] = rng.Float32()
	}
	dev.Write(s, 0, vals)
	cases := []struct {
		name  string
		param device.DType
		rule  device.Rule
	}{{"plain", device.Float32, device.Adagrad}, {"row-wise", device.Float32, device.AdagradRowwise},
		{"8-bit", device.Float32, device.Adagrad8Bit}, {"bfloat16-params", device.BFloat16, device.Adagrad},
		{"float16-params", device.Float16, device.Adagrad}}
	var plainNs float64
	for _, c := range cases {
		p := alloc(c.param, n)
		r := device.Range{Len: n, Width: width, Rule: c.rule, Coef: [device.MaxCoefs]float64{0.01, 1e-8, 0, 1}, Key: 3}
		if c.rule == device.Adagrad8Bit {
			r.StateOff[1] = 0
		}
		u := device.Update{Param: p, Grad: g, State: [device.StateBuffers]device.Buffer{s, codes}, Ranges: []device.Range{r}}
		b.Run(fmt.Sprint(c.name), func(b *testing.B) {
			b.SetBytes(4 * n)
			for b.Loop() {
				if err := dev.Update(u); err != nil {
					b.Fatal(err)
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if c.name == "plain" {
				plainNs = ns
			} else if plainNs > 0 {
				b.ReportMetric(plainNs/ns, "x-plain")
			}
		})
	}
}
