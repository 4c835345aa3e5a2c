package checkpoint

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	opt := trainedOptimizer(t)
	path := filepath.Join(t.TempDir(), "run.safetensors")
	if err := CheckPath(path); err != nil {
		t.Fatal(err)
	}
	want := state(t, opt)
	if err := Save(path, want, map[string]string{"note": "hello"}); err != nil {
		t.Fatal(err)
	}
	st, extra, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if extra["note"] != "hello" || len(extra) != 1 {
		t.Errorf("extra metadata = %v", extra)
	}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("loaded state differs:\n got %+v\nwant %+v", st, want)
	}
	fresh := freshLike(t)
	if err := fresh.LoadState(st); err != nil {
		t.Fatal(err)
	}
	if got := state(t, fresh); !reflect.DeepEqual(got, want) {
		t.Errorf("restored state differs:\n got %+v\nwant %+v", got, want)
	}
	if leftovers, err := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); err != nil || len(leftovers) > 0 {
		t.Errorf("temporary files left: %v (%v)", leftovers, err)
	}
}

func TestLayoutIsPyTorchs(t *testing.T) {
	b := encoded(t)
	h, err := readHeader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	n := len(b) - int(h.dataLen) - 8
	header := string(b[8 : 8+n])
	for _, want := range []string{`"emb":`, `"state.0.sum":`, `"state.0.step":`, `"state.1.sum":`, `"state.2.step":`,
		`"param_groups"`, `\"lr_decay\":0.1`, `"format":"adagrad-go/1"`, `"sha256"`, `"trainer.step":"42"`} {
		if !strings.Contains(header, want) {
			t.Errorf("header lacks %s:\n%s", want, header)
		}
	}
	if (8+n)%8 != 0 {
		t.Errorf("data starts at %d, not 8-byte aligned", 8+n)
	}
	if e := h.entries["emb"]; e.DType != "F32" || !reflect.DeepEqual(e.Shape, []int{3, 2}) {
		t.Errorf("emb is %+v", e)
	}
}

func TestParamGroupsArePyTorchs(t *testing.T) {
	a, b := optim.DefaultHyper(), optim.DefaultHyper()
	b.LR = 0.5
	c := a
	c.Rule = 0 // the zero rule is Adagrad: the same group as a
	for _, tc := range []struct {
		name   string
		hypers []optim.Hyper
		want   [][]int
	}{
		{"one set: one group", []optim.Hyper{a, a, c}, [][]int{{0, 1, 2}}},
		{"per tensor", []optim.Hyper{a, b}, [][]int{{0}, {1}}},
		{"interleaved, in order of first tensor", []optim.Hyper{b, a, b, a}, [][]int{{0, 2}, {1, 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := optim.State{}
			for i, h := range tc.hypers {
				st.Tensors = append(st.Tensors, optim.TensorState{Name: string(rune('a' + i)), Shape: []int{1}, Hyper: h,
					Param: []float32{1}, State: []any{[]float32{2}}})
			}
			var buf bytes.Buffer
			if err := Write(&buf, st, nil); err != nil {
				t.Fatal(err)
			}
			_, groups := headerGroups(t, buf.Bytes())
			var got [][]int
			for _, g := range groups {
				got = append(got, g.Params)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("groups %v, want %v", got, tc.want)
			}
			back, _, err := read(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			for i, ts := range back.Tensors {
				if ts.Hyper != normalRule(tc.hypers[i]) {
					t.Errorf("tensor %d: hyper %+v, want %+v", i, ts.Hyper, tc.hypers[i])
				}
			}
		})
	}
}

func TestReadRefusesDamage(t *testing.T) {
	b := encoded(t)
	if _, _, err := read(b); err != nil {
		t.Fatalf("intact checkpoint refused: %v", err)
	}
	for cut := 0; cut < len(b); cut++ {
		if _, _, err := read(b[:cut]); !errors.Is(err, ErrCheckpoint) {
			t.Fatalf("truncated to %d of %d bytes: err = %v", cut, len(b), err)
		}
		// A reader shorter than the size it claims is truncated too.
		if _, _, err := Read(bytes.NewReader(b[:cut]), int64(len(b))); !errors.Is(err, ErrCheckpoint) {
			t.Fatalf("%d bytes claiming %d: err = %v", cut, len(b), err)
		}
	}
	for i := range b {
		for _, flip := range []byte{0x01, 0x80} {
			c := bytes.Clone(b)
			c[i] ^= flip
			if _, _, err := read(c); err == nil {
				// Only padding spaces may change without harm: JSON ignores
				// them, and they carry nothing.
				if b[i] != ' ' || (c[i] != '!' && c[i] != 0xa0) {
					t.Fatalf("byte %d flipped (%q→%q) yet accepted", i, b[i], c[i])
				}
			} else if !errors.Is(err, ErrCheckpoint) {
				t.Fatalf("byte %d flipped: error without ErrCheckpoint: %v", i, err)
			}
		}
	}
}

func TestReadChecksSizesBeforeAllocating(t *testing.T) {
	meta := map[string]string{metaFormat: Format}
	huge := forge(t, []rawTensor{{name: "w", dtype: "F32", shape: []int{1 << 30, 1 << 10}, data: f32(1, 2)}}, meta, true)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := read(huge)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrCheckpoint) {
		t.Errorf("a tensor of 2^40 elements in %d bytes: err = %v", len(huge), err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("refusing it allocated %d bytes", got)
	}
	// A header length beyond the file, or beyond the bound.
	for _, n := range []uint64{uint64(len(huge)), maxHeader + 1, math.MaxUint64} {
		b := bytes.Clone(huge)
		for k := range 8 {
			b[k] = byte(n >> (8 * k))
		}
		if _, _, err := read(b); !errors.Is(err, ErrCheckpoint) {
			t.Errorf("header length %d: err = %v", n, err)
		}
	}
}

func TestWriteRefuses(t *testing.T) {
	good := trainedState(t)
	cases := []struct {
		name   string
		change func(st *optim.State) map[string]string
		also   error
	}{
		{"reserved metadata key", func(*optim.State) map[string]string { return map[string]string{"sha256": "x"} }, nil},
		{"metadata not UTF-8", func(*optim.State) map[string]string { return map[string]string{"k": "\xff"} }, nil},
		{"NaN hyperparameter", func(st *optim.State) map[string]string { st.Tensors[0].Hyper.LR = math.NaN(); return nil }, device.ErrHyper},
		{"negative hyperparameter", func(st *optim.State) map[string]string { st.Tensors[0].Hyper.Eps = -1; return nil }, device.ErrHyper},
		{"reserved tensor name", func(st *optim.State) map[string]string { st.Tensors[0].Name = "state.9.sum"; return nil }, optim.ErrName},
		{"metadata tensor name", func(st *optim.State) map[string]string { st.Tensors[0].Name = "__metadata__"; return nil }, optim.ErrName},
		{"empty name", func(st *optim.State) map[string]string { st.Tensors[0].Name = ""; return nil }, optim.ErrName},
		{"duplicate names", func(st *optim.State) map[string]string { st.Tensors[1].Name = "emb"; return nil }, nil},
		{"length not the shape's", func(st *optim.State) map[string]string { st.Tensors[0].Shape = []int{2, 2}; return nil }, nil},
		{"overflowing shape", func(st *optim.State) map[string]string { st.Tensors[0].Shape = []int{4, math.MaxInt/4 + 2}; return nil }, nil},
		{"state of another length", func(st *optim.State) map[string]string {
			st.Tensors[0].State = []any{make([]float32, 5)}
			return nil
		}, nil},
		{"state of another dtype", func(st *optim.State) map[string]string {
			st.Tensors[0].State = []any{make([]float64, 6)}
			return nil
		}, nil},
		{"missing state", func(st *optim.State) map[string]string { st.Tensors[0].State = nil; return nil }, nil},
		{"not a float slice", func(st *optim.State) map[string]string { st.Tensors[0].Param = []int{1}; return nil }, nil},
		{"negative step", func(st *optim.State) map[string]string { st.Tensors[0].Step = -1; return nil }, nil},
		{"unknown rule", func(st *optim.State) map[string]string { st.Tensors[0].Hyper.Rule = 99; return nil }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := trainedState(t)
			meta := tc.change(&st)
			var buf bytes.Buffer
			err := Write(&buf, st, meta)
			if !errors.Is(err, ErrCheckpoint) || (tc.also != nil && !errors.Is(err, tc.also)) {
				t.Errorf("err = %v, want ErrCheckpoint and %v", err, tc.also)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written before the refusal", buf.Len())
			}
			path := filepath.Join(t.TempDir(), "x.safetensors")
			if err := Save(path, st, meta); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), path) {
				t.Errorf("Save: err = %v, want ErrCheckpoint naming the file", err)
			}
			if entries, err := os.ReadDir(filepath.Dir(path)); err != nil || len(entries) != 0 {
				t.Errorf("Save left %v (%v)", entries, err)
			}
		})
	}
	if err := Write(&bytes.Buffer{}, good, nil); err != nil {
		t.Errorf("the good state: %v", err)
	}
}

// TestReadRefusesWhatWriteRefuses forges files with a valid checksum that
// Write would never write: Read refuses them for what they are.
func TestReadRefusesWhatWriteRefuses(t *testing.T) {
	group := jsonOf(t, []torchGroup{{LR: 0.1, Eps: 1e-8, Params: []int{0}}})
	group2 := jsonOf(t, []torchGroup{{LR: 0.1, Eps: 1e-8, Params: []int{0, 1}}})
	meta := func(names []string, steps []int64, groups string) map[string]string {
		return map[string]string{metaFormat: Format, metaNames: jsonOf(t, names), metaSteps: jsonOf(t, steps), metaParamGroups: groups}
	}
	one := func(name string) []rawTensor {
		return []rawTensor{
			{name: name, dtype: "F32", shape: []int{2}, data: f32(1, 2)},
			{name: "state.0.sum", dtype: "F32", shape: []int{2}, data: f32(3, 4)},
			{name: "state.0.step", dtype: "F32", shape: []int{}, data: f32(5)},
		}
	}
	valid := forge(t, one("w"), meta([]string{"w"}, []int64{5}, group), true)
	if _, _, err := read(valid); err != nil {
		t.Fatalf("the forged valid file: %v", err)
	}
	cases := []struct {
		name string
		file []byte
		also error
	}{
		{"reserved name", forge(t, append(one("x"), rawTensor{name: "state.9.sum", dtype: "F32", shape: []int{0}}),
			meta([]string{"state.9.sum"}, []int64{5}, group), true), optim.ErrName},
		{"duplicate names", forge(t, append(one("w"),
			rawTensor{name: "state.1.sum", dtype: "F32", shape: []int{2}, data: f32(3, 4)},
			rawTensor{name: "state.1.step", dtype: "F32", shape: []int{}, data: f32(5)}),
			meta([]string{"w", "w"}, []int64{5, 5}, group2), true), nil},
		{"unknown tensor", forge(t, append(one("w"), rawTensor{name: "extra", dtype: "F32", shape: []int{1}, data: f32(0)}),
			meta([]string{"w"}, []int64{5}, group), true), nil},
		{"step tensor disagrees", forge(t, one("w"), meta([]string{"w"}, []int64{6}, group), true), nil},
		{"negative step", forge(t, one("w"), meta([]string{"w"}, []int64{-1}, group), true), nil},
		{"no checksum", forge(t, one("w"), meta([]string{"w"}, []int64{5}, group), false), nil},
		{"no format", forge(t, one("w"), map[string]string{metaNames: `["w"]`, metaSteps: "[5]", metaParamGroups: group}, false), nil},
		{"parameter in no group", forge(t, one("w"), meta([]string{"w"}, []int64{5}, "[]"), true), nil},
		{"parameter in two groups", forge(t, one("w"), meta([]string{"w"}, []int64{5},
			jsonOf(t, []torchGroup{{LR: 0.1, Params: []int{0}}, {LR: 0.2, Params: []int{0}}})), true), nil},
		{"negative hyperparameter", forge(t, one("w"), meta([]string{"w"}, []int64{5},
			jsonOf(t, []torchGroup{{LR: -0.1, Params: []int{0}}})), true), device.ErrHyper},
		{"unknown rule", forge(t, one("w"), meta([]string{"w"}, []int64{5},
			jsonOf(t, []torchGroup{{LR: 0.1, Params: []int{0}, Rule: "nope"}})), true), nil},
		{"sum of another shape", forge(t, []rawTensor{
			{name: "w", dtype: "F32", shape: []int{2}, data: f32(1, 2)},
			{name: "state.0.sum", dtype: "F32", shape: []int{1, 2}, data: f32(3, 4)},
			{name: "state.0.step", dtype: "F32", shape: []int{}, data: f32(5)},
		}, meta([]string{"w"}, []int64{5}, group), true), nil},
		{"half-precision parameter", forge(t, []rawTensor{
			{name: "w", dtype: "F16", shape: []int{2}, data: []byte{0, 0, 0, 0}},
			{name: "state.0.sum", dtype: "F16", shape: []int{2}, data: []byte{0, 0, 0, 0}},
			{name: "state.0.step", dtype: "F32", shape: []int{}, data: f32(5)},
		}, meta([]string{"w"}, []int64{5}, group), true), nil},
		{"a shard", forge(t, one("w"), func() map[string]string {
			m := meta([]string{"w"}, []int64{5}, group)
			m[metaShard] = `{"index":0,"count":2,"shapes":[[4]],"ranges":[[0,2]]}`
			return m
		}(), true), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := read(tc.file)
			if !errors.Is(err, ErrCheckpoint) || (tc.also != nil && !errors.Is(err, tc.also)) {
				t.Errorf("err = %v, want ErrCheckpoint and %v", err, tc.also)
			}
		})
	}
	// JSON that encoding/json would silently merge.
	b := bytes.Clone(valid)
	i := bytes.Index(b, []byte(`"state.0.step"`))
	copy(b[i:], `"state.0.sum" `)
	if _, _, err := read(reseal(b)); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate JSON key: err = %v", err)
	}
}

func TestLoadChangesNothingOnError(t *testing.T) {
	dir := t.TempDir()
	opt := trainedOptimizer(t)
	good := filepath.Join(dir, "good.safetensors")
	if err := Save(good, state(t, opt), nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(bad, b[:len(b)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(bad); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), bad) {
		t.Errorf("truncated file: err = %v, want ErrCheckpoint naming the file", err)
	}
	missing := filepath.Join(dir, "missing.safetensors")
	if _, _, err := Load(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist naming the file", err)
	}
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("a directory: err = %v", err)
	}
	// A checkpoint of another model is refused by LoadState, which changes
	// nothing.
	dev := cpu.New()
	defer dev.Close()
	other, err := optim.New(dev, []optim.Param{{Name: "emb", Init: make([]float32, 6), Shape: []int{2, 3}}})
	if err != nil {
		t.Fatal(err)
	}
	before := state(t, other)
	st, _, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.LoadState(st); !errors.Is(err, optim.ErrShape) {
		t.Errorf("another model's checkpoint: err = %v", err)
	}
	if after := state(t, other); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused checkpoint changed the optimizer")
	}
}

func TestSaveKeepsModeAndCleansTemporaries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.safetensors")
	st := trainedState(t)
	stale := filepath.Join(dir, ".run.safetensors.tmp-1234567")
	if err := os.WriteFile(stale, []byte("half a checkpoint"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, st, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary kept by Save: %v", err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if want := fs.FileMode(0o644) &^ umask(); fi.Mode().Perm() != want {
			t.Errorf("new checkpoint has mode %v, want %v", fi.Mode().Perm(), want)
		}
		if err := os.Chmod(path, 0o640); err != nil {
			t.Fatal(err)
		}
		if err := Save(path, st, nil); err != nil {
			t.Fatal(err)
		}
		if fi, err = os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
			t.Errorf("replaced checkpoint has mode %v (%v), want 0640", fi.Mode().Perm(), err)
		}
	}
	if err := os.WriteFile(stale, []byte("half a checkpoint"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary kept by Load: %v", err)
	}
}

func TestCheckPath(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		path string
		want error
	}{
		{filepath.Join(dir, "run.safetensors"), nil},
		{filepath.Join(dir, "run.ckpt"), ErrPath},
		{filepath.Join(dir, "no", "run.safetensors"), fs.ErrNotExist},
	} {
		err := CheckPath(tc.path)
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("CheckPath(%s) = %v, want %v", tc.path, err, tc.want)
		}
		if err != nil && !strings.Contains(err.Error(), tc.path) {
			t.Errorf("CheckPath(%s): error does not name the file: %v", tc.path, err)
		}
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("CheckPath left %v (%v)", entries, err)
	}
}

// TestConvertingPath runs the path of big-endian hosts (chunked conversion
// through a small buffer) on this one: the same bytes and the same state.
func TestConvertingPath(t *testing.T) {
	st := trainedState(t)
	// Tensors longer than the buffer, in both dtypes.
	big32, big64 := make([]float32, scratchSize/4*2+3), make([]float64, scratchSize/8*3+1)
	for i := range big32 {
		big32[i] = float32(i) * 1.5
	}
	for i := range big64 {
		big64[i] = float64(i) / 3
	}
	h := optim.DefaultHyper()
	st.Tensors = append(st.Tensors,
		optim.TensorState{Name: "big32", Shape: []int{len(big32)}, Hyper: h, Param: big32, State: []any{big32}},
		optim.TensorState{Name: "big64", Shape: []int{len(big64)}, Hyper: h, Param: big64, State: []any{big64}})
	var native bytes.Buffer
	if err := Write(&native, st, nil); err != nil {
		t.Fatal(err)
	}
	defer func(v bool) { nativeLittleEndian = v }(nativeLittleEndian)
	nativeLittleEndian = false
	var converted bytes.Buffer
	if err := Write(&converted, st, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(native.Bytes(), converted.Bytes()) {
		t.Fatalf("converting path writes other bytes")
	}
	back, _, err := read(converted.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, st) {
		t.Errorf("converting path reads another state")
	}
}
