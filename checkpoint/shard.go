package checkpoint

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// Part is one shard of a State: of every tensor, the elements [Lo, Hi) of
// its parameters (the tensor viewed flat, in row-major order) and the
// same elements' share of each of its states: the same elements of a
// state per element, the rows [Lo/width, Hi/width) of a state per row
// (device.AdagradRowwise's), the blocks of a state per block. A tensor
// with state per row or per block is cut on its rows or blocks (its range
// starts on one and ends on one, or at the tensor's end). An optimizer
// whose state is sharded across processes
// keeps one Part per process (rank); SaveShard writes it, and a manifest
// (SaveManifest) ties the parts of one checkpoint together.
type Part struct {
	Index, Count int // this is part Index of Count (0 ≤ Index < Count)
	Tensors      []PartTensor
}

// PartTensor is one tensor's share in a Part.
type PartTensor struct {
	Name  string
	Shape []int // the whole tensor's shape
	// DType is the parameters' dtype where Param does not say it (half
	// codes), as optim.TensorState has it.
	DType  device.DType
	Hyper  optim.Hyper
	Step   int64
	Lo, Hi int   // the elements held, of the whole tensor
	Param  any   // Hi-Lo elements, []float32, []float64, or half codes ([]uint16)
	State  []any // the rule's states (see optim.TensorState), each its share of [Lo, Hi)
}

// units is the unit of each of t's states (see stateUnit); nil when t's
// rule is unknown.
func (t PartTensor) units() []int {
	spec, ok := normalRule(t.Hyper).Rule.Spec()
	if !ok {
		return nil
	}
	u := make([]int, len(spec.State))
	for k := range u {
		u[k] = stateUnit(spec, k, t.Shape)
	}
	return u
}

// paramDType is the dtype of t's parameters.
func (t PartTensor) paramDType() device.DType {
	return optim.TensorState{DType: t.DType, Param: t.Param}.ParamDType()
}

// Layout returns the tensors of the whole model as a manifest lists them.
func (p Part) Layout() []ManifestTensor {
	out := make([]ManifestTensor, len(p.Tensors))
	for i, t := range p.Tensors {
		out[i] = ManifestTensor{Name: t.Name, DType: dtypeNameOf(t.paramDType()), Shape: slices.Clone(t.Shape)}
	}
	return out
}

// records returns the part's tensors as a file stores them: flat, Hi-Lo
// elements each.
func (p Part) records() []record {
	recs := make([]record, len(p.Tensors))
	for i, t := range p.Tensors {
		recs[i] = record{name: t.Name, dt: t.paramDType(), shape: []int{t.Hi - t.Lo}, hyper: t.Hyper, step: t.Step,
			param: t.Param, state: t.State, whole: t.Shape}
	}
	return recs
}

// meta returns the part's place in the whole, as its file records it.
func (p Part) meta() *shardMeta {
	s := &shardMeta{Index: p.Index, Count: p.Count}
	for _, t := range p.Tensors {
		s.Shapes = append(s.Shapes, slices.Clone(t.Shape))
		s.Ranges = append(s.Ranges, [2]int64{int64(t.Lo), int64(t.Hi)})
	}
	return s
}

// check checks the part on its own: its place, and every tensor's range
// within its whole shape, on the units of its states.
func (p Part) check() error {
	if p.Count < 1 || p.Index < 0 || p.Index >= p.Count {
		return fail("part %d of %d", p.Index, p.Count)
	}
	for _, t := range p.Tensors {
		n, ok := elements(t.Shape, math.MaxInt)
		if !ok || t.Lo < 0 || t.Hi < t.Lo || int64(t.Hi) > n {
			return fail("part %d: tensor %q of shape %v holds elements [%d,%d)", p.Index, t.Name, t.Shape, t.Lo, t.Hi)
		}
		for _, u := range t.units() {
			if !onUnits(t.Lo, t.Hi, int(n), u) {
				return fail("part %d: tensor %q holds elements [%d,%d), not whole units of %d of its state (rows or blocks)",
					p.Index, t.Name, t.Lo, t.Hi, u)
			}
		}
	}
	for _, r := range p.records() {
		if _, err := r.spec(); err != nil {
			return err
		}
	}
	return nil
}

// Split divides st into n parts: part r holds the elements
// [r·len/n, (r+1)·len/n) of every tensor (rounded down), so that each
// rank owns a contiguous slice of each tensor and the parts differ in size
// by at most one element per tensor. A tensor whose rule keeps state per
// row or per block (device.AdagradRowwise, device.Adagrad8Bit) is cut so
// on its rows or blocks instead: part r holds its units
// [r·units/n, (r+1)·units/n). The parts are views of st's slices: nothing
// is copied.
func Split(st optim.State, n int) ([]Part, error) {
	if n < 1 {
		return nil, fail("%d parts", n)
	}
	recs := wholeRecords(st)
	specs, err := specsOf(recs)
	if err != nil {
		return nil, err
	}
	cut := make([]int, len(recs))
	for i, r := range recs {
		cut[i] = cutUnit(specs[i], r.shape)
	}
	parts := make([]Part, n)
	for p := range parts {
		parts[p] = Part{Index: p, Count: n, Tensors: make([]PartTensor, len(st.Tensors))}
		for i, ts := range st.Tensors {
			l, u := length(ts.Param), cut[i]
			units := int64(unitsOf(l, u))
			lo, hi := int(int64(p)*units/int64(n))*u, min(int(int64(p+1)*units/int64(n))*u, l)
			pt := PartTensor{Name: ts.Name, Shape: slices.Clone(ts.Shape), DType: ts.DType, Hyper: ts.Hyper, Step: ts.Step, Lo: lo, Hi: hi,
				Param: sub(ts.Param, lo, hi)}
			for k, s := range ts.State {
				a, b := stateSpan(lo, hi, pt.units()[k])
				pt.State = append(pt.State, sub(s, a, b))
			}
			parts[p].Tensors[i] = pt
		}
	}
	return parts, nil
}

// sub returns s[lo:hi] of a tensor's host slice, its capacity cut to its
// length.
func sub(s any, lo, hi int) any {
	switch v := s.(type) {
	case []float64:
		return v[lo:hi:hi]
	case []uint16:
		return v[lo:hi:hi]
	case []uint8:
		return v[lo:hi:hi]
	}
	return s.([]float32)[lo:hi:hi]
}

// Join puts the parts of a State back together, copying them into whole
// tensors. The parts must be all Count of them, once each; agree on every
// tensor's name, shape, dtype, hyperparameters and step; and their ranges
// must tile each tensor exactly.
func Join(parts []Part) (optim.State, error) {
	if len(parts) == 0 {
		return optim.State{}, fail("no parts")
	}
	count := parts[0].Count
	have := make([]bool, max(count, 0))
	for _, p := range parts {
		if err := p.check(); err != nil {
			return optim.State{}, err
		}
		if p.Count != count || len(p.Tensors) != len(parts[0].Tensors) {
			return optim.State{}, fail("part %d of %d with %d tensors, part %d of %d with %d",
				p.Index, p.Count, len(p.Tensors), parts[0].Index, count, len(parts[0].Tensors))
		}
		if have[p.Index] {
			return optim.State{}, fail("part %d twice", p.Index)
		}
		have[p.Index] = true
	}
	if len(parts) != count {
		return optim.State{}, fail("%d parts of %d", len(parts), count)
	}
	st := optim.State{Tensors: make([]optim.TensorState, len(parts[0].Tensors))}
	for i, first := range parts[0].Tensors {
		var ranges [][2]int64
		for _, p := range parts {
			t := p.Tensors[i]
			if err := sameTensor(first, t); err != nil {
				return optim.State{}, fmt.Errorf("%w: part %d: %w", ErrCheckpoint, p.Index, err)
			}
			ranges = append(ranges, [2]int64{int64(t.Lo), int64(t.Hi)})
		}
		n, _ := elements(first.Shape, math.MaxInt) // checked by p.check
		if err := tile(first.Name, ranges, n); err != nil {
			return optim.State{}, err
		}
		ts := optim.TensorState{Name: first.Name, Shape: slices.Clone(first.Shape), DType: first.DType, Hyper: first.Hyper, Step: first.Step,
			Param: allocLike(first.Param, int(n))}
		units := first.units() // p.check checked the rule
		for k, s := range first.State {
			ts.State = append(ts.State, allocLike(s, unitsOf(int(n), units[k])))
		}
		for _, p := range parts {
			t := p.Tensors[i]
			copyInto(ts.Param, t.Lo, t.Param)
			for k, s := range t.State {
				copyInto(ts.State[k], t.Lo/units[k], s)
			}
		}
		st.Tensors[i] = ts
	}
	return st, nil
}

// sameTensor reports whether two parts' shares are of the same tensor.
func sameTensor(a, b PartTensor) error {
	switch {
	case a.Name != b.Name:
		return fmt.Errorf("tensor %q where another part has %q", b.Name, a.Name)
	case !slices.Equal(a.Shape, b.Shape) || a.paramDType() != b.paramDType():
		return fmt.Errorf("tensor %q is %v %v, in another part %v %v", a.Name, b.paramDType(), b.Shape, a.paramDType(), a.Shape)
	case normalRule(a.Hyper) != normalRule(b.Hyper) || a.Step != b.Step:
		return fmt.Errorf("tensor %q has other hyperparameters or step than in another part", a.Name)
	}
	return nil
}

// tile checks that element ranges cover [0, n) exactly, once.
func tile(name string, ranges [][2]int64, n int64) error {
	ranges = slices.Clone(ranges)
	slices.SortFunc(ranges, func(a, b [2]int64) int {
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return cmp.Compare(a[1], b[1])
	})
	at := int64(0)
	for _, r := range ranges {
		if r[0] != at {
			return fail("the parts of tensor %q overlap or leave a gap at element %d", name, at)
		}
		at = r[1]
	}
	if at != n {
		return fail("the parts of tensor %q end at element %d of %d", name, at, n)
	}
	return nil
}

// allocLike returns a zeroed slice of s's type and n elements.
func allocLike(s any, n int) any {
	switch s.(type) {
	case []float64:
		return make([]float64, n)
	case []uint16:
		return make([]uint16, n)
	case []uint8:
		return make([]uint8, n)
	}
	return make([]float32, n)
}

// copyInto copies src into dst from element at on (same types).
func copyInto(dst any, at int, src any) {
	switch d := dst.(type) {
	case []float32:
		copy(d[at:], src.([]float32))
	case []float64:
		copy(d[at:], src.([]float64))
	case []uint16:
		copy(d[at:], src.([]uint16))
	case []uint8:
		copy(d[at:], src.([]uint8))
	}
}

// shardMeta is a shard file's place in the whole: its "shard" metadata.
type shardMeta struct {
	Index  int        `json:"index"`
	Count  int        `json:"count"`
	Shapes [][]int    `json:"shapes"` // each tensor's whole shape
	Ranges [][2]int64 `json:"ranges"` // the elements [lo, hi) of each tensor held here
}

// parseShard reads and checks the shard metadata of a file of n tensors.
func parseShard(s string, n int) (*shardMeta, error) {
	var m shardMeta
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fail("metadata %q: %v", metaShard, err)
	}
	if m.Count < 1 || m.Index < 0 || m.Index >= m.Count || len(m.Shapes) != n || len(m.Ranges) != n {
		return nil, fail("metadata %q: part %d of %d with %d shapes and %d ranges for %d tensors",
			metaShard, m.Index, m.Count, len(m.Shapes), len(m.Ranges), n)
	}
	for i, shape := range m.Shapes {
		total, ok := elements(shape, math.MaxInt)
		if r := m.Ranges[i]; !ok || shape == nil || r[0] < 0 || r[1] < r[0] || r[1] > total {
			return nil, fail("metadata %q: elements [%d,%d) of a tensor of shape %v", metaShard, r[0], r[1], shape)
		}
	}
	return &m, nil
}

// check reports whether tensor i, stored with shape stored, is the range
// the shard metadata says.
func (m *shardMeta) check(i int, name string, stored []int) error {
	r := m.Ranges[i]
	if len(stored) != 1 || int64(stored[0]) != r[1]-r[0] {
		return fail("tensor %q of shape %v holds elements [%d,%d)", name, stored, r[0], r[1])
	}
	return nil
}

// equal reports whether two shard descriptions agree.
func (m *shardMeta) equal(o *shardMeta) bool {
	return m.Index == o.Index && m.Count == o.Count && slices.Equal(m.Ranges, o.Ranges) &&
		slices.EqualFunc(m.Shapes, o.Shapes, slices.Equal)
}
