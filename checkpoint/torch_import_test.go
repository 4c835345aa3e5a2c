package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// torchGroupJSON is a param group as PyTorch 1.13 writes it.
const torchGroupJSON = `{"lr": 0.1, "lr_decay": 0.01, "eps": 1e-10, "weight_decay": 0, "initial_accumulator_value": 0.5, "foreach": null, "maximize": false, "params": [%s]}`

// torchFile forges a safetensors file as a PyTorch user writes it: no key
// of this package, no checksum; the step in the given dtype.
func torchFile(t testing.TB, meta map[string]string, stepDType string, extra ...rawTensor) []byte {
	t.Helper()
	step := func(v float64) []byte {
		switch stepDType {
		case "F64":
			return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v))
		case "I64":
			return binary.LittleEndian.AppendUint64(nil, uint64(v))
		case "F16":
			return []byte{0, 0x42} // 3
		}
		return f32(float32(v))
	}
	tensors := append([]rawTensor{
		{name: "fc.weight", dtype: "F32", shape: []int{2, 2}, data: f32(1, 2, 3, 4)},
		{name: "fc.bias", dtype: "F32", shape: []int{2}, data: f32(5, 6)},
		{name: "state.0.sum", dtype: "F32", shape: []int{2, 2}, data: f32(0.5, 0.75, 1, 2)},
		{name: "state.0.step", dtype: stepDType, shape: []int{}, data: step(3)},
		{name: "state.1.sum", dtype: "F32", shape: []int{2}, data: f32(0.5, 1.5)},
		{name: "state.1.step", dtype: stepDType, shape: []int{}, data: step(3)},
	}, extra...)
	return forge(t, tensors, meta, false)
}

func torchMeta() map[string]string {
	return map[string]string{
		metaParamGroups: "[" + strings.Replace(torchGroupJSON, "%s", "0, 1", 1) + "]",
		metaNames:       `["fc.weight", "fc.bias"]`,
	}
}

func importBytes(b []byte) (optim.State, TorchInfo, error) {
	return ImportTorch(bytes.NewReader(b), int64(len(b)))
}

func TestImportTorch(t *testing.T) {
	want := optim.State{Tensors: []optim.TensorState{
		{Name: "fc.weight", Shape: []int{2, 2}, Step: 3, Param: []float32{1, 2, 3, 4}, State: []any{[]float32{0.5, 0.75, 1, 2}}},
		{Name: "fc.bias", Shape: []int{2}, Step: 3, Param: []float32{5, 6}, State: []any{[]float32{0.5, 1.5}}},
	}}
	for i := range want.Tensors {
		want.Tensors[i].Hyper = optim.Hyper{LR: 0.1, LRDecay: 0.01, Eps: 1e-10, InitialAccumulatorValue: 0.5, Rule: device.Adagrad}
	}
	for _, stepDType := range []string{"F32", "F64", "I64"} {
		st, info, err := importBytes(torchFile(t, torchMeta(), stepDType,
			rawTensor{name: "bn.num_batches_tracked", dtype: "I64", shape: []int{}, data: make([]byte, 8)}))
		if err != nil {
			t.Fatalf("step %s: %v", stepDType, err)
		}
		if !reflect.DeepEqual(st, want) {
			t.Errorf("step %s: imported\n%+v\nwant\n%+v", stepDType, st, want)
		}
		if info.Checksum != "" || info.Names != "names" || !reflect.DeepEqual(info.Ignored, []string{"bn.num_batches_tracked"}) {
			t.Errorf("info %+v", info)
		}
	}
	// PyTorch ≥ 2.6 names parameters in the groups.
	meta := map[string]string{metaParamGroups: `[` +
		strings.Replace(torchGroupJSON, `"params": [%s]`, `"params": [0], "param_names": ["fc.weight"]`, 1) + `, ` +
		strings.Replace(strings.Replace(torchGroupJSON, `"params": [%s]`, `"params": [1], "param_names": ["fc.bias"]`, 1), "0.1", "0.2", 1) + `]`}
	st, info, err := importBytes(torchFile(t, meta, "F32"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Names != "param_names" || st.Tensors[1].Name != "fc.bias" || st.Tensors[1].Hyper.LR != 0.2 || st.Tensors[0].Hyper.LR != 0.1 {
		t.Errorf("param_names: %+v %+v", st, info)
	}
	// The state loads into an optimizer of the same tensors.
	opt := newTorchModel(t)
	if err := opt.LoadState(st); err != nil {
		t.Fatal(err)
	}
}

func newTorchModel(t *testing.T) *optim.Adagrad {
	t.Helper()
	dev, err := device.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	opt, err := optim.New(dev, []optim.Param{
		{Name: "fc.weight", Init: make([]float32, 4), Shape: []int{2, 2}},
		{Name: "fc.bias", Init: make([]float32, 2)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

func TestImportTorchOwnFiles(t *testing.T) {
	b := encoded(t)
	st, info, err := importBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := trainedState(t); !reflect.DeepEqual(st, want) {
		t.Errorf("imported own file\n%+v\nwant\n%+v", st, want)
	}
	if info.Checksum != "sha256" || info.Metadata["trainer.step"] != "42" {
		t.Errorf("info %+v", info)
	}
	// A damaged own file is refused: its checksum is verified.
	b[len(b)-1] ^= 1
	if _, _, err := importBytes(b); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("damaged own file: err = %v", err)
	}
}

func TestImportTorchRefuses(t *testing.T) {
	group := func(params string) string { return strings.Replace(torchGroupJSON, "%s", params, 1) }
	with := func(k, v string) map[string]string {
		m := torchMeta()
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name, want string
		file       []byte
	}{
		{"no metadata", "no __metadata__", forge(t, []rawTensor{{name: "w", dtype: "F32", shape: []int{1}, data: f32(1)}}, nil, false)},
		{"no param_groups", "param_groups", torchFile(t, with(metaParamGroups, ""), "F32")},
		{"no names", "no parameter names", torchFile(t, with(metaNames, ""), "F32")},
		{"names of another length", "parameter 1", torchFile(t, with(metaNames, `["fc.weight"]`), "F32")},
		{"names not a list", "names", torchFile(t, with(metaNames, `{"0": "fc.weight"}`), "F32")},
		{"a name not in the file", `"fc.w"`, torchFile(t, with(metaNames, `["fc.w", "fc.bias"]`), "F32")},
		{"a reserved name", "reserved", torchFile(t, with(metaNames, `["__x", "fc.bias"]`), "F32")},
		{"a group without lr", `"lr"`, torchFile(t, with(metaParamGroups, "["+strings.Replace(group("0, 1"), `"lr": 0.1, `, "", 1)+"]"), "F32")},
		{"a parameter in no group", "no param group", torchFile(t, with(metaParamGroups, "["+group("0")+"]"), "F32")},
		{"a parameter index past the end", "parameter 2", torchFile(t, with(metaParamGroups, "["+group("0, 2")+"]"), "F32")},
		{"a negative lr", "LR", torchFile(t, with(metaParamGroups, "["+strings.Replace(group("0, 1"), "0.1", "-0.1", 1)+"]"), "F32")},
		{"a step of a bad dtype", "dtype", torchFile(t, torchMeta(), "F16")},
		{"no sum", "state.1.sum", forge(t, []rawTensor{
			{name: "fc.weight", dtype: "F32", shape: []int{2, 2}, data: f32(1, 2, 3, 4)},
			{name: "fc.bias", dtype: "F32", shape: []int{2}, data: f32(5, 6)},
			{name: "state.0.sum", dtype: "F32", shape: []int{2, 2}, data: f32(0.5, 0.75, 1, 2)},
			{name: "state.0.step", dtype: "F32", shape: []int{}, data: f32(3)},
			{name: "state.1.step", dtype: "F32", shape: []int{}, data: f32(3)},
		}, torchMeta(), false)},
		{"no step", "state.1.step", forge(t, []rawTensor{
			{name: "fc.weight", dtype: "F32", shape: []int{2, 2}, data: f32(1, 2, 3, 4)},
			{name: "fc.bias", dtype: "F32", shape: []int{2}, data: f32(5, 6)},
			{name: "state.0.sum", dtype: "F32", shape: []int{2, 2}, data: f32(0.5, 0.75, 1, 2)},
			{name: "state.0.step", dtype: "F32", shape: []int{}, data: f32(3)},
			{name: "state.1.sum", dtype: "F32", shape: []int{2}, data: f32(0.5, 1.5)},
		}, torchMeta(), false)},
		{"a sum of another shape", "state.1.sum", forge(t, []rawTensor{
			{name: "fc.weight", dtype: "F32", shape: []int{2, 2}, data: f32(1, 2, 3, 4)},
			{name: "fc.bias", dtype: "F32", shape: []int{2}, data: f32(5, 6)},
			{name: "state.0.sum", dtype: "F32", shape: []int{2, 2}, data: f32(0.5, 0.75, 1, 2)},
			{name: "state.0.step", dtype: "F32", shape: []int{}, data: f32(3)},
			{name: "state.1.sum", dtype: "F64", shape: []int{2}, data: append(f32(0.5, 1.5), f32(0, 0)...)},
			{name: "state.1.step", dtype: "F32", shape: []int{}, data: f32(3)},
		}, torchMeta(), false)},
		{"a fractional step", "step", forge(t, []rawTensor{
			{name: "fc.weight", dtype: "F32", shape: []int{2, 2}, data: f32(1, 2, 3, 4)},
			{name: "fc.bias", dtype: "F32", shape: []int{2}, data: f32(5, 6)},
			{name: "state.0.sum", dtype: "F32", shape: []int{2, 2}, data: f32(0.5, 0.75, 1, 2)},
			{name: "state.0.step", dtype: "F32", shape: []int{}, data: f32(3.5)},
			{name: "state.1.sum", dtype: "F32", shape: []int{2}, data: f32(0.5, 1.5)},
			{name: "state.1.step", dtype: "F32", shape: []int{}, data: f32(-1)},
		}, torchMeta(), false)},
		{"a half-precision parameter", "F16", forge(t, []rawTensor{
			{name: "fc.weight", dtype: "F16", shape: []int{2, 2}, data: make([]byte, 8)},
		}, map[string]string{metaNames: `["fc.weight"]`, metaParamGroups: "[" + group("0") + "]"}, false)},
		{"truncated", "truncated", func() []byte { b := torchFile(t, torchMeta(), "F32"); return b[:len(b)-2] }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.file
			if tc.name == "truncated" {
				_, _, err := ImportTorch(bytes.NewReader(b), int64(len(b))+2)
				if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("err = %v, want ErrCheckpoint mentioning %q", err, tc.want)
				}
				return
			}
			_, _, err := importBytes(b)
			if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrCheckpoint mentioning %q", err, tc.want)
			}
		})
	}
}

func TestImportTorchFileNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "torch.safetensors")
	if _, _, err := ImportTorchFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("missing file: %v", err)
	}
}
