package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// familyParams are tensors of every state layout: row-wise Adagrad (one
// accumulator per row), 8-bit Adagrad (codes and a scale per block of 256,
// two blocks, the last short), and half-precision parameters with float32
// state.
func familyParams(zero bool) []optim.Param {
	val := func(n int, f float32) []float32 {
		v := make([]float32, n)
		if !zero {
			for i := range v {
				v[i] = f * float32(i%7-3)
			}
		}
		return v
	}
	return []optim.Param{
		{Name: "rows", Init: val(5*3, 0.5), Shape: []int{5, 3}, Options: []optim.Option{optim.UpdateRule(device.AdagradRowwise),
			optim.WeightDecay(0.1), optim.DecoupledWeightDecay(true)}},
		{Name: "coded", Init: val(300, 0.25), Shape: []int{100, 3}, Options: []optim.Option{optim.UpdateRule(device.Adagrad8Bit),
			optim.InitialAccumulatorValue(0.1), optim.LRDecay(0.01)}},
		{Name: "bf16", Init: val(6, 1), Shape: []int{2, 3}, DType: device.BFloat16, Options: []optim.Option{optim.Seed(1 << 50)}},
		{Name: "f16", Init: val(4, 1), DType: device.Float16, Options: []optim.Option{optim.UpdateRule(device.AdagradRowwise)}},
	}
}

// familyOptimizer is an optimizer of familyParams on the CPU, after steps
// steps of gradients that depend only on the step.
func familyOptimizer(t testing.TB, zero bool, steps int) *optim.Adagrad {
	t.Helper()
	opt, err := optim.New(cpu.New(), familyParams(zero), optim.LR(0.05))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { opt.Close() })
	familySteps(t, opt, 0, steps)
	return opt
}

func familySteps(t testing.TB, opt *optim.Adagrad, from, to int) {
	t.Helper()
	for s := from; s < to; s++ {
		for _, ti := range opt.Tensors() {
			g := make([]float32, ti.Len)
			for i := range g {
				g[i] = float32((i*7+s*3)%11-5) / 4
			}
			if err := opt.SetGrad(ti.Name, g); err != nil {
				t.Fatal(err)
			}
		}
		if err := opt.Step(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFamilyLayout writes a checkpoint of every state layout and checks
// the names, dtypes and shapes it states: per-row state as [rows], 8-bit
// codes as U8 of the tensor's shape and their scales as [blocks],
// half-precision parameters as BF16 and F16 with F32 state.
func TestFamilyLayout(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, state(t, familyOptimizer(t, false, 3)), nil); err != nil {
		t.Fatal(err)
	}
	h, groups := headerGroups(t, buf.Bytes())
	want := map[string]struct {
		dtype string
		shape []int
	}{
		"rows": {"F32", []int{5, 3}}, "state.0.row_sum": {"F32", []int{5}},
		"coded": {"F32", []int{100, 3}}, "state.1.sum_absmax": {"F32", []int{2}}, "state.1.sum_codes": {"U8", []int{100, 3}},
		"bf16": {"BF16", []int{2, 3}}, "state.2.sum": {"F32", []int{2, 3}},
		"f16": {"F16", []int{4}}, "state.3.row_sum": {"F32", []int{4}},
	}
	for name, w := range want {
		e, ok := h.entries[name]
		if !ok {
			t.Errorf("no entry %q", name)
			continue
		}
		if e.DType != w.dtype || !slices.Equal(e.Shape, w.shape) {
			t.Errorf("%s is %s %v, want %s %v", name, e.DType, e.Shape, w.dtype, w.shape)
		}
	}
	var rules []string
	for _, g := range groups {
		rules = append(rules, g.Rule)
	}
	if !slices.Contains(rules, "adagrad-rowwise") || !slices.Contains(rules, "adagrad-8bit") {
		t.Errorf("param groups name rules %q", rules)
	}
}

// TestFamilyResume saves every state layout mid-run, loads it into a fresh
// optimizer, and continues: bitwise the uninterrupted run.
func TestFamilyResume(t *testing.T) {
	whole := state(t, familyOptimizer(t, false, 6))
	first := familyOptimizer(t, false, 3)
	path := filepath.Join(t.TempDir(), "run.safetensors")
	if err := Save(path, state(t, first), nil); err != nil {
		t.Fatal(err)
	}
	st, _, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "read back", st, state(t, first))
	resumed := familyOptimizer(t, true, 0)
	if err := resumed.LoadState(st); err != nil {
		t.Fatal(err)
	}
	familySteps(t, resumed, 3, 6)
	sameBits(t, "resumed", state(t, resumed), whole)
}

// TestFamilyRefused: a checkpoint of one variant does not load into a model
// of another (another rule, another parameter dtype), and a file whose
// param groups claim another rule than its states say is refused.
// (TestFamilyParts: per-row and per-block state in parts.)
func TestFamilyRefused(t *testing.T) {
	st := state(t, familyOptimizer(t, false, 2))
	var buf bytes.Buffer
	if err := Write(&buf, st, nil); err != nil {
		t.Fatal(err)
	}
	back, _, err := read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	other := func(change func(p *optim.Param)) *optim.Adagrad {
		ps := familyParams(true)
		for i := range ps {
			change(&ps[i])
		}
		opt, err := optim.New(cpu.New(), ps, optim.LR(0.05))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { opt.Close() })
		return opt
	}
	cases := []struct {
		name string
		opt  *optim.Adagrad
		want error
	}{
		{"plain Adagrad everywhere", other(func(p *optim.Param) { p.Options = nil }), device.ErrRule},
		{"8-bit instead of row-wise", other(func(p *optim.Param) {
			if p.Name == "rows" {
				p.Options = []optim.Option{optim.UpdateRule(device.Adagrad8Bit)}
			}
		}), device.ErrRule},
		{"float32 instead of bfloat16", other(func(p *optim.Param) {
			if p.Name == "bf16" {
				p.DType = 0
			}
		}), device.ErrDType},
		{"bfloat16 instead of float16", other(func(p *optim.Param) {
			if p.Name == "f16" {
				p.DType = device.BFloat16
			}
		}), device.ErrDType},
	}
	for _, c := range cases {
		before := state(t, c.opt)
		if err := c.opt.LoadState(back); !errors.Is(err, c.want) {
			t.Errorf("%s: LoadState: err = %v, want %v", c.name, err, c.want)
		}
		sameBits(t, c.name+": a refused load changed the optimizer", state(t, c.opt), before)
	}
	// The param groups say plain Adagrad for the row-wise tensor: its
	// state is not the sum that rule keeps.
	lied := slices.Clone(st.Tensors)
	lied[0].Hyper.Rule, lied[0].Hyper.WeightDecay, lied[0].Hyper.DecoupledWeightDecay = device.Adagrad, 0, false
	if err := Write(&bytes.Buffer{}, optim.State{Tensors: lied}, nil); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("Write of row-wise state under plain Adagrad: err = %v, want ErrCheckpoint", err)
	}
	h, groups := headerGroups(t, buf.Bytes())
	for i := range groups {
		if groups[i].Rule == "adagrad-rowwise" {
			groups[i].Rule, groups[i].DecoupledWeightDecay = "adagrad-8bit", false
		}
	}
	h.meta[metaParamGroups] = jsonOf(t, groups)
	head, err := marshalHeader(h.entries, h.meta)
	if err != nil {
		t.Fatal(err)
	}
	forged := reseal(append(head, buf.Bytes()[int64(buf.Len())-h.dataLen:]...))
	if _, _, err := read(forged); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "sum_absmax") {
		t.Errorf("a file claiming another rule: err = %v, want ErrCheckpoint naming the missing state", err)
	}
}

// TestFamilyParts cuts every state layout into parts (per-row state on
// its rows, per-block state on its blocks, half parameters with float32
// state): saved in 1 to 4 parts it loads back bitwise, consolidates into
// the file Save writes, byte for byte, and gives any range of whole rows or
// blocks (LoadRanges); a range or a part that splits a row or a block is
// refused.
func TestFamilyParts(t *testing.T) {
	st := state(t, familyOptimizer(t, false, 3))
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.safetensors")
	if err := Save(whole, st, nil); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 4; n++ {
		manifest := filepath.Join(dir, fmt.Sprintf("run%d.json", n))
		if err := SaveSharded(manifest, st, n, nil); err != nil {
			t.Fatalf("%d parts: %v", n, err)
		}
		back, _, err := LoadSharded(manifest)
		if err != nil {
			t.Fatalf("%d parts: %v", n, err)
		}
		sameBits(t, fmt.Sprintf("%d parts", n), back, st)
		one := filepath.Join(dir, fmt.Sprintf("one%d.safetensors", n))
		if err := Consolidate(manifest, one); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(one); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%d parts consolidated: %d bytes (%v), not the %d bytes Save writes", n, len(got), err, len(want))
		}
		// The second row of "rows" and of "f16" (a row is an element),
		// the second block of "coded" (short), the second row of "bf16".
		ranges := []ElementRange{{Tensor: "rows", Lo: 3, Hi: 6}, {Tensor: "coded", Lo: 256, Hi: 300},
			{Tensor: "bf16", Lo: 3, Hi: 6}, {Tensor: "f16", Lo: 1, Hi: 2}}
		for _, path := range []string{manifest, whole} {
			got, _, err := LoadRanges(path, ranges)
			if err != nil {
				t.Fatalf("%s: LoadRanges: %v", filepath.Base(path), err)
			}
			for i, r := range ranges {
				ts, pt := st.Tensors[i], got[i]
				if pt.Name != r.Tensor || !slices.Equal(pt.Shape, ts.Shape) || pt.DType != ts.DType {
					t.Fatalf("%s: range %d is %q %v %v", filepath.Base(path), i, pt.Name, pt.Shape, pt.DType)
				}
				spec, _ := ts.Hyper.Rule.Spec()
				if ts.Hyper.Rule == 0 {
					spec, _ = device.Adagrad.Spec()
				}
				if !sameSlice(pt.Param, sub(ts.Param, int(r.Lo), int(r.Hi))) {
					t.Errorf("%s: %s's parameters [%d,%d) differ", filepath.Base(path), r.Tensor, r.Lo, r.Hi)
				}
				for k := range spec.State {
					a, b := stateSpan(int(r.Lo), int(r.Hi), stateUnit(spec, k, ts.Shape))
					if !sameSlice(pt.State[k], sub(ts.State[k], a, b)) {
						t.Errorf("%s: %s's %s for [%d,%d) differs", filepath.Base(path), r.Tensor, spec.State[k].Name, r.Lo, r.Hi)
					}
				}
			}
		}
	}
	manifest := filepath.Join(dir, "run2.json")
	for _, r := range []ElementRange{{Tensor: "rows", Lo: 2, Hi: 6}, {Tensor: "coded", Lo: 0, Hi: 100}} {
		ranges := []ElementRange{{Tensor: "rows", Lo: 0, Hi: 15}, {Tensor: "coded", Lo: 0, Hi: 300}, {Tensor: "bf16", Lo: 0, Hi: 6},
			{Tensor: "f16", Lo: 0, Hi: 4}}
		for i := range ranges {
			if ranges[i].Tensor == r.Tensor {
				ranges[i] = r
			}
		}
		for _, path := range []string{manifest, whole} {
			if _, _, err := LoadRanges(path, ranges); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "whole units") {
				t.Errorf("%s: LoadRanges of %s [%d,%d): err = %v, want ErrCheckpoint (not whole units)", filepath.Base(path), r.Tensor, r.Lo, r.Hi, err)
			}
		}
	}
	parts, err := Split(st, 2)
	if err != nil {
		t.Fatal(err)
	}
	p := parts[1]
	p.Tensors = slices.Clone(p.Tensors)
	p.Tensors[0].Lo++ // a row cut in two
	p.Tensors[0].Param = sub(p.Tensors[0].Param, 1, length(p.Tensors[0].Param))
	if _, err := SaveShard(filepath.Join(dir, "cut.json"), p); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("SaveShard of a part that cuts a row: err = %v, want ErrCheckpoint", err)
	}
}

// sameSlice reports whether two host slices of one type hold the same bits.
func sameSlice(a, b any) bool {
	switch x := a.(type) {
	case []float32:
		y, ok := b.([]float32)
		return ok && slices.EqualFunc(x, y, func(p, q float32) bool { return math.Float32bits(p) == math.Float32bits(q) })
	case []float64:
		y, ok := b.([]float64)
		return ok && slices.EqualFunc(x, y, func(p, q float64) bool { return math.Float64bits(p) == math.Float64bits(q) })
	case []uint16:
		y, ok := b.([]uint16)
		return ok && slices.Equal(x, y)
	case []uint8:
		y, ok := b.([]uint8)
		return ok && slices.Equal(x, y)
	}
	return false
}

// TestFamilyTorchReads checks that PyTorch reads the half-precision and
// 8-bit tensors of a checkpoint (BF16, F16, U8) with their values, through
// examples/torch's reader.
func TestFamilyTorchReads(t *testing.T) {
	py := torchPython(t)
	st := state(t, familyOptimizer(t, false, 2))
	dir := t.TempDir()
	path := filepath.Join(dir, "run.safetensors")
	if err := Save(path, st, nil); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	bf := st.Tensors[2].Param.([]uint16)
	f16 := st.Tensors[3].Param.([]uint16)
	codes := st.Tensors[1].State[1].([]uint8)
	fmt.Fprintf(&want, "%v %v %v", bf, f16, codes[:10])
	program := `
import sys
from adagrad_safetensors import read_safetensors
import torch
t, meta = read_safetensors(sys.argv[1])
assert t["bf16"].dtype == torch.bfloat16 and t["f16"].dtype == torch.float16 and t["state.1.sum_codes"].dtype == torch.uint8
bits = lambda x: [int(v) & 0xffff for v in x.reshape(-1).view(torch.int16).tolist()]
print(bits(t["bf16"]), bits(t["f16"]), t["state.1.sum_codes"].reshape(-1)[:10].tolist())
`
	lib, err := filepath.Abs(filepath.Join("..", "examples", "torch"))
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "read.py")
	if err := os.WriteFile(script, []byte(program), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script, path)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+lib)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := strings.NewReplacer(",", "").Replace(strings.TrimSpace(string(out)))
	if got != want.String() {
		t.Errorf("PyTorch read %s, want %s", got, want.String())
	}
}
