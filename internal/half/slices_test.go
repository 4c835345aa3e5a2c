package half

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"testing"
)

// TestNarrowAllFloat32 compares NarrowBF16 and NarrowF16 with the scalar
// functions on float32 inputs at every position of a vector and of the
// scalar tail: every 61st bit pattern (every 4093rd under -short and the
// race detector), and with ADAGRAD_HALF_EXHAUSTIVE=1 every one of the 2^32
// (a few minutes on two cores; run when the vector code changes).
// TestNarrowTies adds every tie of both formats.
func TestNarrowAllFloat32(t *testing.T) {
	step := uint64(61)
	switch {
	case os.Getenv("ADAGRAD_HALF_EXHAUSTIVE") == "1":
		step = 1
	case testing.Short() || raceEnabled:
		step = 4093
	}
	const block = 1 << 16
	var wg sync.WaitGroup
	errs := make(chan error, runtime.GOMAXPROCS(0))
	next := make(chan uint64)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			src := make([]float32, block+7) // +7: a scalar tail
			bf, f16 := make([]uint16, len(src)), make([]uint16, len(src))
			for start := range next {
				for i := range src {
					src[i] = math.Float32frombits(uint32(start + uint64(i)*step))
				}
				NarrowBF16(bf, src)
				NarrowF16(f16, src)
				for i, f := range src {
					if want := FromFloat32BF16(f); bf[i] != want {
						errs <- fmt.Errorf("NarrowBF16(%#08x) = %#04x, FromFloat32BF16 %#04x", math.Float32bits(f), bf[i], want)
						return
					}
					if want := FromFloat32F16(f); f16[i] != want {
						errs <- fmt.Errorf("NarrowF16(%#08x) = %#04x, FromFloat32F16 %#04x", math.Float32bits(f), f16[i], want)
						return
					}
				}
			}
		})
	}
	span := uint64(block+7) * step
	for start := uint64(0); start < 1<<32; start += span {
		select {
		case next <- start:
		case err := <-errs:
			close(next)
			wg.Wait()
			t.Fatal(err)
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestNarrowTies compares the vector and scalar narrowing on every value
// halfway between two neighbouring halves of either format, and on the
// float32 values either side of it.
func TestNarrowTies(t *testing.T) {
	var src []float32
	for h := range 1<<16 - 1 {
		for _, widen := range []func(uint16) float32{F16ToFloat32, BF16ToFloat32} {
			a, b := float64(widen(uint16(h))), float64(widen(uint16(h+1)))
			if math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) || math.IsInf(b, 0) {
				continue
			}
			tie := float32((a + b) / 2) // exact: both formats' midpoints fit in float32
			src = append(src, tie, math.Nextafter32(tie, float32(math.Inf(1))), math.Nextafter32(tie, float32(math.Inf(-1))))
		}
	}
	bf, f16 := make([]uint16, len(src)), make([]uint16, len(src))
	NarrowBF16(bf, src)
	NarrowF16(f16, src)
	for i, f := range src {
		if want := FromFloat32BF16(f); bf[i] != want {
			t.Fatalf("NarrowBF16(%v) = %#04x, FromFloat32BF16 %#04x", f, bf[i], want)
		}
		if want := FromFloat32F16(f); f16[i] != want {
			t.Fatalf("NarrowF16(%v) = %#04x, FromFloat32F16 %#04x", f, f16[i], want)
		}
	}
}

// TestWidenAllHalves compares WidenBF16 and WidenF16 with the scalar
// functions on every 16-bit pattern, at every offset of a vector.
func TestWidenAllHalves(t *testing.T) {
	for shift := range 17 {
		src := make([]uint16, 1<<16+shift)
		for i := range src {
			src[i] = uint16(i - shift)
		}
		bf, f16 := make([]float32, len(src)), make([]float32, len(src))
		WidenBF16(bf, src)
		WidenF16(f16, src)
		for i, h := range src {
			if got, want := math.Float32bits(bf[i]), math.Float32bits(BF16ToFloat32(h)); got != want {
				t.Fatalf("WidenBF16(%#04x) = %#08x, want %#08x", h, got, want)
			}
			if got, want := math.Float32bits(f16[i]), math.Float32bits(F16ToFloat32(h)); got != want {
				t.Fatalf("WidenF16(%#04x) = %#08x, want %#08x", h, got, want)
			}
		}
	}
}

func TestSlicesShort(t *testing.T) {
	for n := range 40 {
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(i) * 1.37
		}
		h := make([]uint16, n+2)
		NarrowBF16(h, src)
		NarrowF16(h, src) // dst longer than src: only len(src) written
		if h[n] != 0 || h[n+1] != 0 {
			t.Fatalf("n = %d: wrote past len(src)", n)
		}
		w := make([]float32, n)
		WidenF16(w, h[:n])
		for i := range w {
			if w[i] != F16ToFloat32(FromFloat32F16(src[i])) {
				t.Fatalf("n = %d: element %d", n, i)
			}
		}
	}
}

func BenchmarkNarrow(b *testing.B) {
	const n = 1 << 22
	src := make([]float32, n)
	for i := range src {
		src[i] = float32(i) * 1e-3
	}
	dst := make([]uint16, n)
	for _, c := range []struct {
		name string
		f    func([]uint16, []float32)
	}{
		{"bf16-scalar", func(d []uint16, s []float32) {
			for i, f := range s {
				d[i] = FromFloat32BF16(f)
			}
		}},
		{"bf16", NarrowBF16},
		{"f16-scalar", func(d []uint16, s []float32) {
			for i, f := range s {
				d[i] = FromFloat32F16(f)
			}
		}},
		{"f16", NarrowF16},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(4 * n)
			for b.Loop() {
				c.f(dst, src)
			}
		})
	}
}

func BenchmarkWiden(b *testing.B) {
	const n = 1 << 22
	src := make([]uint16, n)
	for i := range src {
		src[i] = uint16(i)
	}
	dst := make([]float32, n)
	for _, c := range []struct {
		name string
		f    func([]float32, []uint16)
	}{
		{"bf16-scalar", func(d []float32, s []uint16) {
			for i, h := range s {
				d[i] = BF16ToFloat32(h)
			}
		}},
		{"bf16", WidenBF16},
		{"f16-scalar", func(d []float32, s []uint16) {
			for i, h := range s {
				d[i] = F16ToFloat32(h)
			}
		}},
		{"f16", WidenF16},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(2 * n)
			for b.Loop() {
				c.f(dst, src)
			}
		})
	}
}
