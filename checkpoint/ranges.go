package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/adagrad-go/adagrad/internal/atomicfile"
)

// LoadRanges reads, from the checkpoint at path, the elements [Lo, Hi) of
// each tensor that ranges names (the tensor viewed flat, as in a Part), and
// returns them in the order of ranges, each with the whole tensor's shape,
// its hyperparameters and step, and the range's parameters and its share
// of each state (a range of a tensor with state per row or per block must
// hold whole rows or blocks: see Part); and the caller's metadata. It is how one process of a sharded run restores
// its own rows on any number of processes, without holding the rest.
//
// path is a whole checkpoint (Save, a .safetensors file) or a sharded one
// (its .json manifest, SaveManifest). ranges names every tensor of the
// checkpoint once, in any order: a checkpoint with other tensors is of
// another model, and refused. Of a sharded checkpoint only the part files
// that hold an element asked for are read (part 0 when none does: its
// header says the hyperparameters and steps). Every file read is verified
// whole, as Load and LoadSharded verify it (checksum over header and data,
// and the manifest's size, checksum and ranges), but only the elements
// asked for are kept. A part file that the manifest names and that is
// missing is a damaged checkpoint (ErrCheckpoint), not a missing one.
// Errors name the file.
func LoadRanges(path string, ranges []ElementRange) ([]PartTensor, map[string]string, error) {
	switch filepath.Ext(path) {
	case ManifestExt:
		return loadManifestRanges(path, ranges)
	case Ext:
		return loadFileRanges(path, ranges)
	}
	return nil, nil, fmt.Errorf("%w: %s: want a %s checkpoint or a %s manifest", ErrPath, path, Ext, ManifestExt)
}

// CheckManifestPath reports whether SaveManifest could write a manifest at
// path: a .json name, in a directory that exists and takes new files.
// Check paths when a program is given them, not after a long run.
func CheckManifestPath(path string) error {
	if err := checkManifestPath(path); err != nil {
		return err
	}
	if err := atomicfile.Check(path); err != nil {
		return pathErr(path, err)
	}
	return nil
}

// Consolidate writes the sharded checkpoint whose manifest is at manifest
// as one whole checkpoint at path, atomically: the file that Save writes
// for the same state and metadata, byte for byte, so the one that a single
// process of the same run would have written, which Load, ImportTorch and
// PyTorch (see ImportTorch) read. Every part file is verified as
// LoadSharded verifies it. It holds the whole state in memory.
func Consolidate(manifest, path string) error {
	if err := CheckPath(path); err != nil {
		return err
	}
	st, meta, err := LoadSharded(manifest)
	if err != nil {
		return err
	}
	return Save(path, st, meta)
}

// matchRanges pairs a checkpoint's tensors (names, elements) with the
// ranges asked for: at[i] is the index in ranges of tensor i's.
func matchRanges(names []string, sizes []int64, ranges []ElementRange) ([]int, error) {
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	at := make([]int, len(names))
	for i := range at {
		at[i] = -1
	}
	for j, r := range ranges {
		i, ok := index[r.Tensor]
		switch {
		case !ok:
			return nil, fail("no tensor %q (the checkpoint has %q)", r.Tensor, names)
		case at[i] >= 0:
			return nil, fail("tensor %q asked for twice", r.Tensor)
		case r.Lo < 0 || r.Hi < r.Lo || r.Hi > sizes[i]:
			return nil, fail("elements [%d,%d) asked of tensor %q of %d elements", r.Lo, r.Hi, r.Tensor, sizes[i])
		}
		at[i] = j
	}
	for i, j := range at {
		if j < 0 {
			return nil, fail("the checkpoint has tensor %q, not asked for: a checkpoint of another model", names[i])
		}
	}
	return at, nil
}

// rangeOf makes the PartTensor that receives range r of tensor t (of the
// whole shape given), its slices allocated, or refuses a range that
// splits a unit of one of its states (a row, a block).
func rangeOf(t fileTensor, shape []int, r ElementRange) (PartTensor, error) {
	total, _ := elements(shape, math.MaxInt) // checked by the caller's file or manifest
	lo, hi := int(r.Lo), int(r.Hi)
	pt := PartTensor{Name: t.name, Shape: slices.Clone(shape), DType: halfDType(t.dt), Hyper: t.hyper, Step: t.step, Lo: lo, Hi: hi,
		Param: alloc(t.dt, hi-lo)}
	for k, dt := range t.stateDT {
		u := t.unit[k]
		if !onUnits(lo, hi, int(total), u) {
			return PartTensor{}, fail("elements [%d,%d) asked of tensor %q are not whole units of %d of its state %s (rows or blocks)",
				lo, hi, t.name, u, t.keys[k])
		}
		a, b := stateSpan(lo, hi, u)
		pt.State = append(pt.State, alloc(dt, b-a))
	}
	return pt, nil
}

func loadFileRanges(path string, ranges []ElementRange) ([]PartTensor, map[string]string, error) {
	_ = atomicfile.Clean(path) // best effort, as in Load
	var out []PartTensor
	var meta map[string]string
	err := readFile(path, func(r io.Reader, size int64) error {
		h, err := readHeader(r, size)
		if err != nil {
			return err
		}
		f, err := parseFile(h)
		if err != nil {
			return err
		}
		if f.shard != nil {
			return fail("part %d of %d of a sharded checkpoint: load its manifest", f.shard.Index, f.shard.Count)
		}
		names, sizes := make([]string, len(f.tensors)), make([]int64, len(f.tensors))
		for i, t := range f.tensors {
			names[i], sizes[i] = t.name, int64(t.n)
		}
		at, err := matchRanges(names, sizes, ranges)
		if err != nil {
			return err
		}
		// Each range lies within its tensor, whose size checkLayout
		// bounded by the file's: the allocation is bounded by it too.
		out = make([]PartTensor, len(ranges))
		for i, t := range f.tensors {
			if out[at[i]], err = rangeOf(t, t.shape, ranges[at[i]]); err != nil {
				return err
			}
		}
		meta = f.caller
		return f.read(r, func(i int) (int, any, []any) {
			pt := out[at[i]]
			return pt.Lo, pt.Param, pt.State
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return out, meta, nil
}

func loadManifestRanges(path string, ranges []ElementRange) ([]PartTensor, map[string]string, error) {
	if err := checkManifestPath(path); err != nil {
		return nil, nil, err
	}
	_ = cleanTemps(path) // best effort, as in Load
	m, err := ReadManifest(path)
	if err != nil {
		return nil, nil, err
	}
	names, sizes := make([]string, len(m.Tensors)), make([]int64, len(m.Tensors))
	for i, t := range m.Tensors {
		names[i] = t.Name
		sizes[i], _ = elements(t.Shape, math.MaxInt) // checked by ReadManifest
	}
	at, err := matchRanges(names, sizes, ranges)
	if err != nil {
		return nil, nil, pathErr(path, err)
	}
	shards := slices.Clone(m.Shards)
	slices.SortFunc(shards, func(a, b ShardFile) int { return a.Index - b.Index })
	var read []ShardFile
	for _, sf := range shards {
		for i, held := range sf.Ranges { // in the manifest's order: checked
			if want := ranges[at[i]]; max(held.Lo, want.Lo) < min(held.Hi, want.Hi) {
				read = append(read, sf)
				break
			}
		}
	}
	if len(read) == 0 {
		read = shards[:1]
	}
	var out []PartTensor
	var units [][]int // of tensor i's states
	err = m.readParts(path, read, func(f *file, total int64) (err error) {
		out, err = m.allocateRanges(f, ranges, at, total)
		for _, t := range f.tensors {
			units = append(units, t.unit)
		}
		return err
	}, func(sf ShardFile, i int) (int, any, []any) {
		pt := out[at[i]]
		held := sf.Ranges[i]
		lo, hi := max(pt.Lo, int(held.Lo)), min(pt.Hi, int(held.Hi))
		state := make([]any, len(pt.State))
		if hi <= lo {
			return 0, nil, state
		}
		// Both ranges are on the units of every state: so is their overlap.
		for k, s := range pt.State {
			a, b := stateSpan(lo, hi, units[i][k])
			first, _ := stateSpan(pt.Lo, pt.Hi, units[i][k])
			state[k] = sub(s, a-first, b-first)
		}
		return lo - int(held.Lo), sub(pt.Param, lo-pt.Lo, hi-pt.Lo), state
	})
	if err != nil {
		return nil, nil, err
	}
	if m.Metadata == nil {
		m.Metadata = map[string]string{}
	}
	return out, m.Metadata, nil
}

// allocateRanges makes the ranges' slices once the first part file read
// has said every tensor's rule, if the part files to be read, total bytes,
// can hold them.
func (m *Manifest) allocateRanges(f *file, ranges []ElementRange, at []int, total int64) ([]PartTensor, error) {
	var need int64
	for i, t := range f.tensors {
		r := ranges[at[i]]
		b, err := rangeBytes(t, r.Hi-r.Lo)
		if err != nil || b > math.MaxInt64-need {
			return nil, fail("ranges too large")
		}
		if need += b; need > total {
			return nil, fail("the ranges asked for take more than the %d bytes of the part files that hold them", total)
		}
	}
	out := make([]PartTensor, len(ranges))
	for i, t := range f.tensors {
		var err error
		if out[at[i]], err = rangeOf(t, m.Tensors[i].Shape, ranges[at[i]]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// statPart checks that a part file the manifest names is there, with its
// size. A missing one is a damaged checkpoint, not a missing checkpoint:
// fs.ErrNotExist would tell a program that resumes to start afresh, and
// its next save would replace the checkpoint.
func statPart(dir string, sf ShardFile) error {
	p := filepath.Join(dir, sf.File)
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %w: part %d of %d is missing (the manifest names it)", p, ErrCheckpoint, sf.Index, sf.Count)
	case err != nil:
		return pathErr(p, err)
	case fi.Size() != sf.Size:
		return pathErr(p, fail("%d bytes, the manifest says %d", fi.Size(), sf.Size))
	}
	return nil
}

// readPart is readFile for a part file that statPart found: one that has
// gone since is a damaged checkpoint too.
func readPart(p string, read func(r io.Reader, size int64) error) error {
	err := readFile(p, read)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w: a part file the manifest names went missing while it was read", p, ErrCheckpoint)
	}
	return err
}
