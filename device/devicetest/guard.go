package devicetest

import (
	"math"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// mirror is a device buffer and the host copy of what it must hold. Its
// elements start as guards: recognisable values that no call may change,
// not even by rewriting the same value with other bits. A test opens the
// regions a call may change (open), gives them values, and after the call
// checks every element: open ones against the reference (any NaN equals
// any NaN), guards bitwise.
type mirror[T Float] struct {
	buf   device.Buffer
	want  []T
	guard []bool
}

// guardValue is the guard at element i: a value no update computes by
// chance, different from its neighbours so that a shifted copy shows.
func guardValue[T Float](i int) T { return T(-4096.375 - float64(i%509)) }

func newMirror[T Float](t testing.TB, dev device.Backend, n int) *mirror[T] {
	t.Helper()
	b, err := dev.Alloc(dtypeOf[T](), n)
	if err != nil {
		t.Fatalf("Alloc(%v, %d): %v", dtypeOf[T](), n, err)
	}
	m := &mirror[T]{buf: b, want: make([]T, n), guard: make([]bool, n)}
	for i := range m.want {
		m.want[i], m.guard[i] = guardValue[T](i), true
	}
	return m
}

// open makes elements [off, off+len(v)) changeable and gives them v.
func (m *mirror[T]) open(off int, v []T) {
	copy(m.want[off:], v)
	for i := range v {
		m.guard[off+i] = false
	}
}

// upload writes the whole host copy to the device.
func (m *mirror[T]) upload(t testing.TB, dev device.Backend) {
	t.Helper()
	if err := dev.Write(m.buf, 0, m.want); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// check reads the buffer back and reports the first element, guard or
// not, that differs from the host copy; it returns false when one does.
func (m *mirror[T]) check(t testing.TB, dev device.Backend, what string) bool {
	t.Helper()
	got := make([]T, len(m.want))
	if err := dev.Read(got, m.buf, 0); err != nil {
		t.Fatalf("Read %s: %v", what, err)
	}
	for i, g := range got {
		w := m.want[i]
		if m.guard[i] && !identical(g, w) {
			t.Errorf("%s: guard element %d of %d changed: %v (%#x), want %v", what, i, len(got), g, bitsOf(g), w)
			return false
		}
		if !sameBits(g, w) {
			t.Errorf("%s: element %d of %d = %v (%#x), want %v (%#x)", what, i, len(got), g, bitsOf(g), w, bitsOf(w))
			return false
		}
	}
	return true
}

// identical is bitwise equality, NaN payloads included.
func identical[T Float](a, b T) bool { return bitsOf(a) == bitsOf(b) }

func bitsOf[T Float](v T) uint64 {
	if x, ok := any(v).(float32); ok {
		return uint64(math.Float32bits(x))
	}
	return math.Float64bits(float64(v))
}

// rawMirror is a buffer of raw 16-bit codes (BFloat16 or Float16
// gradients) that calls must leave as written.
type rawMirror struct {
	buf  device.Buffer
	want []uint16
}

func newRawMirror(t testing.TB, dev device.Backend, dt device.DType, n int) *rawMirror {
	t.Helper()
	b, err := dev.Alloc(dt, n)
	if err != nil {
		t.Fatalf("Alloc(%v, %d): %v", dt, n, err)
	}
	m := &rawMirror{buf: b, want: make([]uint16, n)}
	for i := range m.want {
		m.want[i] = 0x7bad ^ uint16(i%61) // finite in both half types
	}
	return m
}

func (m *rawMirror) upload(t testing.TB, dev device.Backend) {
	t.Helper()
	if err := dev.Write(m.buf, 0, m.want); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func (m *rawMirror) check(t testing.TB, dev device.Backend, what string) bool {
	t.Helper()
	got := make([]uint16, len(m.want))
	if err := dev.Read(got, m.buf, 0); err != nil {
		t.Fatalf("Read %s: %v", what, err)
	}
	for i := range got {
		if got[i] != m.want[i] {
			t.Errorf("%s: element %d of %d changed: %#x, want %#x", what, i, len(got), got[i], m.want[i])
			return false
		}
	}
	return true
}
