package devicetest

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// Buffers is the memory layer: Alloc of every declared dtype and of sizes
// from 0 to more than a CPU chunk, zeroed; Write and Read whole and at
// offsets (a Write touches only its elements); raw half codes; Copy and
// Free where declared; and the sentinels of bad Writes and Reads, which
// change nothing.
func Buffers(t *testing.T, open Opener) {
	dev := MustOpen(t, open)
	caps := dev.Capabilities()
	rng := rand.New(rand.NewPCG(3, 3))
	for _, dt := range dtypes {
		if !caps.HasDType(dt) {
			continue
		}
		for _, n := range []int{0, 1, 17, 3<<15 + 5} {
			b := mustAlloc(t, dev, dt, n)
			if b.DType() != dt || b.Len() != n {
				t.Fatalf("Alloc(%v, %d) gave a buffer of %d %v", dt, n, b.Len(), b.DType())
			}
			expectContents(t, dev, b, make([]float64, n))
			want := make([]float64, n)
			for i := range want {
				want[i] = float64(float32(rng.NormFloat64()))
			}
			if err := dev.Write(b, 0, typed(dt, want)); err != nil {
				t.Fatalf("Write: %v", err)
			}
			if n > 2 {
				// A write at an offset touches only its elements.
				want[1], want[2] = 5, 6
				if err := dev.Write(b, 1, typed(dt, want[1:3])); err != nil {
					t.Fatalf("Write at offset: %v", err)
				}
				part := zeros(dt, 2)
				if err := dev.Read(part, b, n-2); err != nil {
					t.Fatalf("Read at offset: %v", err)
				}
				if w := widen(part); w[0] != want[n-2] || w[1] != want[n-1] {
					t.Errorf("Read at offset %d = %v, want %v", n-2, w, want[n-2:])
				}
			}
			// Empty Writes and Reads at the end are fine.
			if err := dev.Write(b, n, zeros(dt, 0)); err != nil {
				t.Errorf("empty Write at the end of %d: %v", n, err)
			}
			if err := dev.Read(zeros(dt, 0), b, n); err != nil {
				t.Errorf("empty Read at the end of %d: %v", n, err)
			}
			expectContents(t, dev, b, want)
			checkBufferErrors(t, dev, b, want)
			if c, ok := dev.(device.Copier); ok && caps.Copy {
				dst := mustAlloc(t, dev, dt, n)
				if err := c.Copy(dst, b); err != nil {
					t.Fatalf("Copy: %v", err)
				}
				expectContents(t, dev, dst, want)
				expectContents(t, dev, b, want)
			}
			if f, ok := dev.(device.Freer); ok && caps.Free {
				if err := f.Free(b); err != nil {
					t.Fatalf("Free: %v", err)
				}
			}
		}
	}
	for _, dt := range []device.DType{device.BFloat16, device.Float16} {
		if caps.HasDType(dt) {
			testHalfBuffer(t, dev, dt)
		}
	}
	if caps.HasDType(device.Uint8) {
		testByteBuffer(t, dev)
	}
}

// testByteBuffer writes and reads 8-bit codes (device.Uint8), whole, at
// offsets, copied, and checks the sentinels of mismatched host slices.
func testByteBuffer(t *testing.T, dev device.Backend) {
	for _, n := range []int{1, 17, 3<<15 + 5} {
		m := newCodeMirror(t, dev, device.Uint8, n)
		codes := make([]uint16, n)
		for i := range codes {
			codes[i] = uint16((i*37 + 11) % 256)
		}
		m.open(0, codes)
		m.upload(t, dev)
		m.check(t, dev, "8-bit buffer")
		if err := dev.Write(m.buf, n-1, []uint8{0xfe}); err != nil {
			t.Fatalf("Write at offset: %v", err)
		}
		m.want[n-1] = 0xfe
		m.check(t, dev, "8-bit buffer after a Write at its end")
		if c, ok := dev.(device.Copier); ok && dev.Capabilities().Copy {
			dst := newCodeMirror(t, dev, device.Uint8, n)
			if err := c.Copy(dst.buf, m.buf); err != nil {
				t.Fatalf("Copy: %v", err)
			}
			dst.open(0, m.want)
			dst.check(t, dev, "copied 8-bit buffer")
		}
		expectErrors(t, []badCall{
			{"Write of float32 to an 8-bit buffer", device.ErrDType, func() error { return dev.Write(m.buf, 0, make([]float32, 1)) }},
			{"Write of half codes to an 8-bit buffer", device.ErrDType, func() error { return dev.Write(m.buf, 0, make([]uint16, 1)) }},
			{"Read of an 8-bit buffer into float32", device.ErrDType, func() error { return dev.Read(make([]float32, 1), m.buf, 0) }},
			{"Write past the end of an 8-bit buffer", device.ErrRange, func() error { return dev.Write(m.buf, n, []uint8{1}) }},
			{"Read past the end of an 8-bit buffer", device.ErrRange, func() error { return dev.Read(make([]uint8, 2), m.buf, n-1) }},
		})
		m.check(t, dev, "8-bit buffer after refused calls")
	}
	if dev.Capabilities().HasDType(device.Float32) {
		if err := dev.Write(mustAlloc(t, dev, device.Float32, 2), 0, make([]uint8, 1)); !errors.Is(err, device.ErrDType) {
			t.Errorf("Write of []uint8 to a float32 buffer: err = %v, want ErrDType", err)
		}
	}
}

func testHalfBuffer(t *testing.T, dev device.Backend, dt device.DType) {
	b := mustAlloc(t, dev, dt, 17)
	bits := make([]uint16, 17)
	for i := range bits {
		bits[i] = uint16(0x3c00 + 37*i)
	}
	if err := dev.Write(b, 0, bits); err != nil {
		t.Fatalf("Write %v: %v", dt, err)
	}
	back := make([]uint16, 16)
	if err := dev.Read(back, b, 1); err != nil {
		t.Fatalf("Read %v: %v", dt, err)
	}
	for i := range back {
		if back[i] != bits[i+1] {
			t.Fatalf("%v element %d = %#x, want %#x", dt, i+1, back[i], bits[i+1])
		}
	}
	bad := []struct {
		what string
		err  error
		call func() error
	}{
		{"Write of float32", device.ErrDType, func() error { return dev.Write(b, 0, make([]float32, 1)) }},
		{"Read into float32", device.ErrDType, func() error { return dev.Read(make([]float32, 1), b, 0) }},
		{"Write past the end", device.ErrRange, func() error { return dev.Write(b, 16, make([]uint16, 2)) }},
	}
	for _, c := range bad {
		if err := c.call(); !errors.Is(err, c.err) {
			t.Errorf("%s on a %v buffer: err = %v, want %v", c.what, dt, err, c.err)
		}
	}
	if f32 := dev.Capabilities().HasDType(device.Float32); f32 {
		if err := dev.Write(mustAlloc(t, dev, device.Float32, 2), 0, make([]uint16, 1)); !errors.Is(err, device.ErrDType) {
			t.Errorf("Write of []uint16 to a float32 buffer: err = %v, want ErrDType", err)
		}
	}
	got := make([]uint16, 17)
	if err := dev.Read(got, b, 0); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != bits[i] {
			t.Fatalf("refused calls changed %v element %d: %#x, want %#x", dt, i, got[i], bits[i])
		}
	}
}

// expectContents reads b back and compares it with want bitwise.
func expectContents(t *testing.T, dev device.Backend, b device.Buffer, want []float64) {
	t.Helper()
	got := zeros(b.DType(), b.Len())
	if err := dev.Read(got, b, 0); err != nil {
		t.Fatalf("Read: %v", err)
	}
	for i, g := range widen(got) {
		if !identical(g, want[i]) {
			t.Fatalf("element %d of %d %v = %v, want %v", i, b.Len(), b.DType(), g, want[i])
		}
	}
}

// checkBufferErrors makes bad Writes and Reads and checks that each fails
// with its sentinel and leaves b as it was.
func checkBufferErrors(t *testing.T, dev device.Backend, b device.Buffer, want []float64) {
	t.Helper()
	other := device.Float64
	if b.DType() == device.Float64 {
		other = device.Float32
	}
	n := b.Len()
	bad := []struct {
		name string
		err  error
		call func() error
	}{
		{"Write of the other dtype", device.ErrDType, func() error { return dev.Write(b, 0, zeros(other, min(n, 1))) }},
		{"Write of raw half codes", device.ErrDType, func() error { return dev.Write(b, 0, make([]uint16, min(n, 1))) }},
		{"Write past the end", device.ErrRange, func() error { return dev.Write(b, n, zeros(b.DType(), 1)) }},
		{"Write overlapping the end", device.ErrRange, func() error { return dev.Write(b, max(n-1, 0), zeros(b.DType(), 2)) }},
		{"Write at a negative offset", device.ErrRange, func() error { return dev.Write(b, -1, zeros(b.DType(), 1)) }},
		{"Write of a non-slice", device.ErrDType, func() error { return dev.Write(b, 0, []int{1}) }},
		{"Write of nil", device.ErrDType, func() error { return dev.Write(b, 0, nil) }},
		{"Read past the end", device.ErrRange, func() error { return dev.Read(zeros(b.DType(), n+1), b, 0) }},
		{"Read at a negative offset", device.ErrRange, func() error { return dev.Read(zeros(b.DType(), 1), b, -1) }},
		{"Read of the other dtype", device.ErrDType, func() error { return dev.Read(zeros(other, 1), b, 0) }},
		{"Read into a non-slice", device.ErrDType, func() error { return dev.Read([]int{1}, b, 0) }},
	}
	for _, c := range bad {
		if err := c.call(); !errors.Is(err, c.err) {
			t.Errorf("%s on %d %v: err = %v, want %v", c.name, n, b.DType(), err, c.err)
		}
	}
	expectContents(t, dev, b, want)
}

func mustAlloc(t testing.TB, dev device.Backend, dt device.DType, n int) device.Buffer {
	t.Helper()
	b, err := dev.Alloc(dt, n)
	if err != nil {
		t.Fatalf("Alloc(%v, %d): %v", dt, n, err)
	}
	return b
}
