package checkpoint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/adagrad-go/adagrad/internal/atomicfile"
	"github.com/adagrad-go/adagrad/optim"
)

// ManifestFormat is the "format" of a manifest.
const ManifestFormat = "adagrad-go-shards/1"

// ManifestExt is the extension of manifests.
const ManifestExt = ".json"

// maxManifest bounds the manifest read before anything else.
const maxManifest = 64 << 20

// Manifest lists the part files of a sharded checkpoint.
type Manifest struct {
	Format   string            `json:"format"`
	Tensors  []ManifestTensor  `json:"tensors"` // the whole model's tensors, in order
	Shards   []ShardFile       `json:"shards"`
	Metadata map[string]string `json:"metadata,omitempty"` // the caller's
}

// ManifestTensor is one tensor of the whole model.
type ManifestTensor struct {
	Name  string `json:"name"`
	DType string `json:"dtype"` // "F32" or "F64"
	Shape []int  `json:"shape"`
}

// ShardFile is one part file, as SaveShard wrote it.
type ShardFile struct {
	File   string         `json:"file"` // a name in the manifest's directory
	Size   int64          `json:"size"` // bytes
	SHA256 string         `json:"sha256"`
	Index  int            `json:"index"` // part Index of Count
	Count  int            `json:"count"`
	Ranges []ElementRange `json:"ranges"` // one per tensor, in the manifest's order
}

// ElementRange is the elements [Lo, Hi) of a tensor (viewed flat) that a
// part file holds.
type ElementRange struct {
	Tensor string `json:"tensor"`
	Lo     int64  `json:"lo"`
	Hi     int64  `json:"hi"`
}

// stem is the manifest's name without its extension, the start of its
// part files' names.
func stem(manifest string) string {
	return strings.TrimSuffix(filepath.Base(manifest), ManifestExt)
}

func checkManifestPath(manifest string) error {
	if filepath.Ext(manifest) != ManifestExt || stem(manifest) == "" {
		return fmt.Errorf("%w: %s: want a %s manifest", ErrPath, manifest, ManifestExt)
	}
	return nil
}

// partFiles matches the names of the manifest's part files.
func partFiles(manifest string) *regexp.Regexp {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(stem(manifest)) + `\.[0-9]+-of-[0-9]+\.[0-9a-f]{16}\` + Ext + `$`)
}

// SaveShard writes part p of a sharded checkpoint beside the manifest path
// (which SaveManifest writes once every part is saved), atomically, and
// returns its entry for the manifest. Each process of a sharded run saves
// its own part; one of them then gathers the entries and saves the
// manifest. Errors name the file.
func SaveShard(manifest string, p Part) (ShardFile, error) {
	if err := checkManifestPath(manifest); err != nil {
		return ShardFile{}, err
	}
	if err := p.check(); err != nil {
		return ShardFile{}, pathErr(manifest, err)
	}
	e, err := encode(p.records(), nil, p.meta())
	if err != nil {
		return ShardFile{}, pathErr(manifest, err)
	}
	name := fmt.Sprintf("%s.%05d-of-%05d.%s%s", stem(manifest), p.Index, p.Count, e.sum[:16], Ext)
	path := filepath.Join(filepath.Dir(manifest), name)
	if err := writeAtomic(path, e); err != nil {
		return ShardFile{}, pathErr(path, err)
	}
	sf := ShardFile{File: name, Size: e.size(), SHA256: e.sum, Index: p.Index, Count: p.Count}
	for _, t := range p.Tensors {
		sf.Ranges = append(sf.Ranges, ElementRange{Tensor: t.Name, Lo: int64(t.Lo), Hi: int64(t.Hi)})
	}
	return sf, nil
}

// SaveManifest checks m (tensors, and part files that tile every tensor,
// present with their sizes), writes it to path atomically, and then removes
// the part files of the same checkpoint that it does not name (those of an
// earlier save, or of one cut short). It sets m.Format.
func SaveManifest(path string, m Manifest) error {
	if err := checkManifestPath(path); err != nil {
		return err
	}
	m.Format = ManifestFormat
	if err := checkMeta(m.Metadata); err != nil {
		return pathErr(path, err)
	}
	if err := m.check(); err != nil {
		return pathErr(path, err)
	}
	dir := filepath.Dir(path)
	for _, sf := range m.Shards {
		p := filepath.Join(dir, sf.File)
		fi, err := os.Stat(p)
		if err != nil {
			return pathErr(p, err)
		}
		if fi.Size() != sf.Size {
			return pathErr(p, fail("%d bytes, the manifest says %d", fi.Size(), sf.Size))
		}
	}
	js, err := json.MarshalIndent(m, "", "\t")
	if err != nil {
		return pathErr(path, err)
	}
	if err := atomicfile.WriteFile(path, append(js, '\n')); err != nil {
		return pathErr(path, err)
	}
	// Best effort from here on: the checkpoint is saved, and what is left
	// costs disk space only.
	named := map[string]bool{}
	for _, sf := range m.Shards {
		named[sf.File] = true
	}
	ours := partFiles(path)
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if ours.MatchString(e.Name()) && !named[e.Name()] && e.Type().IsRegular() {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	_ = cleanTemps(path)
	return nil
}

// cleanTemps removes the temporaries that interrupted saves of the manifest
// and of its part files left behind.
func cleanTemps(manifest string) error {
	ours := partFiles(manifest)
	base := filepath.Base(manifest)
	return atomicfile.CleanMatching(filepath.Dir(manifest), func(target string) bool {
		return target == base || ours.MatchString(target)
	})
}

// SaveSharded splits st into n parts (see Split), saves each (SaveShard) and
// then the manifest at path, with the caller's metadata.
func SaveSharded(path string, st optim.State, n int, meta map[string]string) error {
	if err := checkManifestPath(path); err != nil {
		return err
	}
	parts, err := Split(st, n)
	if err != nil {
		return pathErr(path, err)
	}
	m := Manifest{Tensors: parts[0].Layout(), Metadata: meta}
	for _, p := range parts {
		sf, err := SaveShard(path, p)
		if err != nil {
			return err
		}
		m.Shards = append(m.Shards, sf)
	}
	return SaveManifest(path, m)
}

// ReadManifest reads and checks the manifest at path: its format, its
// tensors, and that its part files tile every tensor. It reads no part
// file.
func ReadManifest(path string) (Manifest, error) {
	var m Manifest
	err := readFile(path, func(r io.Reader, size int64) error {
		if size > maxManifest {
			return fail("a manifest of %d bytes", size)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return fail("manifest: %v", err)
		}
		if dec.More() {
			return fail("manifest: data after the JSON object")
		}
		return m.check()
	})
	return m, err
}

// check checks a manifest on its own.
func (m *Manifest) check() error {
	if m.Format != ManifestFormat {
		return fail("manifest format %q, want %q", m.Format, ManifestFormat)
	}
	sizes := make([]int64, len(m.Tensors))
	seen := map[string]bool{}
	for i, t := range m.Tensors {
		if err := optim.CheckName(t.Name); err != nil {
			return fmt.Errorf("%w: manifest tensor %d: %w", ErrCheckpoint, i, err)
		}
		if seen[t.Name] {
			return fail("manifest: two tensors named %q", t.Name)
		}
		seen[t.Name] = true
		if _, ok := paramDType(t.DType); !ok {
			return fail("manifest: tensor %q has dtype %q", t.Name, t.DType)
		}
		n, ok := elements(t.Shape, math.MaxInt)
		if !ok || t.Shape == nil {
			return fail("manifest: tensor %q has shape %v", t.Name, t.Shape)
		}
		sizes[i] = n
	}
	if len(m.Shards) == 0 {
		return fail("manifest: no part files")
	}
	have := make([]bool, len(m.Shards))
	ranges := make([][][2]int64, len(m.Tensors))
	for _, sf := range m.Shards {
		if sf.Count != len(m.Shards) || sf.Index < 0 || sf.Index >= sf.Count || have[sf.Index] {
			return fail("manifest: part %d of %d among %d parts", sf.Index, sf.Count, len(m.Shards))
		}
		have[sf.Index] = true
		if sf.File == "" || sf.File != filepath.Base(sf.File) || sf.File == "." || sf.File == ".." ||
			strings.ContainsAny(sf.File, `/\`) {
			return fail("manifest: part file %q is not a name in the manifest's directory", sf.File)
		}
		if sf.Size < 8 || len(sf.SHA256) != 64 {
			return fail("manifest: part file %q of %d bytes with checksum %q", sf.File, sf.Size, sf.SHA256)
		}
		if len(sf.Ranges) != len(m.Tensors) {
			return fail("manifest: part file %q has %d ranges for %d tensors", sf.File, len(sf.Ranges), len(m.Tensors))
		}
		for i, r := range sf.Ranges {
			if r.Tensor != m.Tensors[i].Name || r.Lo < 0 || r.Hi < r.Lo || r.Hi > sizes[i] {
				return fail("manifest: part file %q holds elements [%d,%d) of %q for tensor %q of %d elements",
					sf.File, r.Lo, r.Hi, r.Tensor, m.Tensors[i].Name, sizes[i])
			}
			ranges[i] = append(ranges[i], [2]int64{r.Lo, r.Hi})
		}
	}
	for i, t := range m.Tensors {
		if err := tile(t.Name, ranges[i], sizes[i]); err != nil {
			return err
		}
	}
	return nil
}

// shardMeta is the shard metadata that part file sf must hold.
func (m *Manifest) shardMeta(sf ShardFile) *shardMeta {
	s := &shardMeta{Index: sf.Index, Count: sf.Count}
	for i, t := range m.Tensors {
		s.Shapes = append(s.Shapes, t.Shape)
		s.Ranges = append(s.Ranges, [2]int64{sf.Ranges[i].Lo, sf.Ranges[i].Hi})
	}
	return s
}

// LoadSharded reads the manifest at path and every part file it names, and
// returns the whole state and the caller's metadata. Each part file is
// checked against the manifest (size, checksum, ranges) and verified on its
// own (its checksum over header and data); the tensors stream from the
// files straight into the whole state's slices, which are allocated once
// the first part file has said every tensor's rule, and only if the part
// files are large enough to hold them. It first removes temporaries that
// interrupted saves left behind. A part file that the manifest names and
// that is missing is a damaged checkpoint (ErrCheckpoint), not a missing
// one (fs.ErrNotExist is for the manifest). Errors name the file.
func LoadSharded(path string) (optim.State, map[string]string, error) {
	if err := checkManifestPath(path); err != nil {
		return optim.State{}, nil, err
	}
	_ = cleanTemps(path) // best effort, as in Load
	m, err := ReadManifest(path)
	if err != nil {
		return optim.State{}, nil, err
	}
	var st optim.State
	var units [][]int // of tensor i's states
	err = m.readParts(path, m.Shards, func(f *file, total int64) (err error) {
		st, err = m.allocate(f, total)
		for _, t := range f.tensors {
			units = append(units, t.unit)
		}
		return err
	}, func(sf ShardFile, i int) (int, any, []any) {
		lo, hi := int(sf.Ranges[i].Lo), int(sf.Ranges[i].Hi)
		ts := st.Tensors[i]
		state := make([]any, len(ts.State))
		for k, s := range ts.State {
			a, b := stateSpan(lo, hi, units[i][k])
			state[k] = sub(s, a, b)
		}
		return 0, sub(ts.Param, lo, hi), state
	})
	if err != nil {
		return optim.State{}, nil, err
	}
	if m.Metadata == nil {
		m.Metadata = map[string]string{}
	}
	return st, m.Metadata, nil
}

// readParts reads the part files of the manifest at path that files
// lists, in the order of their index, each checked against the manifest
// (statPart, checkPart) and verified on its own. Once the first file read
// has said every tensor's rule, alloc makes the destinations, given the
// bytes of the files to be read; then dst says where the elements of
// tensor i held by part file sf go (as file.read's dst).
func (m *Manifest) readParts(path string, files []ShardFile, alloc func(first *file, total int64) error,
	dst func(sf ShardFile, i int) (from int, param any, state []any)) error {
	dir := filepath.Dir(path)
	var total int64
	for _, sf := range files {
		if err := statPart(dir, sf); err != nil {
			return err
		}
		total += sf.Size
	}
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b ShardFile) int { return a.Index - b.Index })
	var first *file
	for _, sf := range files {
		err := readPart(filepath.Join(dir, sf.File), func(r io.Reader, size int64) error {
			h, err := readHeader(r, size)
			if err != nil {
				return err
			}
			f, err := parseFile(h)
			if err != nil {
				return err
			}
			if err := m.checkPart(f, sf, first); err != nil {
				return err
			}
			if first == nil {
				first = f
				if err := alloc(f, total); err != nil {
					return err
				}
			}
			return f.read(r, func(i int) (int, any, []any) { return dst(sf, i) })
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// checkPart checks a part file's header against the manifest's entry for it
// and against the first part file read.
func (m *Manifest) checkPart(f *file, sf ShardFile, first *file) error {
	if f.shard == nil || !f.shard.equal(m.shardMeta(sf)) {
		return fail("not part %d of %d with the ranges the manifest says", sf.Index, sf.Count)
	}
	if f.h.meta[metaSum] != sf.SHA256 {
		return fail("checksum %s, the manifest says %s: a part file of another save", f.h.meta[metaSum], sf.SHA256)
	}
	if len(f.tensors) != len(m.Tensors) {
		return fail("%d tensors, the manifest has %d", len(f.tensors), len(m.Tensors))
	}
	for i, t := range f.tensors {
		if t.name != m.Tensors[i].Name || dtypeNameOf(t.dt) != m.Tensors[i].DType {
			return fail("tensor %d is %s %q, the manifest says %s %q", i, dtypeNameOf(t.dt), t.name, m.Tensors[i].DType, m.Tensors[i].Name)
		}
		if first != nil {
			if o := first.tensors[i]; t.hyper != o.hyper || t.step != o.step {
				return fail("tensor %q has other hyperparameters or step than in part %d", t.name, first.shard.Index)
			}
		}
	}
	return nil
}

// allocate makes the whole state's slices, once the first part file has
// said every tensor's rule (so how many states it keeps), if the part
// files, total bytes, can hold them.
func (m *Manifest) allocate(f *file, total int64) (optim.State, error) {
	var need int64
	for i, t := range f.tensors {
		n, _ := elements(m.Tensors[i].Shape, math.MaxInt) // checked
		b, err := rangeBytes(t, n)
		if err != nil || b > math.MaxInt64-need {
			return optim.State{}, fail("tensors too large")
		}
		need += b
	}
	if need > total {
		return optim.State{}, fail("the tensors take %d bytes, the part files have %d", need, total)
	}
	st := optim.State{Tensors: make([]optim.TensorState, len(f.tensors))}
	for i, t := range f.tensors {
		n, _ := elements(m.Tensors[i].Shape, math.MaxInt)
		ts := optim.TensorState{Name: t.name, Shape: slices.Clone(m.Tensors[i].Shape), DType: halfDType(t.dt), Hyper: t.hyper, Step: t.step,
			Param: alloc(t.dt, int(n))}
		for k, dt := range t.stateDT {
			ts.State = append(ts.State, alloc(dt, unitsOf(int(n), t.unit[k])))
		}
		st.Tensors[i] = ts
	}
	return st, nil
}
