package checkpoint

// The checkpoint codec of commit 4255f35 (optim.EncodeCheckpoint and
// optim.DecodeCheckpoint), kept only for the benchmark that compares it
// with this package's streaming one in one run, and for the tests that
// files of either are read by the other. Its hot loops are as they were:
// one small allocation and one Write per element when encoding.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

var errOldCheckpoint = errors.New("optim: bad checkpoint")

// oldSpec stands for the unexported Hyper.rule of the time.
func oldSpec(h optim.Hyper) (device.RuleSpec, error) {
	spec, ok := normalRule(h).Rule.Spec()
	if !ok {
		return device.RuleSpec{}, fmt.Errorf("%w: %v", device.ErrRule, h.Rule)
	}
	return spec, nil
}

type oldEntry struct {
	DType       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// torchGroup is one of PyTorch's Adagrad param_groups.
type oldGroup struct {
	LR                      float64 `json:"lr"`
	LRDecay                 float64 `json:"lr_decay"`
	WeightDecay             float64 `json:"weight_decay"`
	InitialAccumulatorValue float64 `json:"initial_accumulator_value"`
	Eps                     float64 `json:"eps"`
	Maximize                bool    `json:"maximize"`
	Foreach                 *bool   `json:"foreach"`
	Differentiable          bool    `json:"differentiable"`
	Fused                   *bool   `json:"fused"`
	Params                  []int   `json:"params"`
	// Not PyTorch's: this library's own per-tensor option.
	SkipNonFinite bool   `json:"adagrad_go_skip_non_finite,omitempty"`
	Rule          string `json:"adagrad_go_rule,omitempty"` // "" for Adagrad
}

// ruleName is the rule's name in a param group: "" for plain Adagrad, so
// that PyTorch's own files need no key of ours.
func oldRuleName(h optim.Hyper) string {
	if h.Rule == 0 || h.Rule == device.Adagrad {
		return ""
	}
	return h.Rule.String()
}

// oldEncodeCheckpoint returns st as checkpoint bytes, with extra metadata
// (keys other than the reserved ones) stored alongside.
func oldEncodeCheckpoint(st optim.State, extra map[string]string) ([]byte, error) {
	header := map[string]oldEntry{}
	var data bytes.Buffer
	add := func(name string, shape []int, v any) error {
		if _, dup := header[name]; dup {
			return fmt.Errorf("%w: two tensors named %q", errOldCheckpoint, name)
		}
		start := int64(data.Len())
		var dtype string
		switch s := v.(type) {
		case []float32:
			dtype = "F32"
			for _, x := range s {
				data.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(x)))
			}
		case []float64:
			dtype = "F64"
			for _, x := range s {
				data.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(x)))
			}
		default:
			return fmt.Errorf("%w: tensor %q is %T", errOldCheckpoint, name, v)
		}
		header[name] = oldEntry{DType: dtype, Shape: slices.Clone(shape), DataOffsets: [2]int64{start, int64(data.Len())}}
		return nil
	}
	names := make([]string, len(st.Tensors))
	steps := make([]int64, len(st.Tensors))
	var groups []oldGroup
	for i, ts := range st.Tensors {
		if ts.Name == "" || strings.HasPrefix(ts.Name, "state.") || strings.HasPrefix(ts.Name, "__") {
			return nil, fmt.Errorf("%w: tensor name %q is reserved in checkpoints", errOldCheckpoint, ts.Name)
		}
		names[i], steps[i] = ts.Name, ts.Step
		if err := add(ts.Name, ts.Shape, ts.Param); err != nil {
			return nil, err
		}
		spec, err := oldSpec(ts.Hyper)
		if err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %v", errOldCheckpoint, ts.Name, err)
		}
		if len(ts.State) != len(spec.State) {
			return nil, fmt.Errorf("%w: tensor %q has %d states, its rule %d", errOldCheckpoint, ts.Name, len(ts.State), len(spec.State))
		}
		for k, ss := range spec.State {
			if ss.Per != device.PerElement {
				return nil, fmt.Errorf("%w: tensor %q: per-row state is not stored yet", errOldCheckpoint, ts.Name)
			}
			if err := add(fmt.Sprintf("state.%d.%s", i, ss.Name), ts.Shape, ts.State[k]); err != nil {
				return nil, err
			}
		}
		if err := add(fmt.Sprintf("state.%d.step", i), []int{}, []float32{float32(ts.Step)}); err != nil {
			return nil, err
		}
		h := ts.Hyper
		groups = append(groups, oldGroup{LR: h.LR, LRDecay: h.LRDecay, WeightDecay: h.WeightDecay,
			InitialAccumulatorValue: h.InitialAccumulatorValue, Eps: h.Eps, Maximize: h.Maximize,
			Params: []int{i}, SkipNonFinite: h.SkipNonFinite, Rule: oldRuleName(h)})
	}
	meta := map[string]string{}
	for k, v := range extra {
		if k == metaFormat || k == metaParamGroups || k == metaNames || k == metaSteps || k == metaSum {
			return nil, fmt.Errorf("%w: metadata key %q is reserved", errOldCheckpoint, k)
		}
		meta[k] = v
	}
	meta[metaFormat] = Format
	for k, v := range map[string]any{metaParamGroups: groups, metaNames: names, metaSteps: steps} {
		js, err := json.Marshal(v)
		if err != nil { // a NaN or Inf hyperparameter
			return nil, fmt.Errorf("%w: %v", errOldCheckpoint, err)
		}
		meta[k] = string(js)
	}
	meta[metaSum] = oldChecksum(header, meta, data.Bytes())

	full := map[string]any{"__metadata__": meta}
	for k, v := range header {
		full[k] = v
	}
	js, err := json.Marshal(full)
	if err != nil {
		return nil, err
	}
	// Pad the header with spaces so the data starts 8-byte aligned, as the
	// safetensors format recommends.
	for (8+len(js))%8 != 0 {
		js = append(js, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	out = append(out, js...)
	return append(out, data.Bytes()...), nil
}

// checksum hashes the tensor bytes and a canonical form of the header
// (tensor entries and metadata sorted by key, the checksum itself left out).
func oldChecksum(header map[string]oldEntry, meta map[string]string, data []byte) string {
	h := sha256.New()
	keys := make([]string, 0, len(header))
	for k := range header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e := header[k]
		fmt.Fprintf(h, "t %q %s %v %d %d\n", k, e.DType, e.Shape, e.DataOffsets[0], e.DataOffsets[1])
	}
	keys = keys[:0]
	for k := range meta {
		if k != metaSum {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "m %q %q\n", k, meta[k])
	}
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// oldDecodeCheckpoint parses and verifies checkpoint bytes. It returns the
// state and the caller's metadata, or an errOldCheckpoint error for anything
// malformed, truncated or damaged; it never panics on bad input.
func oldDecodeCheckpoint(b []byte) (optim.State, map[string]string, error) {
	fail := func(format string, args ...any) (optim.State, map[string]string, error) {
		return optim.State{}, nil, fmt.Errorf("%w: "+format, append([]any{errOldCheckpoint}, args...)...)
	}
	if len(b) < 8 {
		return fail("%d bytes is shorter than a header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeader || n > uint64(len(b)-8) {
		return fail("header of %d bytes in a file of %d", n, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return fail("header: %v", err)
	}
	data := b[8+n:]
	var meta map[string]string
	if m, ok := raw["__metadata__"]; !ok || json.Unmarshal(m, &meta) != nil {
		return fail("no __metadata__ of strings")
	}
	if meta[metaFormat] != Format {
		return fail("format %q, want %q", meta[metaFormat], Format)
	}
	header := map[string]oldEntry{}
	for k, v := range raw {
		if k == "__metadata__" {
			continue
		}
		var e oldEntry
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return fail("tensor %q: %v", k, err)
		}
		if e.Shape == nil {
			return fail("tensor %q has no shape", k)
		}
		header[k] = e
	}
	if err := oldCheckLayout(header, int64(len(data))); err != nil {
		return fail("%v", err)
	}
	if got := oldChecksum(header, meta, data); got != meta[metaSum] {
		return fail("checksum mismatch: the file is damaged")
	}
	var names []string
	var steps []int64
	var groups []oldGroup
	if json.Unmarshal([]byte(meta[metaNames]), &names) != nil ||
		json.Unmarshal([]byte(meta[metaSteps]), &steps) != nil ||
		json.Unmarshal([]byte(meta[metaParamGroups]), &groups) != nil ||
		len(steps) != len(names) {
		return fail("names, steps or param_groups unreadable")
	}
	hypers := make([]*optim.Hyper, len(names))
	for _, g := range groups {
		for _, i := range g.Params {
			if i < 0 || i >= len(names) || hypers[i] != nil {
				return fail("param_groups name parameter %d of %d", i, len(names))
			}
			rule := device.Adagrad
			if g.Rule != "" {
				r, ok := device.RuleNamed(g.Rule)
				if !ok {
					return fail("param group of parameter %d names an unknown rule %q", i, g.Rule)
				}
				rule = r
			}
			hypers[i] = &optim.Hyper{LR: g.LR, Eps: g.Eps, LRDecay: g.LRDecay, WeightDecay: g.WeightDecay,
				InitialAccumulatorValue: g.InitialAccumulatorValue, Maximize: g.Maximize, SkipNonFinite: g.SkipNonFinite, Rule: rule}
		}
	}
	st := optim.State{Tensors: make([]optim.TensorState, len(names))}
	for i, name := range names {
		if hypers[i] == nil {
			return fail("parameter %d (%q) is in no param group", i, name)
		}
		p, shape, err := oldTensorData(header, data, name)
		if err != nil {
			return fail("%v", err)
		}
		if steps[i] < 0 {
			return fail("parameter %q has step %d", name, steps[i])
		}
		ts := optim.TensorState{Name: name, Shape: shape, Hyper: *hypers[i], Step: steps[i], Param: p}
		spec, err := oldSpec(ts.Hyper)
		if err != nil {
			return fail("parameter %q: %v", name, err)
		}
		for _, ss := range spec.State {
			s, sShape, err := oldTensorData(header, data, fmt.Sprintf("state.%d.%s", i, ss.Name))
			if err != nil {
				return fail("%v", err)
			}
			if !slices.Equal(shape, sShape) || fmt.Sprintf("%T", p) != fmt.Sprintf("%T", s) {
				return fail("parameter %q and its %s differ in shape or dtype", name, ss.Name)
			}
			ts.State = append(ts.State, s)
		}
		st.Tensors[i] = ts
	}
	extra := map[string]string{}
	for k, v := range meta {
		switch k {
		case metaFormat, metaParamGroups, metaNames, metaSteps, metaSum:
		default:
			extra[k] = v
		}
	}
	return st, extra, nil
}

// checkLayout checks that every tensor's bytes lie inside the data, match
// its dtype and shape, and that the tensors tile the data exactly.
func oldCheckLayout(header map[string]oldEntry, size int64) error {
	type span struct{ lo, hi int64 }
	var spans []span
	for name, e := range header {
		var width int64
		switch e.DType {
		case "F32":
			width = 4
		case "F64":
			width = 8
		default:
			return fmt.Errorf("tensor %q has dtype %q", name, e.DType)
		}
		count := int64(1)
		for _, d := range e.Shape {
			if d < 0 || (d > 0 && count > size/int64(d)) {
				return fmt.Errorf("tensor %q has shape %v", name, e.Shape)
			}
			count *= int64(d)
		}
		lo, hi := e.DataOffsets[0], e.DataOffsets[1]
		if lo < 0 || hi < lo || hi > size || hi-lo != count*width {
			return fmt.Errorf("tensor %q: bytes [%d,%d) for %d %s in %d bytes of data", name, lo, hi, count, e.DType, size)
		}
		spans = append(spans, span{lo, hi})
	}
	sort.Slice(spans, func(i, j int) bool {
		return spans[i].lo < spans[j].lo || spans[i].lo == spans[j].lo && spans[i].hi < spans[j].hi
	})
	at := int64(0)
	for _, s := range spans {
		if s.lo != at {
			return fmt.Errorf("tensor bytes overlap or leave a gap at %d", at)
		}
		at = s.hi
	}
	if at != size {
		return fmt.Errorf("%d bytes of data after the last tensor", size-at)
	}
	return nil
}

func oldTensorData(header map[string]oldEntry, data []byte, name string) (any, []int, error) {
	e, ok := header[name]
	if !ok {
		return nil, nil, fmt.Errorf("no tensor %q", name)
	}
	raw := data[e.DataOffsets[0]:e.DataOffsets[1]]
	shape := slices.Clone(e.Shape)
	if e.DType == "F32" {
		out := make([]float32, len(raw)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return out, shape, nil
	}
	out := make([]float64, len(raw)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return out, shape, nil
}
