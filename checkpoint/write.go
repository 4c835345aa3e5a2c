package checkpoint

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// record is one tensor as a file stores it: a whole tensor of a State, or
// one part's range of it (see Part).
type record struct {
	name  string
	dt    device.DType // the parameters'
	shape []int        // as stored
	hyper optim.Hyper
	step  int64
	param any
	state []any
	// whole is the whole tensor's shape when the record is a part's range
	// of it, stored flat as one dimension (shape [hi-lo]); nil for a whole
	// tensor. A state per row or per block then holds the range's units
	// (see stateUnit).
	whole []int
}

// dtypeNameOf is the safetensors dtype of an element type.
func dtypeNameOf(dt device.DType) string {
	switch dt {
	case device.Float64:
		return "F64"
	case device.BFloat16:
		return "BF16"
	case device.Float16:
		return "F16"
	case device.Uint8:
		return "U8"
	}
	return "F32"
}

// stateShape is the stored shape of the record's state k: of a whole
// tensor as optim.StateShape has it, of a range the units it holds.
func (r record) stateShape(spec device.RuleSpec, k int) []int {
	if r.whole == nil {
		return optim.StateShape(spec, k, r.shape)
	}
	return []int{unitsOf(r.shape[0], stateUnit(spec, k, r.whole))}
}

// specsOf checks every record (record.spec) and that no two share a name,
// and returns their rules' definitions in order.
func specsOf(recs []record) ([]device.RuleSpec, error) {
	specs := make([]device.RuleSpec, len(recs))
	seen := make(map[string]bool, len(recs))
	for i, r := range recs {
		spec, err := r.spec()
		if err != nil {
			return nil, err
		}
		if seen[r.name] {
			return nil, fail("two tensors named %q", r.name)
		}
		seen[r.name] = true
		specs[i] = spec
	}
	return specs, nil
}

// spec checks a record and returns its rule's definition: its parameters
// a slice of its dtype and shape, every state of the rule's dtype and
// size for that shape (device.StateSpec: the compute dtype or 8-bit
// codes; per element, per row or per block).
func (r record) spec() (device.RuleSpec, error) {
	if err := optim.CheckName(r.name); err != nil {
		return device.RuleSpec{}, wrap(err)
	}
	n, ok := device.HostSlice(r.param, r.dt)
	if !r.dt.Param() || !ok {
		return device.RuleSpec{}, fail("tensor %q holds %T, not %v parameters", r.name, r.param, r.dt)
	}
	if count, ok := elements(r.shape, math.MaxInt64); !ok || count != int64(n) {
		return device.RuleSpec{}, fail("tensor %q has shape %v and %d elements", r.name, r.shape, n)
	}
	if err := r.hyper.Validate(); err != nil {
		return device.RuleSpec{}, fmt.Errorf("%w: tensor %q: %w", ErrCheckpoint, r.name, err)
	}
	spec, ok := normalRule(r.hyper).Rule.Spec()
	if !ok {
		return device.RuleSpec{}, fail("tensor %q: unknown update rule %v", r.name, r.hyper.Rule)
	}
	if len(r.state) != len(spec.State) {
		return device.RuleSpec{}, fail("tensor %q has %d states, its rule %v keeps %d", r.name, len(r.state), spec.Rule, len(spec.State))
	}
	for k, ss := range spec.State {
		dt, want := ss.DTypeFor(r.dt), r.stateShape(spec, k)
		count, _ := elements(want, math.MaxInt64)
		if got, ok := device.HostSlice(r.state[k], dt); !ok || int64(got) != count {
			return device.RuleSpec{}, fail("tensor %q: its %s is %d of %T, want %d %v (shape %v)",
				r.name, ss.Name, length(r.state[k]), r.state[k], count, dt, want)
		}
	}
	if r.step < 0 {
		return device.RuleSpec{}, fail("tensor %q has step %d", r.name, r.step)
	}
	return spec, nil
}

// checkMeta refuses caller metadata that the file cannot hold as given:
// reserved keys, and strings that are not UTF-8 (JSON would alter them).
func checkMeta(meta map[string]string) error {
	for k, v := range meta {
		if reservedMeta(k) {
			return fail("metadata key %q is reserved", k)
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fail("metadata %q is not valid UTF-8", k)
		}
	}
	return nil
}

// encoder is a file ready to be written: its header, checksum included,
// and its tensors in file order. Encoding hashes the tensors in place; it
// copies none.
type encoder struct {
	head  []byte
	items []any
	sum   string // the checksum in the header
}

// encode lays out records as a file, with the caller's metadata and, for a
// shard, its place in the whole.
func encode(recs []record, meta map[string]string, shard *shardMeta) (*encoder, error) {
	if err := checkMeta(meta); err != nil {
		return nil, err
	}
	entries := make(map[string]entry, 3*len(recs))
	e := &encoder{items: make([]any, 0, 3*len(recs))}
	var off int64
	add := func(name string, dt device.DType, shape []int, data any) {
		n := int64(length(data)) * width(data)
		entries[name] = entry{DType: dtypeNameOf(dt), Shape: slices.Clone(shape), DataOffsets: [2]int64{off, off + n}}
		e.items = append(e.items, data)
		off += n
	}
	names := make([]string, len(recs))
	steps := make([]int64, len(recs))
	hypers := make([]optim.Hyper, len(recs))
	specs, err := specsOf(recs)
	if err != nil {
		return nil, err
	}
	for i, r := range recs {
		spec := specs[i]
		names[i], steps[i], hypers[i] = r.name, r.step, r.hyper
		add(r.name, r.dt, r.shape, r.param)
		for k, ss := range spec.State {
			add(stateKey(i, ss.Name), ss.DTypeFor(r.dt), r.stateShape(spec, k), r.state[k])
		}
		add(stateKey(i, "step"), device.Float32, []int{}, []float32{float32(r.step)})
	}
	full := make(map[string]string, len(meta)+6)
	for k, v := range meta {
		full[k] = v
	}
	full[metaFormat] = Format
	fields := map[string]any{metaParamGroups: paramGroups(hypers), metaNames: names, metaSteps: steps}
	if shard != nil {
		fields[metaShard] = shard
	}
	for k, v := range fields {
		js, err := json.Marshal(v)
		if err != nil { // cannot happen: hyperparameters were validated finite
			return nil, fmt.Errorf("%w: %v", ErrCheckpoint, err)
		}
		full[k] = string(js)
	}
	h := headerHash(entries, full)
	var buf buffer
	for _, it := range e.items {
		_ = eachChunk(it, &buf, func(b []byte) error { h.Write(b); return nil }) // a hash never fails
	}
	full[metaSum] = hex.EncodeToString(h.Sum(nil))
	head, err := marshalHeader(entries, full)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCheckpoint, err)
	}
	e.head, e.sum = head, full[metaSum]
	return e, nil
}

// stateKey is the file's key of state key of parameter i, as PyTorch's
// state_dict names it.
func stateKey(i int, key string) string { return fmt.Sprintf("state.%d.%s", i, key) }

// size is the number of bytes writeTo writes.
func (e *encoder) size() int64 {
	n := int64(len(e.head))
	for _, it := range e.items {
		n += int64(length(it)) * width(it)
	}
	return n
}

// writeTo writes the file: header, then every tensor's bytes, straight from
// the tensors on little-endian hosts.
func (e *encoder) writeTo(w io.Writer) error {
	if _, err := w.Write(e.head); err != nil {
		return err
	}
	var buf buffer
	for _, it := range e.items {
		if err := eachChunk(it, &buf, func(b []byte) error {
			_, err := w.Write(b)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// wholeRecords returns the records of a State's tensors.
func wholeRecords(st optim.State) []record {
	recs := make([]record, len(st.Tensors))
	for i, ts := range st.Tensors {
		recs[i] = record{name: ts.Name, dt: ts.ParamDType(), shape: ts.Shape, hyper: ts.Hyper, step: ts.Step, param: ts.Param, state: ts.State}
	}
	return recs
}

// Write writes st as a checkpoint, with the caller's metadata (any keys but
// the reserved ones: format, param_groups, names, steps, sha256, shard)
// stored alongside. The state is checked, and its checksum computed over
// the tensors in place, before the first byte is written; the tensors are
// then written straight from their slices. Beyond st, Write allocates a
// small constant plus the header. It returns an ErrCheckpoint error for a
// State that cannot be stored (for example a reserved or duplicate name,
// see optim.CheckName, or a length that does not match the shape).
func Write(w io.Writer, st optim.State, meta map[string]string) error {
	e, err := encode(wholeRecords(st), meta, nil)
	if err != nil {
		return err
	}
	return e.writeTo(w)
}
