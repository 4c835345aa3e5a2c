package devicetest

import (
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// paramMirror is the parameter buffer of an update test: values of T for
// float32 and float64 parameters (real), or the codes of half parameters
// computed in float32 (codes). A mirror without a buffer (want only)
// follows a run on the host.
type paramMirror[T Float] struct {
	dt    device.DType
	real  *mirror[T]
	codes *codeMirror
	want  []T
}

func newParamMirror[T Float](t testing.TB, dev device.Backend, dt device.DType, n int) *paramMirror[T] {
	if dt.Half() {
		return &paramMirror[T]{dt: dt, codes: newCodeMirror(t, dev, dt, n)}
	}
	return &paramMirror[T]{dt: dt, real: newMirror[T](t, dev, n)}
}

// values are the parameters of a real mirror.
func (m *paramMirror[T]) values() []T {
	if m.real != nil {
		return m.real.want
	}
	return m.want
}

// init opens elements [off, off+n) with normal values (rounded to nearest
// for half parameters).
func (m *paramMirror[T]) init(rng *rand.Rand, off, n int) {
	v := randoms[T](rng, n, 1)
	if m.real != nil {
		m.real.open(off, v)
		return
	}
	codes := make([]uint16, n)
	for i, x := range v {
		codes[i] = HalfBits(m.dt, float32(x))
	}
	m.codes.open(off, codes)
}

func (m *paramMirror[T]) buf() device.Buffer {
	if m.real != nil {
		return m.real.buf
	}
	return m.codes.buf
}

func (m *paramMirror[T]) upload(t testing.TB, dev device.Backend) {
	if m.real != nil {
		m.real.upload(t, dev)
	} else {
		m.codes.upload(t, dev)
	}
}

func (m *paramMirror[T]) check(t testing.TB, dev device.Backend, what string) bool {
	if m.real != nil {
		return m.real.check(t, dev, what)
	}
	return m.codes.check(t, dev, what)
}

// stateMirrors are the state buffers of an update test: the one of the
// compute type (real) and the 8-bit one (bytes), each nil when no rule
// of the run keeps such state. A mirror without buffers (realWant only)
// follows a run on the host.
type stateMirrors[T Float] struct {
	real     *mirror[T]
	bytes    *codeMirror
	realWant []T
}

// newStateMirrors makes the buffers the rules need, of the sizes given.
func newStateMirrors[T Float](t testing.TB, dev device.Backend, rules []device.Rule, sizes [device.StateBuffers]int) *stateMirrors[T] {
	var s stateMirrors[T]
	for _, r := range rules {
		spec, _ := r.Spec()
		for _, ss := range spec.State {
			switch {
			case ss.Buffer() == device.StateReal && s.real == nil:
				s.real = newMirror[T](t, dev, sizes[device.StateReal])
			case ss.Buffer() == device.StateBytes && s.bytes == nil:
				s.bytes = newCodeMirror(t, dev, device.Uint8, sizes[device.StateBytes])
			}
		}
	}
	return &s
}

func (s *stateMirrors[T]) realValues() []T {
	if s.real != nil {
		return s.real.want
	}
	return s.realWant
}

// init opens range r's states with random values: magnitudes for
// states of the compute type, any code for 8-bit ones.
func (s *stateMirrors[T]) init(rng *rand.Rand, r device.Range) {
	spec, _ := r.Rule.Spec()
	for k, ss := range spec.State {
		n := spec.StateLen(k, r.Len, r.Width)
		if ss.Buffer() == device.StateBytes {
			codes := make([]uint16, n)
			for i := range codes {
				codes[i] = uint16(rng.IntN(256))
			}
			s.bytes.open(r.StateOff[k], codes)
			continue
		}
		s.real.open(r.StateOff[k], magnitudes(randoms[T](rng, n, 0.5)))
	}
}

func (s *stateMirrors[T]) bufs() (out [device.StateBuffers]device.Buffer) {
	if s.real != nil {
		out[device.StateReal] = s.real.buf
	}
	if s.bytes != nil {
		out[device.StateBytes] = s.bytes.buf
	}
	return out
}

func (s *stateMirrors[T]) upload(t testing.TB, dev device.Backend) {
	if s.real != nil {
		s.real.upload(t, dev)
	}
	if s.bytes != nil {
		s.bytes.upload(t, dev)
	}
}

func (s *stateMirrors[T]) check(t testing.TB, dev device.Backend, what string) bool {
	ok := true
	if s.real != nil {
		ok = s.real.check(t, dev, what+" state")
	}
	if s.bytes != nil {
		ok = ok && s.bytes.check(t, dev, what+" 8-bit state")
	}
	return ok
}

// span returns range r's states as the references take them (8-bit codes
// as values of T) and a function that writes changed codes back.
func (s *stateMirrors[T]) span(r device.Range) (st [device.MaxStates][]T, done func()) {
	spec, _ := r.Rule.Spec()
	var back []func()
	for k, ss := range spec.State {
		lo, hi := r.StateOff[k], r.StateOff[k]+spec.StateLen(k, r.Len, r.Width)
		if ss.Buffer() == device.StateReal {
			st[k] = s.realValues()[lo:hi]
			continue
		}
		codes := s.bytes.want[lo:hi]
		v := make([]T, len(codes))
		for i, c := range codes {
			v[i] = T(c)
		}
		st[k] = v
		back = append(back, func() {
			for i, x := range v {
				codes[i] = uint16(x)
			}
		})
	}
	return st, func() {
		for _, f := range back {
			f()
		}
	}
}
