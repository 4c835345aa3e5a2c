package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/optim"
)

// rangesState is shardedState with a scalar tensor too.
func rangesState(t testing.TB) optim.State {
	st := shardedState(t)
	st.Tensors = append(st.Tensors, optim.TensorState{Name: "scalar", Shape: []int{}, Hyper: optim.DefaultHyper(), Step: 2,
		Param: []float32{1.5}, State: []any{[]float32{0.75}}})
	return st
}

// rankRanges is what rank r of n asks for: a contiguous block of every
// tensor, as a sharded optimizer owns rows (here cut by elements), in an
// order other than the checkpoint's.
func rankRanges(st optim.State, r, n int) []ElementRange {
	var out []ElementRange
	for _, ts := range slices.Backward(st.Tensors) {
		l := int64(length(ts.Param))
		out = append(out, ElementRange{Tensor: ts.Name, Lo: int64(r) * l / int64(n), Hi: int64(r+1) * l / int64(n)})
	}
	return out
}

// checkRanges compares what LoadRanges returned with st's elements.
func checkRanges(st optim.State, ranges []ElementRange, got []PartTensor) error {
	if len(got) != len(ranges) {
		return fmt.Errorf("%d tensors for %d ranges", len(got), len(ranges))
	}
	for j, r := range ranges {
		i := slices.IndexFunc(st.Tensors, func(ts optim.TensorState) bool { return ts.Name == r.Tensor })
		ts, pt := st.Tensors[i], got[j]
		want := PartTensor{Name: ts.Name, Shape: ts.Shape, Hyper: ts.Hyper, Step: ts.Step, Lo: int(r.Lo), Hi: int(r.Hi),
			Param: sub(ts.Param, int(r.Lo), int(r.Hi))}
		for _, s := range ts.State {
			want.State = append(want.State, sub(s, int(r.Lo), int(r.Hi)))
		}
		if !reflect.DeepEqual(pt, want) {
			return fmt.Errorf("tensor %q [%d,%d): got %+v, want %+v", r.Tensor, r.Lo, r.Hi, pt, want)
		}
	}
	return nil
}

// TestLoadRanges: every rank of 1 to 4 reads its block of every tensor
// from a whole checkpoint and from one saved in 1 to 3 parts.
func TestLoadRanges(t *testing.T) {
	st := rangesState(t)
	meta := map[string]string{"trainer.step": "7"}
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.safetensors")
	if err := Save(whole, st, meta); err != nil {
		t.Fatal(err)
	}
	paths := []string{whole}
	for n := 1; n <= 3; n++ {
		p := filepath.Join(dir, fmt.Sprintf("in%d.json", n))
		if err := SaveSharded(p, st, n, meta); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	for _, p := range paths {
		for m := 1; m <= 4; m++ {
			for r := range m {
				t.Run(fmt.Sprintf("%s/rank%dof%d", filepath.Base(p), r, m), func(t *testing.T) {
					ranges := rankRanges(st, r, m)
					got, gotMeta, err := LoadRanges(p, ranges)
					if err != nil {
						t.Fatal(err)
					}
					if err := checkRanges(st, ranges, got); err != nil {
						t.Error(err)
					}
					if !reflect.DeepEqual(gotMeta, meta) {
						t.Errorf("metadata %v", gotMeta)
					}
				})
			}
		}
	}
}

// TestLoadRangesReadsWhatItNeeds: of a sharded checkpoint only the part
// files holding elements asked for are read (a missing other part does
// not matter), each verified whole (damage outside the elements asked for
// is found).
func TestLoadRangesReadsWhatItNeeds(t *testing.T) {
	st := rangesState(t)
	path := filepath.Join(t.TempDir(), "run.json")
	if err := SaveSharded(path, st, 3, nil); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	// The last element of every tensor lies in the last part (the empty
	// tensor has none).
	var last []ElementRange
	for _, ts := range st.Tensors {
		l := int64(length(ts.Param))
		last = append(last, ElementRange{Tensor: ts.Name, Lo: max(l-1, 0), Hi: l})
	}
	if err := os.Remove(filepath.Join(dir, m.Shards[0].File)); err != nil {
		t.Fatal(err)
	}
	got, _, err := LoadRanges(path, last)
	if err != nil {
		t.Fatalf("part 0 missing, only part 2 needed: %v", err)
	}
	if err := checkRanges(st, last, got); err != nil {
		t.Error(err)
	}
	// Damage in part 2 outside the elements asked for: the first of the
	// four elements of "big" that it holds.
	p2 := filepath.Join(dir, m.Shards[2].File)
	b, err := os.ReadFile(p2)
	if err != nil {
		t.Fatal(err)
	}
	h, err := readHeader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	e := h.entries["big"]
	if e.Shape[0] != 4 {
		t.Fatalf("part 2 holds %v elements of big", e.Shape)
	}
	b[int64(len(b))-dataBytes(h)+e.DataOffsets[0]] ^= 1
	if err := os.WriteFile(p2, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadRanges(path, last); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), m.Shards[2].File) {
		t.Errorf("damaged part 2: err = %v, want ErrCheckpoint naming it", err)
	}
	// Nothing asked at all: part 0 is still read, for the steps and
	// hyperparameters (here: it is missing).
	var none []ElementRange
	for _, ts := range st.Tensors {
		none = append(none, ElementRange{Tensor: ts.Name})
	}
	if _, _, err := LoadRanges(path, none); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("empty ranges, part 0 missing: err = %v, want ErrCheckpoint", err)
	}
}

func TestLoadRangesRefuses(t *testing.T) {
	st := rangesState(t)
	dir := t.TempDir()
	whole, sharded := filepath.Join(dir, "whole.safetensors"), filepath.Join(dir, "run.json")
	if err := Save(whole, st, nil); err != nil {
		t.Fatal(err)
	}
	if err := SaveSharded(sharded, st, 2, nil); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(sharded)
	if err != nil {
		t.Fatal(err)
	}
	all := rankRanges(st, 0, 1)
	edit := func(f func(r []ElementRange) []ElementRange) []ElementRange { return f(slices.Clone(all)) }
	for _, c := range []struct {
		name   string
		ranges []ElementRange
		want   string
	}{
		{"a tensor left out", all[1:], "not asked for: a checkpoint of another model"},
		{"an unknown tensor", append(slices.Clone(all), ElementRange{Tensor: "nope"}), `no tensor "nope"`},
		{"a tensor twice", append(slices.Clone(all), all[0]), "asked for twice"},
		{"past the end", edit(func(r []ElementRange) []ElementRange { r[0].Hi++; return r }), "elements [0,2) asked of tensor"},
		{"backwards", edit(func(r []ElementRange) []ElementRange { r[1].Lo = r[1].Hi + 1; return r }), "asked of tensor"},
		{"negative", edit(func(r []ElementRange) []ElementRange { r[2].Lo = -1; return r }), "asked of tensor"},
	} {
		for _, p := range []string{whole, sharded} {
			t.Run(c.name+"/"+filepath.Base(p), func(t *testing.T) {
				if _, _, err := LoadRanges(p, c.ranges); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("err = %v, want ErrCheckpoint with %q", err, c.want)
				}
			})
		}
	}
	if _, _, err := LoadRanges(filepath.Join(dir, m.Shards[0].File), all); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "load its manifest") {
		t.Errorf("a part file: %v", err)
	}
	if _, _, err := LoadRanges(filepath.Join(dir, "absent.json"), all); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no manifest: %v, want fs.ErrNotExist", err)
	}
	if _, _, err := LoadRanges(filepath.Join(dir, "run.ckpt"), all); !errors.Is(err, ErrPath) {
		t.Errorf("another extension: %v, want ErrPath", err)
	}
	if err := os.Remove(filepath.Join(dir, m.Shards[1].File)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadRanges(sharded, all); !errors.Is(err, ErrCheckpoint) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a part file missing: %v, want ErrCheckpoint and not fs.ErrNotExist", err)
	}
}

// TestConsolidate: a checkpoint saved in 1, 2 or 3 parts becomes the file
// Save writes for the same state and metadata, byte for byte.
func TestConsolidate(t *testing.T) {
	st := rangesState(t)
	meta := map[string]string{"trainer.epoch": "2", "trainer.step": "0"}
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.safetensors")
	if err := Save(ref, st, meta); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 3; n++ {
		manifest, out := filepath.Join(dir, fmt.Sprintf("run%d.json", n)), filepath.Join(dir, fmt.Sprintf("one%d.safetensors", n))
		if err := SaveSharded(manifest, st, n, meta); err != nil {
			t.Fatal(err)
		}
		if err := Consolidate(manifest, out); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%d parts consolidated: %d bytes (%v), not the %d bytes Save writes", n, len(got), err, len(want))
		}
	}
	if err := Consolidate(filepath.Join(dir, "run1.json"), filepath.Join(dir, "one.json")); !errors.Is(err, ErrPath) {
		t.Errorf("consolidating into a .json: %v, want ErrPath", err)
	}
	if err := Consolidate(filepath.Join(dir, "absent.json"), filepath.Join(dir, "x.safetensors")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no manifest: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.safetensors")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed consolidation wrote its output: %v", err)
	}
}

func TestCheckManifestPath(t *testing.T) {
	dir := t.TempDir()
	if err := CheckManifestPath(filepath.Join(dir, "run.json")); err != nil {
		t.Error(err)
	}
	for _, p := range []string{filepath.Join(dir, "run.safetensors"), filepath.Join(dir, ".json"), filepath.Join(dir, "no", "run.json")} {
		if err := CheckManifestPath(p); err == nil {
			t.Errorf("%s: no error", p)
		}
	}
}

// dataBytes is the length of a file's data section, after its header.
func dataBytes(h *header) int64 {
	var end int64
	for _, e := range h.entries {
		end = max(end, e.DataOffsets[1])
	}
	return end
}
