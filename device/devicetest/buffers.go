package devicetest

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// testBuffers checks allocation, upload, download, the optional
// capabilities and Close.
func testBuffers(t *testing.T, open Opener) {
	dev := mustOpen(t, open)
	rng := rand.New(rand.NewPCG(3, 3))
	for _, dt := range dtypes {
		for _, n := range []int{0, 1, 17, 3<<15 + 5} {
			b, err := dev.Alloc(dt, n)
			if err != nil {
				t.Fatalf("Alloc(%v, %d): %v", dt, n, err)
			}
			if b.DType() != dt || b.Len() != n {
				t.Fatalf("Alloc(%v, %d) gave a buffer of %d %v", dt, n, b.Len(), b.DType())
			}
			back := zeros(dt, n)
			if err := dev.Read(back, b, 0); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !allZero(widen(back)) {
				t.Errorf("Alloc(%v, %d) is not zeroed", dt, n)
			}
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
			}
			expectContents(t, dev, b, want)
			if n > 2 {
				part := zeros(dt, 2)
				if err := dev.Read(part, b, n-2); err != nil {
					t.Fatalf("Read at offset: %v", err)
				}
				if w := widen(part); w[0] != want[n-2] || w[1] != want[n-1] {
					t.Errorf("Read at offset %d = %v, want %v", n-2, w, want[n-2:])
				}
			}
			checkBufferErrors(t, dev, b, want)
			if c, ok := dev.(device.Copier); ok {
				dst, err := dev.Alloc(dt, n)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Copy(dst, b); err != nil {
					t.Fatalf("Copy: %v", err)
				}
				expectContents(t, dev, dst, want)
			}
			if f, ok := dev.(device.Freer); ok {
				if err := f.Free(b); err != nil {
					t.Fatalf("Free: %v", err)
				}
				if err := dev.Write(b, 0, zeros(dt, 0)); err == nil {
					t.Errorf("Write to a freed buffer succeeded")
				}
			}
		}
	}
	for _, dt := range []device.DType{device.BFloat16, device.Float16} {
		b, err := dev.Alloc(dt, 17)
		if err != nil {
			t.Fatalf("Alloc(%v): %v", dt, err)
		}
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
		if err := dev.Write(b, 0, make([]float32, 1)); !errors.Is(err, device.ErrDType) {
			t.Errorf("Write of float32 to a %v buffer: err = %v", dt, err)
		}
	}
	if err := dev.Write(mustAlloc(t, dev, device.Float32, 2), 0, make([]uint16, 1)); !errors.Is(err, device.ErrDType) {
		t.Errorf("Write of []uint16 to a float32 buffer: err = %v", err)
	}
	if _, err := dev.Alloc(device.DType(99), 4); err == nil {
		t.Errorf("Alloc of an unknown dtype succeeded")
	}
	if _, err := dev.Alloc(device.Float32, -1); err == nil {
		t.Errorf("Alloc of -1 elements succeeded")
	}
	testForeign(t, dev, open)
	testClosed(t, open)
}

func allZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// expectContents reads b back and compares it with want.
func expectContents(t *testing.T, dev device.Backend, b device.Buffer, want []float64) {
	t.Helper()
	got := zeros(b.DType(), b.Len())
	if err := dev.Read(got, b, 0); err != nil {
		t.Fatalf("Read: %v", err)
	}
	for i, g := range widen(got) {
		if !sameBits(g, want[i]) {
			t.Fatalf("element %d of %d %v = %v, want %v", i, b.Len(), b.DType(), g, want[i])
		}
	}
}

// checkBufferErrors makes bad Writes and Reads and checks that each fails
// with the right sentinel and leaves b as it was.
func checkBufferErrors(t *testing.T, dev device.Backend, b device.Buffer, want []float64) {
	t.Helper()
	other := device.Float64
	if b.DType() == device.Float64 {
		other = device.Float32
	}
	n := b.Len()
	bad := []struct {
		name  string
		err   error
		write func() error
	}{
		{"Write of the other dtype", device.ErrDType, func() error { return dev.Write(b, 0, zeros(other, min(n, 1))) }},
		{"Write past the end", device.ErrRange, func() error { return dev.Write(b, n, zeros(b.DType(), 1)) }},
		{"Write at a negative offset", device.ErrRange, func() error { return dev.Write(b, -1, zeros(b.DType(), 1)) }},
		{"Write of a non-slice", device.ErrDType, func() error { return dev.Write(b, 0, []int{1}) }},
		{"Read past the end", device.ErrRange, func() error { return dev.Read(zeros(b.DType(), n+1), b, 0) }},
		{"Read of the other dtype", device.ErrDType, func() error { return dev.Read(zeros(other, 1), b, 0) }},
	}
	for _, c := range bad {
		if err := c.write(); !errors.Is(err, c.err) {
			t.Errorf("%s on %d %v: err = %v, want %v", c.name, n, b.DType(), err, c.err)
		}
	}
	expectContents(t, dev, b, want)
}

// testForeign hands a buffer of one backend to another.
func testForeign(t *testing.T, dev device.Backend, open Opener) {
	other := mustOpen(t, open)
	b, err := other.Alloc(device.Float32, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.Write(b, 0, make([]float32, 4)); !errors.Is(err, device.ErrForeignBuffer) {
		t.Errorf("Write of another backend's buffer: err = %v, want ErrForeignBuffer", err)
	}
}

// testClosed checks that every call after Close fails with ErrClosed.
func testClosed(t *testing.T, open Opener) {
	dev, err := open()
	if err != nil {
		t.Fatal(err)
	}
	b, err := dev.Alloc(device.Float32, 8)
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := dev.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	calls := map[string]func() error{
		"Alloc": func() error { _, err := dev.Alloc(device.Float32, 1); return err },
		"Write": func() error { return dev.Write(b, 0, make([]float32, 8)) },
		"Read":  func() error { return dev.Read(make([]float32, 8), b, 0) },
		"Sync":  dev.Sync,
		"Adagrad": func() error {
			return updater(t, dev).Update(device.Update{Param: b, Grad: b, State: states(b), Ranges: []device.Range{{Len: 8, Rule: device.Adagrad, Coef: adagradCoef(0.1, 0, 0, false)}}})
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, device.ErrClosed) {
			t.Errorf("%s after Close: err = %v, want ErrClosed", name, err)
		}
	}
}

func mustAlloc(t *testing.T, dev device.Backend, dt device.DType, n int) device.Buffer {
	t.Helper()
	b, err := dev.Alloc(dt, n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
