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

	"github.com/adagrad-go/adagrad/optim"
)

// TorchInfo says what ImportTorch found besides the state.
type TorchInfo struct {
	// Checksum is "sha256" when the file carried this package's checksum,
	// which was verified; "" when it carried none, as files written from
	// PyTorch do: then nothing but the checks of its layout guards the data
	// against damage.
	Checksum string
	// Names says where the parameters' names came from: "names" (the
	// metadata key) or "param_names" (PyTorch's, in the param groups).
	Names string
	// Metadata is the file's other metadata: every key but format,
	// param_groups, names, steps and sha256.
	Metadata map[string]string
	// Ignored lists, in name order, the file's tensors that are neither a
	// parameter nor its state (a model's buffers, say).
	Ignored []string
}

// importGroup is a param group as any PyTorch Adagrad writes it; pointers
// tell a missing hyperparameter from a zero one.
type importGroup struct {
	LR                      *float64 `json:"lr"`
	LRDecay                 *float64 `json:"lr_decay"`
	WeightDecay             *float64 `json:"weight_decay"`
	InitialAccumulatorValue *float64 `json:"initial_accumulator_value"`
	Eps                     *float64 `json:"eps"`
	Maximize                bool     `json:"maximize"` // before PyTorch 1.11: absent, false
	Params                  []int    `json:"params"`
	ParamNames              []string `json:"param_names"` // PyTorch ≥ 2.6, named parameters
	SkipNonFinite           bool     `json:"adagrad_go_skip_non_finite"`
	Rule                    string   `json:"adagrad_go_rule"`
	L1                      float64  `json:"adagrad_go_l1"`
	L2                      float64  `json:"adagrad_go_l2"`
	Momentum                float64  `json:"adagrad_go_momentum"`
	DecoupledWeightDecay    bool     `json:"adagrad_go_decoupled_weight_decay"`
	Seed                    uint64   `json:"adagrad_go_seed,string"`
}

// torchGroups parses the param groups and returns them as this package's,
// with the names they give (if every group gives them).
func torchGroups(js string) ([]torchGroup, []string, error) {
	var raw []importGroup
	if err := json.Unmarshal([]byte(js), &raw); err != nil {
		return nil, nil, fmt.Errorf("metadata %q: %v", metaParamGroups, err)
	}
	groups := make([]torchGroup, len(raw))
	n := 0
	for _, g := range raw {
		n += len(g.Params)
	}
	names := make([]string, n)
	named := len(raw) > 0
	for gi, g := range raw {
		for _, f := range []struct {
			key string
			v   *float64
		}{{"lr", g.LR}, {"lr_decay", g.LRDecay}, {"weight_decay", g.WeightDecay},
			{"initial_accumulator_value", g.InitialAccumulatorValue}, {"eps", g.Eps}} {
			if f.v == nil {
				return nil, nil, fmt.Errorf("param group %d has no %q: not an Adagrad param group", gi, f.key)
			}
		}
		groups[gi] = torchGroup{LR: *g.LR, LRDecay: *g.LRDecay, WeightDecay: *g.WeightDecay,
			InitialAccumulatorValue: *g.InitialAccumulatorValue, Eps: *g.Eps, Maximize: g.Maximize,
			Params: g.Params, SkipNonFinite: g.SkipNonFinite, Rule: g.Rule, L1: g.L1, L2: g.L2, Momentum: g.Momentum,
			DecoupledWeightDecay: g.DecoupledWeightDecay, Seed: g.Seed}
		if len(g.ParamNames) != len(g.Params) {
			named = false
			continue
		}
		for k, i := range g.Params {
			if i >= 0 && i < n {
				names[i] = g.ParamNames[k]
			}
		}
	}
	if !named {
		names = nil
	}
	return groups, names, nil
}

// ImportTorch reads a safetensors file of size bytes that holds a PyTorch
// Adagrad run and returns it as a State that an optimizer with the same
// tensors can LoadState. The file holds, as examples/torch's
// adagrad_safetensors.py writes them from any torch.optim.Adagrad:
//
//	<name>          each parameter, under its name
//	state.<i>.sum   the accumulator of parameter i (state_dict()["state"][i]["sum"])
//	state.<i>.step  its step (a scalar of any float or integer dtype)
//
// and in its metadata "param_groups" (state_dict()["param_groups"] as
// JSON) and "names" (a JSON list: the name of parameter i at index i;
// PyTorch's own "param_names" in the groups serve too). Nothing of this
// package is required: no format key, no checksum (when the file has this
// package's checksum, it is verified; Info says which). Tensors that are
// neither a parameter nor its state are read past and listed in Info.
// Every missing or mismatched piece is an ErrCheckpoint error that names
// it; the header is read first and every size checked against size before
// anything large is allocated, as in Read.
func ImportTorch(r io.Reader, size int64) (optim.State, TorchInfo, error) {
	h, err := readHeader(r, size)
	if err != nil {
		return optim.State{}, TorchInfo{}, err
	}
	meta := h.meta
	if meta == nil {
		return optim.State{}, TorchInfo{}, fail("no __metadata__: a PyTorch Adagrad file keeps its param_groups there")
	}
	if _, ok := meta[metaShard]; ok {
		return optim.State{}, TorchInfo{}, fail("a part of a sharded checkpoint: load its manifest with LoadSharded")
	}
	if _, ok := meta[metaParamGroups]; !ok {
		return optim.State{}, TorchInfo{}, fail("no %q in the metadata (the optimizer's state_dict()[\"param_groups\"] as JSON)", metaParamGroups)
	}
	groups, groupNames, err := torchGroups(meta[metaParamGroups])
	if err != nil {
		return optim.State{}, TorchInfo{}, fail("%v", err)
	}
	info := TorchInfo{Metadata: map[string]string{}}
	var names []string
	switch js, ok := meta[metaNames]; {
	case ok:
		if err := json.Unmarshal([]byte(js), &names); err != nil {
			return optim.State{}, TorchInfo{}, fail("metadata %q is not a list of names: %v", metaNames, err)
		}
		info.Names = metaNames
	case groupNames != nil:
		names, info.Names = groupNames, "param_names"
	default:
		return optim.State{}, TorchInfo{}, fail("no parameter names: neither a %q list in the metadata (the name of parameter i at index i) nor PyTorch's \"param_names\" in every param group", metaNames)
	}
	n := len(names)
	hypers, err := groupHypers(groups, n)
	if err != nil {
		return optim.State{}, TorchInfo{}, wrap(err)
	}
	var exact []int64 // this package's exact step counts, when present
	if js, ok := meta[metaSteps]; ok {
		if err := json.Unmarshal([]byte(js), &exact); err != nil {
			return optim.State{}, TorchInfo{}, fail("metadata %q: %v", metaSteps, err)
		}
		if len(exact) != n {
			return optim.State{}, TorchInfo{}, fail("metadata %q has %d step counts for %d parameters", metaSteps, len(exact), n)
		}
	}
	for k, v := range meta {
		switch k {
		case metaFormat, metaParamGroups, metaNames, metaSteps, metaSum:
		default:
			info.Metadata[k] = v
		}
	}

	st := optim.State{Tensors: make([]optim.TensorState, n)}
	var targets []target
	used := map[string]bool{}
	add := func(key string, dst any) {
		e := h.entries[key]
		targets = append(targets, target{name: key, lo: e.DataOffsets[0], hi: e.DataOffsets[1], dst: dst})
		used[key] = true
	}
	stepRaw := make([][]byte, n)
	stepType := make([]string, n)
	for i, name := range names {
		if err := optim.CheckName(name); err != nil {
			return optim.State{}, TorchInfo{}, fmt.Errorf("%w: parameter %d: %w", ErrCheckpoint, i, err)
		}
		if used[name] {
			return optim.State{}, TorchInfo{}, fail("two parameters named %q", name)
		}
		e, ok := h.entries[name]
		if !ok {
			return optim.State{}, TorchInfo{}, fail("no tensor %q (parameter %d)", name, i)
		}
		dt, ok := floatDType(e.DType)
		if !ok {
			return optim.State{}, TorchInfo{}, fail("parameter %q has dtype %s: only F32 and F64 are supported", name, e.DType)
		}
		count, _ := elements(e.Shape, math.MaxInt64) // bounded by checkLayout
		ts := optim.TensorState{Name: name, Shape: slices.Clone(e.Shape), Hyper: hypers[i], Param: alloc(dt, int(count))}
		add(name, ts.Param)
		spec, _ := hypers[i].Rule.Spec() // groupHypers checked the rule
		for _, ss := range spec.State {
			key := stateKey(i, ss.Name)
			s, ok := h.entries[key]
			switch {
			case !ok:
				return optim.State{}, TorchInfo{}, fail("no tensor %q: the state[%q] of parameter %d (%q)", key, ss.Name, i, name)
			case s.DType != e.DType || !slices.Equal(s.Shape, e.Shape):
				return optim.State{}, TorchInfo{}, fail("tensor %q is %s %v, its parameter %q %s %v", key, s.DType, s.Shape, name, e.DType, e.Shape)
			}
			ts.State = append(ts.State, alloc(dt, int(count)))
			add(key, ts.State[len(ts.State)-1])
		}
		key := stateKey(i, "step")
		s, ok := h.entries[key]
		if !ok {
			return optim.State{}, TorchInfo{}, fail("no tensor %q: the state[\"step\"] of parameter %d (%q)", key, i, name)
		}
		if c, _ := elements(s.Shape, math.MaxInt64); c != 1 || len(s.Shape) > 1 {
			return optim.State{}, TorchInfo{}, fail("tensor %q has shape %v, not a scalar", key, s.Shape)
		}
		switch s.DType {
		case "F32", "F64", "I64", "I32":
		default:
			return optim.State{}, TorchInfo{}, fail("tensor %q has dtype %s", key, s.DType)
		}
		stepRaw[i], stepType[i] = make([]byte, dtypeWidth(s.DType)), s.DType
		add(key, stepRaw[i])
		st.Tensors[i] = ts
	}
	for k, e := range h.entries {
		if !used[k] {
			info.Ignored = append(info.Ignored, k)
			targets = append(targets, target{name: k, lo: e.DataOffsets[0], hi: e.DataOffsets[1]})
		}
	}
	slices.Sort(info.Ignored)
	slices.SortFunc(targets, func(a, b target) int { return cmp.Compare(a.lo, b.lo) })

	hash := headerHash(h.entries, meta)
	if err := readData(r, targets, hash); err != nil {
		return optim.State{}, TorchInfo{}, err
	}
	if want, ok := meta[metaSum]; ok {
		if hex.EncodeToString(hash.Sum(nil)) != want {
			return optim.State{}, TorchInfo{}, fail("checksum mismatch: the file is damaged")
		}
		info.Checksum = metaSum
	}
	for i := range st.Tensors {
		step, err := stepValue(stepType[i], stepRaw[i])
		if err != nil {
			return optim.State{}, TorchInfo{}, fail("%s: %v", stateKey(i, "step"), err)
		}
		if exact != nil {
			if exact[i] < 0 || float32(exact[i]) != float32(step) {
				return optim.State{}, TorchInfo{}, fail("%s is %d, metadata %q says %d", stateKey(i, "step"), step, metaSteps, exact[i])
			}
			step = exact[i]
		}
		st.Tensors[i].Step = step
	}
	return st, info, nil
}

// maxExactStep is the largest step count a float64 holds exactly.
const maxExactStep = 1 << 53

// stepValue decodes a step scalar: a non-negative whole number.
func stepValue(dtype string, b []byte) (int64, error) {
	var v float64
	switch dtype {
	case "F32":
		v = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	case "F64":
		v = math.Float64frombits(binary.LittleEndian.Uint64(b))
	case "I32":
		v = float64(int32(binary.LittleEndian.Uint32(b)))
	case "I64":
		i := int64(binary.LittleEndian.Uint64(b))
		if i < 0 || i > maxExactStep {
			return 0, fmt.Errorf("step %d", i)
		}
		return i, nil
	}
	if !(v >= 0 && v <= maxExactStep) || v != math.Trunc(v) {
		return 0, fmt.Errorf("step %v is not a count", v)
	}
	return int64(v), nil
}

// ImportTorchFile is ImportTorch of the file at path; errors name the file.
func ImportTorchFile(path string) (optim.State, TorchInfo, error) {
	var st optim.State
	var info TorchInfo
	err := readFile(path, func(r io.Reader, size int64) error {
		var err error
		st, info, err = ImportTorch(r, size)
		return err
	})
	return st, info, err
}
