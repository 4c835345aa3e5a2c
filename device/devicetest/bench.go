package devicetest

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// BenchSizes are the parameter counts Bench runs, per dtype: 2^10, 2^16,
// 2^20, 2^24, and on up to 2^N in steps of 4 when ADAGRAD_BENCH_MAX_LOG2=N
// (the GPU bundle asks for 2^28).
var BenchSizes = benchSizes()

func benchSizes() []int {
	top := 24
	if v, err := strconv.Atoi(os.Getenv("ADAGRAD_BENCH_MAX_LOG2")); err == nil && v >= 10 && v <= 34 {
		top = v
	}
	sizes := []int{1 << 10}
	for l := 16; l <= top; l += 4 {
		sizes = append(sizes, 1<<l)
	}
	return sizes
}

// Bench measures, per dtype and size, the device's own copy bandwidth
// ("copy", when the backend is a device.Copier: read n + write n elements)
// and the fused Adagrad step ("step": read param, grad, accum and write
// param, accum, which is 20 bytes per float32 parameter). The step reports
// its bandwidth as a fraction of the copy measured just before it in the
// same run ("of-copy").
func Bench(b *testing.B, open Opener) {
	dev, err := open()
	if err != nil {
		b.Fatalf("open: %v", err)
	}
	defer dev.Close()
	b.Logf("device: %v", dev)
	for _, dt := range dtypes {
		for _, n := range BenchSizes {
			b.Run(fmt.Sprintf("%v/n=%d", dt, n), func(b *testing.B) { benchSize(b, dev, dt, n) })
		}
	}
}

func benchSize(b *testing.B, dev device.Backend, dt device.DType, n int) {
	var bufs [4]device.Buffer
	for i := range bufs {
		buf, err := dev.Alloc(dt, n)
		if err != nil {
			b.Skipf("Alloc(%v, %d): %v", dt, n, err)
		}
		bufs[i] = buf
		if f, ok := dev.(device.Freer); ok {
			defer f.Free(buf)
		}
	}
	p, g, s, spare := bufs[0], bufs[1], bufs[2], bufs[3]
	fillBench(b, dev, bufs[:]...)
	size := int64(dt.Size())
	var copyBW float64 // bytes per second, from the copy benchmark
	if c, ok := dev.(device.Copier); ok {
		b.Run("copy", func(b *testing.B) {
			b.SetBytes(2 * size * int64(n))
			// A b.N loop rather than b.Loop: the closing Sync must be timed,
			// or an asynchronous device would look infinitely fast.
			for range b.N {
				if err := c.Copy(spare, p); err != nil {
					b.Fatal(err)
				}
			}
			if err := dev.Sync(); err != nil {
				b.Fatal(err)
			}
			copyBW = float64(2*size*int64(n)*int64(b.N)) / b.Elapsed().Seconds()
		})
	}
	u := device.Update{Param: p, Grad: g, State: states(s), Ranges: []device.Range{{Len: n, Rule: device.Adagrad, Coef: adagradCoef(0.01, 1e-8, 0, false)}}}
	upd := updater(b, dev)
	b.Run("step", func(b *testing.B) {
		b.SetBytes(5 * size * int64(n))
		for range b.N {
			if err := upd.Update(u); err != nil {
				b.Fatal(err)
			}
		}
		if err := dev.Sync(); err != nil {
			b.Fatal(err)
		}
		if copyBW > 0 {
			stepBW := float64(5*size*int64(n)*int64(b.N)) / b.Elapsed().Seconds()
			b.ReportMetric(stepBW/copyBW, "of-copy")
		}
	})
}

// fillBench writes real data, none of it zero, into every buffer before
// anything is timed: on the CPU a buffer never written is pages the kernel
// has not backed yet, which read as one shared page of zeros, far faster
// than memory, and would make the copy reference meaningless.
func fillBench(b *testing.B, dev device.Backend, bufs ...device.Buffer) {
	b.Helper()
	for k, buf := range bufs {
		v := 0.5 / float64(k+1)
		var data any
		if buf.DType() == device.Float64 {
			s := make([]float64, buf.Len())
			for i := range s {
				s[i] = v * (1 + float64(i%97)/128)
			}
			data = s
		} else {
			s := make([]float32, buf.Len())
			for i := range s {
				s[i] = float32(v * (1 + float64(i%97)/128))
			}
			data = s
		}
		if err := dev.Write(buf, 0, data); err != nil {
			b.Fatal(err)
		}
	}
}

// Sparse benchmark shape: an embedding table of 2^20 rows of 64 float32
// with 16,384 distinct rows touched per step.
const (
	sparseBenchRows    = 1 << 20
	sparseBenchWidth   = 64
	sparseBenchTouched = 16384
)

// BenchSparse measures a row-sparse step on an embedding table ("rows":
// upload of indices and values plus the update, as optim does it) beside a
// dense step over the whole table ("dense", gradient already on the
// device), and reports the sparse step's speed-up over the dense one
// ("x-dense").
func BenchSparse(b *testing.B, open Opener) {
	dev, err := open()
	if err != nil {
		b.Fatalf("open: %v", err)
	}
	defer dev.Close()
	upd := updater(b, dev)
	n := sparseBenchRows * sparseBenchWidth
	var bufs [3]device.Buffer
	for i := range bufs {
		if bufs[i], err = dev.Alloc(device.Float32, n); err != nil {
			b.Skipf("Alloc(%d float32): %v", n, err)
		}
	}
	fillBench(b, dev, bufs[:]...)
	indices := make([]int64, sparseBenchTouched)
	for i := range indices {
		indices[i] = int64(i) * (sparseBenchRows / sparseBenchTouched) // spread over the table, increasing
	}
	values := make([]float32, sparseBenchTouched*sparseBenchWidth)
	for i := range values {
		values[i] = 1
	}
	var denseNs float64
	b.Run("dense", func(b *testing.B) {
		u := device.Update{Param: bufs[0], Grad: bufs[1], State: states(bufs[2]), Ranges: []device.Range{{Len: n, Rule: device.Adagrad, Coef: adagradCoef(0.01, 1e-8, 0, false)}}}
		b.SetBytes(20 * int64(n))
		for range b.N {
			if err := upd.Update(u); err != nil {
				b.Fatal(err)
			}
		}
		if err := dev.Sync(); err != nil {
			b.Fatal(err)
		}
		denseNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("rows", func(b *testing.B) {
		u := device.RowUpdate{Param: bufs[0], State: states(bufs[2]), Rows: sparseBenchRows, Indices: indices, Values: values,
			Range: device.Range{Len: n, Width: sparseBenchWidth, Rule: device.Adagrad, Coef: adagradCoef(0.01, 1e-8, 0, false)}}
		// Bytes that cross to the device (indices and values) and that the
		// update reads and writes (param and accum of the touched rows).
		b.SetBytes(int64(8*len(indices) + 4*len(values) + 16*len(values)))
		for range b.N {
			if err := upd.UpdateRows(u); err != nil {
				b.Fatal(err)
			}
		}
		if err := dev.Sync(); err != nil {
			b.Fatal(err)
		}
		if denseNs > 0 {
			b.ReportMetric(denseNs/(float64(b.Elapsed().Nanoseconds())/float64(b.N)), "x-dense")
		}
	})
}
