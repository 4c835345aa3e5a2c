package checkpoint

import (
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

// shardedState is a state with tensors of several sizes, dtypes and
// hyperparameters, some shorter than the number of parts.
func shardedState(t testing.TB) optim.State {
	st := trainedState(t)
	big := make([]float64, 11)
	sum := make([]float64, 11)
	for i := range big {
		big[i], sum[i] = float64(i)/7, float64(i)+0.25
	}
	h := optim.DefaultHyper()
	h.WeightDecay = 0.5
	st.Tensors = append(st.Tensors, optim.TensorState{Name: "big", Shape: []int{11, 1}, Hyper: h, Step: 4, Param: big, State: []any{sum}})
	return st
}

func TestSplitJoin(t *testing.T) {
	st := shardedState(t)
	for _, n := range []int{1, 2, 3, 7, 12} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			parts, err := Split(st, n)
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) != n {
				t.Fatalf("%d parts", len(parts))
			}
			for i, ts := range st.Tensors {
				l := length(ts.Param)
				for p, part := range parts {
					pt := part.Tensors[i]
					if pt.Lo != p*l/n || pt.Hi != (p+1)*l/n || length(pt.Param) != pt.Hi-pt.Lo {
						t.Errorf("part %d of tensor %q: [%d,%d) with %d elements", p, ts.Name, pt.Lo, pt.Hi, length(pt.Param))
					}
				}
			}
			back, err := Join(parts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, st) {
				t.Errorf("joined state differs")
			}
			// In any order.
			slices.Reverse(parts)
			if back, err := Join(parts); err != nil || !reflect.DeepEqual(back, st) {
				t.Errorf("joined in reverse: %v", err)
			}
		})
	}
	if _, err := Split(st, 0); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("0 parts: err = %v", err)
	}
}

func TestJoinRefuses(t *testing.T) {
	st := shardedState(t)
	for _, tc := range []struct {
		name   string
		change func(p []Part) []Part
	}{
		{"a part missing", func(p []Part) []Part { return p[:2] }},
		{"a part twice", func(p []Part) []Part { p[2] = p[1]; return p }},
		{"count disagrees", func(p []Part) []Part { p[1].Count = 4; return p }},
		{"step disagrees", func(p []Part) []Part { p[1].Tensors[0].Step++; return p }},
		{"hyperparameters disagree", func(p []Part) []Part { p[1].Tensors[3].Hyper.LR = 1; return p }},
		{"shape disagrees", func(p []Part) []Part { p[1].Tensors[3].Shape = []int{1, 11}; return p }},
		{"name disagrees", func(p []Part) []Part { p[1].Tensors[3].Name = "other"; return p }},
		{"gap", func(p []Part) []Part {
			p[1].Tensors[3].Lo++
			p[1].Tensors[3].Param = p[1].Tensors[3].Param.([]float64)[1:]
			p[1].Tensors[3].State[0] = p[1].Tensors[3].State[0].([]float64)[1:]
			return p
		}},
		{"range past the end", func(p []Part) []Part { p[2].Tensors[3].Hi = 20; return p }},
		{"length not the range's", func(p []Part) []Part { p[2].Tensors[3].Param = []float64{1}; return p }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts, err := Split(st, 3)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Join(tc.change(parts)); !errors.Is(err, ErrCheckpoint) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func partFilesIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), Ext) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestSaveShardedLoad(t *testing.T) {
	st := shardedState(t)
	for _, n := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "run.json")
			if err := SaveSharded(path, st, n, map[string]string{"trainer.step": "8"}); err != nil {
				t.Fatal(err)
			}
			if files := partFilesIn(t, dir); len(files) != n {
				t.Errorf("part files %v, want %d", files, n)
			}
			got, meta, err := LoadSharded(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, st) || meta["trainer.step"] != "8" {
				t.Errorf("loaded state differs (meta %v)", meta)
			}
			m, err := ReadManifest(path)
			if err != nil {
				t.Fatal(err)
			}
			if m.Format != ManifestFormat || len(m.Shards) != n || len(m.Tensors) != len(st.Tensors) {
				t.Errorf("manifest %+v", m)
			}
			// A part file on its own is not a whole checkpoint.
			if _, _, err := Load(filepath.Join(dir, m.Shards[0].File)); !errors.Is(err, ErrCheckpoint) {
				t.Errorf("Load of a part file: err = %v", err)
			}
		})
	}
}

// TestResumeShardedNToM: a state saved in N parts loads whole, splits into
// M parts for M ranks, saves over the same manifest (the N part files then
// go), and loads the same; an optimizer loaded from it continues bitwise as
// one that never stopped.
func TestResumeShardedNToM(t *testing.T) {
	for _, nm := range [][2]int{{1, 3}, {3, 2}, {2, 3}, {3, 1}} {
		n, m := nm[0], nm[1]
		t.Run(fmt.Sprintf("%d-to-%d", n, m), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "run.json")
			whole := trainedOptimizer(t)
			if err := SaveSharded(path, state(t, whole), n, nil); err != nil {
				t.Fatal(err)
			}
			st, _, err := LoadSharded(path)
			if err != nil {
				t.Fatal(err)
			}
			parts, err := Split(st, m)
			if err != nil {
				t.Fatal(err)
			}
			mf := Manifest{Tensors: parts[0].Layout()}
			for _, p := range slices.Backward(parts) { // ranks finish in any order
				sf, err := SaveShard(path, p)
				if err != nil {
					t.Fatal(err)
				}
				mf.Shards = append(mf.Shards, sf)
			}
			if err := SaveManifest(path, mf); err != nil {
				t.Fatal(err)
			}
			if files := partFilesIn(t, dir); len(files) != m {
				t.Errorf("part files after saving %d parts over %d: %v", m, n, files)
			}
			st2, _, err := LoadSharded(path)
			if err != nil {
				t.Fatal(err)
			}
			resumed := freshLike(t)
			if err := resumed.LoadState(st2); err != nil {
				t.Fatal(err)
			}
			for _, opt := range []*optim.Adagrad{whole, resumed} {
				if err := opt.SetGrad("emb", []float32{0.5, 1, -2, 3, 0.25, -1}); err != nil {
					t.Fatal(err)
				}
				if err := opt.SetGrad("bias", []float64{1, -1}); err != nil {
					t.Fatal(err)
				}
				if err := opt.Step(); err != nil {
					t.Fatal(err)
				}
			}
			if a, b := state(t, whole), state(t, resumed); !reflect.DeepEqual(a, b) {
				t.Errorf("resumed from %d parts via %d differs from the uninterrupted run", n, m)
			}
		})
	}
}

func TestLoadShardedRefuses(t *testing.T) {
	st := shardedState(t)
	setup := func(t *testing.T) (string, Manifest) {
		path := filepath.Join(t.TempDir(), "run.json")
		if err := SaveSharded(path, st, 3, nil); err != nil {
			t.Fatal(err)
		}
		m, err := ReadManifest(path)
		if err != nil {
			t.Fatal(err)
		}
		return path, m
	}
	rewrite := func(t *testing.T, path string, m Manifest) {
		if err := SaveManifest(path, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		break_ func(t *testing.T, path string, m Manifest)
		want   error
	}{
		// Damaged, not absent: a program that resumes starts afresh on
		// fs.ErrNotExist, and its next save would replace the checkpoint.
		{"part file missing", func(t *testing.T, path string, m Manifest) {
			if err := os.Remove(filepath.Join(filepath.Dir(path), m.Shards[1].File)); err != nil {
				t.Fatal(err)
			}
		}, ErrCheckpoint},
		{"part file damaged", func(t *testing.T, path string, m Manifest) {
			p := filepath.Join(filepath.Dir(path), m.Shards[2].File)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)-1] ^= 1
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, ErrCheckpoint},
		{"part file truncated", func(t *testing.T, path string, m Manifest) {
			p := filepath.Join(filepath.Dir(path), m.Shards[0].File)
			if err := os.Truncate(p, m.Shards[0].Size-1); err != nil {
				t.Fatal(err)
			}
		}, ErrCheckpoint},
		{"part file of another save", func(t *testing.T, path string, m Manifest) {
			// Another state's part 1, under the name the manifest gives.
			other := shardedState(t)
			other.Tensors[0].Step++
			parts, err := Split(other, 3)
			if err != nil {
				t.Fatal(err)
			}
			sf, err := SaveShard(path, parts[1])
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Dir(path)
			if err := os.Rename(filepath.Join(dir, sf.File), filepath.Join(dir, m.Shards[1].File)); err != nil {
				t.Fatal(err)
			}
		}, ErrCheckpoint},
		{"parts swapped", func(t *testing.T, path string, m Manifest) {
			m.Shards[0].File, m.Shards[1].File = m.Shards[1].File, m.Shards[0].File
			m.Shards[0].Size, m.Shards[1].Size = m.Shards[1].Size, m.Shards[0].Size
			m.Shards[0].SHA256, m.Shards[1].SHA256 = m.Shards[1].SHA256, m.Shards[0].SHA256
			rewrite(t, path, m)
		}, ErrCheckpoint},
		{"manifest damaged", func(t *testing.T, path string, m Manifest) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b[:len(b)/2], 0o644); err != nil {
				t.Fatal(err)
			}
		}, ErrCheckpoint},
		{"manifest names a path", func(t *testing.T, path string, m Manifest) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b = []byte(strings.Replace(string(b), m.Shards[0].File, "../"+m.Shards[0].File, 1))
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, ErrCheckpoint},
		{"ranges edited", func(t *testing.T, path string, m Manifest) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b = []byte(strings.Replace(string(b), `"hi": 3`, `"hi": 2`, 1))
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, ErrCheckpoint},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, m := setup(t)
			tc.break_(t, path, m)
			_, _, err := LoadSharded(path)
			if !errors.Is(err, tc.want) || errors.Is(err, fs.ErrNotExist) {
				t.Errorf("err = %v, want %v (and not fs.ErrNotExist)", err, tc.want)
			}
		})
	}
}

func TestSaveManifestRefuses(t *testing.T) {
	st := shardedState(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "run.json")
	parts, err := Split(st, 2)
	if err != nil {
		t.Fatal(err)
	}
	sf, err := SaveShard(path, parts[0])
	if err != nil {
		t.Fatal(err)
	}
	// Part 1 is not saved: a manifest of part 0 alone does not tile.
	if err := SaveManifest(path, Manifest{Tensors: parts[0].Layout(), Shards: []ShardFile{sf}}); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("a manifest of one part of two: err = %v", err)
	}
	// A part file named that is not there.
	ghost := sf
	ghost.File, ghost.Index = "run.00001-of-00002.0123456789abcdef.safetensors", 1
	ghost.Ranges = nil
	for _, t := range parts[1].Tensors {
		ghost.Ranges = append(ghost.Ranges, ElementRange{Tensor: t.Name, Lo: int64(t.Lo), Hi: int64(t.Hi)})
	}
	if err := SaveManifest(path, Manifest{Tensors: parts[0].Layout(), Shards: []ShardFile{sf, ghost}}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing part file: err = %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused manifest was written")
	}
	if _, err := SaveShard(filepath.Join(dir, "run.safetensors"), parts[0]); !errors.Is(err, ErrPath) {
		t.Errorf("a manifest path without .json: err = %v", err)
	}
}
