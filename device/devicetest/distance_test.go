package devicetest

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// Test8BitDistance measures how far device.Adagrad8Bit's results lie from
// the float32 rule (device.Adagrad) after many steps from the same start,
// by their references: the accumulators' relative error (the 8-bit one
// dequantized) and the parameters' drift relative to how far the float32
// run moved them. Gradients have scales spread over two orders of
// magnitude within each block (accumulators four apart, the case
// block-wise quantization handles worst) or all alike. Run with -v for the
// figures; the bounds guard against a broken quantizer, not against its
// ordinary error.
func Test8BitDistance(t *testing.T) {
	for _, c := range []struct {
		decades          float64
		init             float64
		sumBound, pBound float64 // on the medians
	}{{0, 0, 0.02, 0.02}, {0, 0.1, 0.02, 0.02}, {2, 0, 0.15, 0.05}, {2, 0.1, 0.15, 0.05}} {
		distance8Bit(t, c.decades, c.init, c.sumBound, c.pBound)
	}
}

func distance8Bit(t *testing.T, decades, init, sumBound, pBound float64) {
	const n, steps = 1 << 12, 100
	rng := rand.New(rand.NewPCG(8, 8))
	scale := make([]float32, n)
	for i := range scale {
		scale[i] = float32(math.Pow(10, decades*(rng.Float64()-0.5)))
	}
	{
		p32, p8 := make([]float32, n), make([]float32, n)
		for i := range p32 {
			p32[i] = float32(rng.NormFloat64())
		}
		copy(p8, p32)
		start := slices.Clone(p32)
		sum := make([]float32, n)
		scales := make([]float32, (n+device.Block8Bit-1)/device.Block8Bit)
		codes := make([]float32, n)
		for i := range sum {
			sum[i], codes[i] = float32(init), 255
		}
		for i := range scales {
			scales[i] = float32(init)
		}
		for s := range steps {
			g := make([]float32, n)
			for i := range g {
				g[i] = float32(rng.NormFloat64()) * scale[i]
			}
			coef := adagradCoef(0.01/(1+0.01*float64(s)), 1e-10, 0, false)
			if err := ReferenceStep(device.Adagrad, coef, 1, p32, g, [device.MaxStates][]float32{sum}); err != nil {
				t.Fatal(err)
			}
			if err := ReferenceStep(device.Adagrad8Bit, coef, 1, p8, g, [device.MaxStates][]float32{scales, codes}); err != nil {
				t.Fatal(err)
			}
		}
		sumErr, paramErr := make([]float64, n), make([]float64, n)
		for i := range sum {
			deq := float64(device.Code8Bit[int(codes[i])]) * float64(scales[i/device.Block8Bit])
			sumErr[i] = math.Abs(deq-float64(sum[i])) / float64(sum[i])
			moved := math.Abs(float64(p32[i] - start[i]))
			paramErr[i] = math.Abs(float64(p8[i]-p32[i])) / moved
		}
		slices.Sort(sumErr)
		slices.Sort(paramErr)
		q := func(v []float64, f float64) float64 { return v[int(f*float64(len(v)-1))] }
		t.Logf("gradient scales over %v decades, initial accumulator %v, %d steps, lr 0.01 with decay 0.01: accumulator relative error median %.3g, 99th percentile %.3g, max %.3g; parameter drift (|p8 - p32| / |p32 - p0|) median %.3g, 99th percentile %.3g, max %.3g",
			decades, init, steps, q(sumErr, 0.5), q(sumErr, 0.99), q(sumErr, 1), q(paramErr, 0.5), q(paramErr, 0.99), q(paramErr, 1))
		if q(sumErr, 0.5) > sumBound || q(paramErr, 0.5) > pBound {
			t.Errorf("8-bit results far from the float32 rule: median errors %v, %v", q(sumErr, 0.5), q(paramErr, 0.5))
		}
	}
}
