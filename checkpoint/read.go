package checkpoint

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// fileTensor is one tensor of a file of ours as its header describes it.
type fileTensor struct {
	name  string
	dt    device.DType // the parameters'
	shape []int        // as stored: the whole shape, or [hi-lo] in a shard
	n     int          // elements stored
	hyper optim.Hyper
	step  int64
	keys  []string // the entries of its rule's states, in order
	// stateDT and stateN are each state's dtype and elements stored, and
	// unit how many of the tensor's elements one element of it stands for
	// (see stateUnit).
	stateDT []device.DType
	stateN  []int
	unit    []int
}

// file is a parsed header of one of this package's files, before its data.
type file struct {
	h       *header
	tensors []fileTensor
	caller  map[string]string // the caller's metadata
	shard   *shardMeta        // nil for a whole checkpoint
}

// floatDType maps a safetensors dtype to a float32 or float64 dtype.
func floatDType(dt string) (device.DType, bool) {
	switch dt {
	case "F32":
		return device.Float32, true
	case "F64":
		return device.Float64, true
	}
	return 0, false
}

// paramDType maps a safetensors dtype to a parameter dtype: F32, F64,
// BF16 or F16.
func paramDType(dt string) (device.DType, bool) {
	switch dt {
	case "BF16":
		return device.BFloat16, true
	case "F16":
		return device.Float16, true
	}
	return floatDType(dt)
}

// halfDType is dt for the half types, else 0: optim.TensorState.DType.
func halfDType(dt device.DType) device.DType {
	if dt.Half() {
		return dt
	}
	return 0
}

// parseFile checks everything the header of one of our files says (format,
// names, steps, param groups, every tensor's dtype and shape, the shard's
// place) before any data is read, and refuses what encode would refuse.
func parseFile(h *header) (*file, error) {
	meta := h.meta
	if meta == nil {
		return nil, fail("no __metadata__")
	}
	switch f := meta[metaFormat]; {
	case f == "" && meta[metaSum] == "":
		return nil, fail("no format key and no checksum: not an adagrad-go checkpoint (a file written from PyTorch? see ImportTorch)")
	case f != Format:
		return nil, fail("format %q, want %q", f, Format)
	}
	var names []string
	var steps []int64
	var groups []torchGroup
	for _, f := range []struct {
		key string
		v   any
	}{{metaNames, &names}, {metaSteps, &steps}, {metaParamGroups, &groups}} {
		if err := json.Unmarshal([]byte(meta[f.key]), f.v); err != nil {
			return nil, fail("metadata %q: %v", f.key, err)
		}
	}
	if len(steps) != len(names) {
		return nil, fail("%d names and %d steps", len(names), len(steps))
	}
	hypers, err := groupHypers(groups, len(names))
	if err != nil {
		return nil, wrap(err)
	}
	f := &file{h: h, tensors: make([]fileTensor, len(names)), caller: map[string]string{}}
	if s, ok := meta[metaShard]; ok {
		if f.shard, err = parseShard(s, len(names)); err != nil {
			return nil, err
		}
	}
	for k, v := range meta {
		if !reservedMeta(k) {
			f.caller[k] = v
		}
	}
	used := make(map[string]bool, len(h.entries))
	seen := make(map[string]bool, len(names))
	for i, name := range names {
		if err := optim.CheckName(name); err != nil {
			return nil, fmt.Errorf("%w: parameter %d: %w", ErrCheckpoint, i, err)
		}
		if seen[name] {
			return nil, fail("two parameters named %q", name)
		}
		seen[name] = true
		e, ok := h.entries[name]
		if !ok {
			return nil, fail("no tensor %q (parameter %d)", name, i)
		}
		dt, ok := paramDType(e.DType)
		if !ok {
			return nil, fail("tensor %q has dtype %s, not F32, F64, BF16 or F16", name, e.DType)
		}
		n, _ := elements(e.Shape, math.MaxInt64) // checkLayout bounded it by the data
		if steps[i] < 0 {
			return nil, fail("parameter %q has step %d", name, steps[i])
		}
		t := fileTensor{name: name, dt: dt, shape: e.Shape, n: int(n), hyper: hypers[i], step: steps[i]}
		if f.shard != nil {
			if err := f.shard.check(i, name, e.Shape); err != nil {
				return nil, err
			}
		}
		spec, _ := hypers[i].Rule.Spec() // groupHypers checked the rule
		whole := e.Shape
		if f.shard != nil {
			whole = f.shard.Shapes[i]
		}
		for k, ss := range spec.State {
			key := stateKey(i, ss.Name)
			s, ok := h.entries[key]
			sdt, shape, u := ss.DTypeFor(dt), optim.StateShape(spec, k, e.Shape), stateUnit(spec, k, whole)
			if f.shard != nil {
				// A range of the tensor: the units it holds, whole.
				r := f.shard.Ranges[i]
				total, _ := elements(whole, math.MaxInt64) // parseShard checked it
				if !onUnits(int(r[0]), int(r[1]), int(total), u) {
					return nil, fail("tensor %q: elements [%d,%d) are not whole units of %d of its %s (rows or blocks)", name, r[0], r[1], u, ss.Name)
				}
				shape = []int{unitsOf(int(r[1]-r[0]), u)}
			}
			switch {
			case !ok:
				return nil, fail("no tensor %q: the %s of %q (a checkpoint of another update rule?)", key, ss.Name, name)
			case s.DType != dtypeNameOf(sdt) || !slices.Equal(s.Shape, shape):
				return nil, fail("tensor %q is %s %v, the %s of %s parameters %v is %s %v", key, s.DType, s.Shape, ss.Name, e.DType, e.Shape, dtypeNameOf(sdt), shape)
			}
			n, _ := elements(shape, math.MaxInt64)
			t.keys, t.stateDT, t.stateN, t.unit = append(t.keys, key), append(t.stateDT, sdt), append(t.stateN, int(n)), append(t.unit, u)
		}
		if s, ok := h.entries[stateKey(i, "step")]; !ok || s.DType != "F32" || len(s.Shape) != 0 {
			return nil, fail("no float32 scalar %q", stateKey(i, "step"))
		}
		used[name], used[stateKey(i, "step")] = true, true
		for _, key := range t.keys {
			used[key] = true
		}
		f.tensors[i] = t
	}
	if len(used) != len(h.entries) {
		var unknown []string
		for k := range h.entries {
			if !used[k] {
				unknown = append(unknown, k)
			}
		}
		slices.Sort(unknown)
		return nil, fail("tensors %q are neither a parameter nor its state", unknown)
	}
	return f, nil
}

// read streams the file's data into the slices that dst returns for each
// tensor: its parameters and states, of their dtypes, which receive the
// stored elements [from, from+len) of the parameters and, of each state,
// the units from there on (from/unit: from is on units of every state; the
// whole tensor, or a range of it; the rest is hashed and dropped). It
// hashes as it reads, and verifies the checksum and the step tensors. The
// caller keeps every destination within the stored length.
func (f *file) read(r io.Reader, dst func(i int) (from int, param any, state []any)) error {
	targets := make([]target, 0, len(f.h.entries))
	stepBytes := make([]byte, 4*len(f.tensors))
	add := func(key string, from int, d any) {
		e := f.h.entries[key]
		lo, hi := e.DataOffsets[0], e.DataOffsets[1]
		w := width(d)
		keepLo := min(lo+int64(from)*w, hi)
		keepHi := min(keepLo+int64(length(d))*w, hi)
		for _, t := range []target{{key, lo, keepLo, nil}, {key, keepLo, keepHi, d}, {key, keepHi, hi, nil}} {
			if t.hi > t.lo {
				targets = append(targets, t)
			}
		}
	}
	for i, t := range f.tensors {
		from, param, state := dst(i)
		add(t.name, from, param)
		for k, key := range t.keys {
			add(key, from/t.unit[k], state[k])
		}
		e := f.h.entries[stateKey(i, "step")]
		targets = append(targets, target{name: stateKey(i, "step"), lo: e.DataOffsets[0], hi: e.DataOffsets[1], dst: stepBytes[4*i : 4*i+4]})
	}
	slices.SortFunc(targets, func(a, b target) int { return cmp.Compare(a.lo, b.lo) })
	h := headerHash(f.h.entries, f.h.meta)
	if err := readData(r, targets, h); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.h.meta[metaSum] {
		return fail("checksum mismatch: the file is damaged")
	}
	for i, t := range f.tensors {
		if v := math.Float32frombits(binary.LittleEndian.Uint32(stepBytes[4*i:])); v != float32(t.step) {
			return fail("%s is %v, its step %d", stateKey(i, "step"), v, t.step)
		}
	}
	return nil
}

// alloc returns a zeroed host slice of n elements of dt.
func alloc(dt device.DType, n int) any {
	switch dt {
	case device.Float64:
		return make([]float64, n)
	case device.BFloat16, device.Float16:
		return make([]uint16, n)
	case device.Uint8:
		return make([]uint8, n)
	}
	return make([]float32, n)
}

// Read reads and verifies a checkpoint of size bytes from r, as Write
// wrote it, and returns the state and the caller's metadata. It reads the
// header first (at most 100 MiB), checks every tensor's size against size
// before allocating it, streams the tensors straight into their slices
// while hashing them, and verifies the checksum before returning anything.
// A malformed, truncated or damaged file is refused with an ErrCheckpoint
// error; so is what Write refuses to write (reserved or duplicate names,
// for one). It never panics on bad input.
func Read(r io.Reader, size int64) (optim.State, map[string]string, error) {
	h, err := readHeader(r, size)
	if err != nil {
		return optim.State{}, nil, err
	}
	f, err := parseFile(h)
	if err != nil {
		return optim.State{}, nil, err
	}
	if f.shard != nil {
		return optim.State{}, nil, fail("part %d of %d of a sharded checkpoint: load its manifest with LoadSharded", f.shard.Index, f.shard.Count)
	}
	st := optim.State{Tensors: make([]optim.TensorState, len(f.tensors))}
	for i, t := range f.tensors {
		ts := optim.TensorState{Name: t.name, Shape: slices.Clone(t.shape), DType: halfDType(t.dt), Hyper: t.hyper, Step: t.step,
			Param: alloc(t.dt, t.n)}
		for k, dt := range t.stateDT {
			ts.State = append(ts.State, alloc(dt, t.stateN[k]))
		}
		st.Tensors[i] = ts
	}
	err = f.read(r, func(i int) (int, any, []any) { return 0, st.Tensors[i].Param, st.Tensors[i].State })
	if err != nil {
		return optim.State{}, nil, err
	}
	return st, f.caller, nil
}
