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

// codeMirror is a buffer of codes: the raw bits of BFloat16 or Float16
// values, or Uint8 codes, with guards as mirror has them. Open elements
// compare bitwise, except that any half NaN equals any half NaN.
type codeMirror struct {
	buf   device.Buffer
	dt    device.DType
	want  []uint16
	guard []bool
}

// guardCode is the guard at element i of a buffer of dt: finite in both
// half types, different from its neighbours.
func guardCode(dt device.DType, i int) uint16 {
	if dt == device.Uint8 {
		return uint16(0xa5 ^ i%97)
	}
	return 0x7bad ^ uint16(i%61)
}

func newCodeMirror(t testing.TB, dev device.Backend, dt device.DType, n int) *codeMirror {
	t.Helper()
	b, err := dev.Alloc(dt, n)
	if err != nil {
		t.Fatalf("Alloc(%v, %d): %v", dt, n, err)
	}
	m := &codeMirror{buf: b, dt: dt, want: make([]uint16, n), guard: make([]bool, n)}
	for i := range m.want {
		m.want[i], m.guard[i] = guardCode(dt, i), true
	}
	return m
}

// open makes elements [off, off+len(v)) changeable and gives them v.
func (m *codeMirror) open(off int, v []uint16) {
	copy(m.want[off:], v)
	for i := range v {
		m.guard[off+i] = false
	}
}

// host is the host slice of the codes as the buffer's Write takes it.
func (m *codeMirror) host(codes []uint16) any {
	if m.dt != device.Uint8 {
		return codes
	}
	b := make([]uint8, len(codes))
	for i, c := range codes {
		b[i] = uint8(c)
	}
	return b
}

func (m *codeMirror) upload(t testing.TB, dev device.Backend) {
	t.Helper()
	if err := dev.Write(m.buf, 0, m.host(m.want)); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// read returns the buffer's codes.
func (m *codeMirror) read(t testing.TB, dev device.Backend) []uint16 {
	t.Helper()
	got := make([]uint16, len(m.want))
	dst := m.host(got)
	if err := dev.Read(dst, m.buf, 0); err != nil {
		t.Fatalf("Read: %v", err)
	}
	if b, ok := dst.([]uint8); ok {
		for i, c := range b {
			got[i] = uint16(c)
		}
	}
	return got
}

// check reads the buffer back and reports the first element that differs
// from the host copy; it returns false when one does.
func (m *codeMirror) check(t testing.TB, dev device.Backend, what string) bool {
	t.Helper()
	got := m.read(t, dev)
	for i, g := range got {
		w := m.want[i]
		if g == w || !m.guard[i] && halfNaN(m.dt, g) && halfNaN(m.dt, w) {
			continue
		}
		kind := "element"
		if m.guard[i] {
			kind = "guard element"
		}
		t.Errorf("%s: %s %d of %d (%v) = %#x, want %#x", what, kind, i, len(got), m.dt, g, w)
		return false
	}
	return true
}

// halfNaN reports whether code c of dt is a half NaN.
func halfNaN(dt device.DType, c uint16) bool {
	switch dt {
	case device.BFloat16:
		return c&0x7f80 == 0x7f80 && c&0x7f != 0
	case device.Float16:
		return c&0x7c00 == 0x7c00 && c&0x3ff != 0
	}
	return false
}
