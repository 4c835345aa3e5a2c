package sharded

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"

	"github.com/adagrad-go/adagrad/checkpoint"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// SaveCheckpoint writes the optimizer's state and the caller's metadata to
// path without gathering the state anywhere: each rank writes the rows it
// owns. path is
//
//   - a .json manifest: a sharded checkpoint (see package checkpoint).
//     Each rank writes its rows of every tensor as a part file beside
//     path, atomically (checkpoint.SaveShard: synced, renamed, the
//     directory synced); once every rank's part is durable, rank 0 writes
//     the manifest, last (checkpoint.SaveManifest), and the ranks agree on
//     the outcome. A save cut short leaves the previous manifest and its
//     part files whole.
//   - a .safetensors file: a whole checkpoint (checkpoint.Save), on one
//     rank only, which holds every row: the file optim.Adagrad's state
//     saves to, byte for byte. On more ranks it is refused before anything
//     is written (save a manifest, and checkpoint.Consolidate it).
//
// Every rank calls it with the same path and metadata, and gets the same
// error if any rank fails. The directory must be one that every rank sees
// (across machines: a shared file system), since rank 0 checks every part
// file before it writes the manifest.
func (s *Adagrad) SaveCheckpoint(path string, meta map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return optim.ErrClosed
	}
	local, err := s.local.State()
	if err != nil {
		err = fmt.Errorf("sharded: rank %d: %w", s.comm.Rank(), err)
	}
	switch filepath.Ext(path) {
	case checkpoint.Ext:
		if refused := s.wholeFile(path); refused != nil {
			return refused
		}
		if err != nil {
			return err
		}
		return checkpoint.Save(path, s.wholeShapes(local), meta)
	case checkpoint.ManifestExt:
		return s.saveSharded(path, local, err, meta)
	}
	return badPath(path)
}

// saveSharded is SaveCheckpoint of a manifest: every rank's part, then
// the manifest. failed is this rank's failure so far.
func (s *Adagrad) saveSharded(path string, local optim.State, failed error, meta map[string]string) error {
	var part checkpoint.Part
	var entry checkpoint.ShardFile
	if failed == nil {
		part = s.part(local)
		entry, failed = checkpoint.SaveShard(path, part)
	}
	// The ranks must save the same checkpoint: the same path and metadata.
	if err := s.agree("SaveCheckpoint", failed, saveFingerprint(path, meta)); err != nil {
		return err
	}
	js, err := json.Marshal(entry)
	if err != nil { // cannot happen: strings and numbers
		return fmt.Errorf("sharded: %w", err)
	}
	entries, err := s.gatherBytes(js)
	if err != nil {
		return fmt.Errorf("sharded: SaveCheckpoint: gathering the part files' entries: %w", err)
	}
	var written error
	if s.comm.Rank() == 0 {
		m := checkpoint.Manifest{Tensors: part.Layout(), Metadata: meta}
		for r, b := range entries {
			var sf checkpoint.ShardFile
			if err := json.Unmarshal(b, &sf); err != nil {
				written = fmt.Errorf("sharded: SaveCheckpoint: rank %d's part file entry: %w", r, err)
				break
			}
			m.Shards = append(m.Shards, sf)
		}
		if written == nil {
			written = checkpoint.SaveManifest(path, m)
		}
	}
	return s.agree("SaveCheckpoint", written, nil)
}

// part is this rank's rows of the state, as a checkpoint part: each
// tensor's rows as its range of elements.
func (s *Adagrad) part(local optim.State) checkpoint.Part {
	me := s.comm.Rank()
	p := checkpoint.Part{Index: me, Count: s.comm.Size(), Tensors: make([]checkpoint.PartTensor, len(s.tensors))}
	for i, t := range s.tensors {
		ls := local.Tensors[i]
		first, rows := t.owned(me)
		p.Tensors[i] = checkpoint.PartTensor{Name: t.name, Shape: slices.Clone(t.shape), Hyper: ls.Hyper, Step: ls.Step,
			Lo: first * t.width, Hi: (first + rows) * t.width, Param: ls.Param, State: ls.State}
	}
	return p
}

// wholeShapes gives a state of this rank's rows the whole tensors' shapes:
// on one rank, they are the whole tensors (a scalar's rows are shaped [1]).
func (s *Adagrad) wholeShapes(local optim.State) optim.State {
	for i, t := range s.tensors {
		local.Tensors[i].Shape = slices.Clone(t.shape)
	}
	return local
}

// wholeFile refuses a whole checkpoint file on more than one rank.
func (s *Adagrad) wholeFile(path string) error {
	if n := s.comm.Size(); n > 1 {
		return fmt.Errorf("%w: %s: %d ranks each write their own rows: save a %s manifest (checkpoint.Consolidate makes one %s file of it)",
			checkpoint.ErrPath, path, n, checkpoint.ManifestExt, checkpoint.Ext)
	}
	return nil
}

func badPath(path string) error {
	return fmt.Errorf("%w: %s: a sharded optimizer's checkpoint is a %s manifest, or a %s file on one rank",
		checkpoint.ErrPath, path, checkpoint.ManifestExt, checkpoint.Ext)
}

// CheckCheckpointPath reports whether SaveCheckpoint could write path: a
// .json manifest in a directory that exists and takes new files, or a
// .safetensors file on one rank. Every rank calls it; the ranks agree.
func (s *Adagrad) CheckCheckpointPath(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return optim.ErrClosed
	}
	var err error
	switch filepath.Ext(path) {
	case checkpoint.ManifestExt:
		err = checkpoint.CheckManifestPath(path)
	case checkpoint.Ext:
		if err = s.wholeFile(path); err == nil {
			err = checkpoint.CheckPath(path)
		}
	default:
		err = badPath(path)
	}
	return s.agree("CheckCheckpointPath", err, saveFingerprint(path, nil))
}

// LoadCheckpoint restores a checkpoint on any number of ranks, each rank
// reading only its own rows (checkpoint.LoadRanges): of a sharded
// checkpoint (its .json manifest) the part files that hold them, of a
// whole one (.safetensors, from one process or consolidated) the ranges
// of the file. Every file read is verified whole. The checkpoint must hold
// this optimizer's tensors (names, dtypes and shapes; order does not
// matter), and may have been saved by any number of ranks, or by one
// optim.Adagrad.
//
// accept, when not nil, sees the checkpoint's metadata before anything
// changes, and its error refuses the checkpoint. Everything is checked,
// and the ranks agree (on the tensors' steps and hyperparameters and on
// the metadata, so that every rank resumes the same checkpoint), before
// anything is loaded; pending gradients are dropped. Every rank calls it
// with the same path. A missing checkpoint is an error for which
// errors.Is(err, fs.ErrNotExist) holds on every rank that finds none; a
// part file missing is a damaged checkpoint.
func (s *Adagrad) LoadCheckpoint(path string, accept func(meta map[string]string) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return optim.ErrClosed
	}
	me := s.comm.Rank()
	ranges := make([]checkpoint.ElementRange, len(s.tensors))
	for i, t := range s.tensors {
		first, rows := t.owned(me)
		ranges[i] = checkpoint.ElementRange{Tensor: t.name, Lo: int64(first * t.width), Hi: int64((first + rows) * t.width)}
	}
	parts, meta, err := checkpoint.LoadRanges(path, ranges)
	var local optim.State
	var fp []byte
	if err == nil {
		local, err = s.ownedState(parts)
	}
	if err == nil && accept != nil {
		err = accept(meta)
	}
	if err == nil {
		fp = loadFingerprint(parts, meta)
	}
	if err := s.agree("LoadCheckpoint", err, fp); err != nil {
		return err
	}
	return s.loadLocal(local)
}

// ownedState checks what a checkpoint holds of this rank's rows against
// the model, and returns it as the local optimizer's state.
func (s *Adagrad) ownedState(parts []checkpoint.PartTensor) (optim.State, error) {
	me := s.comm.Rank()
	local := optim.State{Tensors: make([]optim.TensorState, len(s.tensors))}
	for i, t := range s.tensors {
		pt := parts[i]
		dt, _, err := device.DTypeOf(pt.Param)
		switch {
		case err != nil:
			return optim.State{}, err
		case dt != t.dt || !slices.Equal(pt.Shape, t.shape):
			return optim.State{}, fmt.Errorf("%w: tensor %q is %v of shape %v, the checkpoint's %v of shape %v",
				optim.ErrShape, t.name, t.dt, t.shape, dt, pt.Shape)
		case len(pt.State) != t.states():
			return optim.State{}, fmt.Errorf("%w: tensor %q's rule %v keeps %d states, the checkpoint has %d",
				optim.ErrShape, t.name, t.hyper.Rule, t.states(), len(pt.State))
		}
		_, rows := t.owned(me)
		lt := optim.TensorState{Name: t.name, Shape: slices.Clone(t.shape), Hyper: pt.Hyper, Step: pt.Step, Param: pt.Param, State: pt.State}
		if len(t.shape) == 0 {
			lt.Shape = []int{rows}
		} else {
			lt.Shape[0] = rows
		}
		local.Tensors[i] = lt
	}
	return local, nil
}

// loadLocal loads this rank's rows into the local optimizer, after the
// ranks agreed that every one can: the ranks then agree again on the
// outcome. Pending gradients are dropped.
func (s *Adagrad) loadLocal(local optim.State) error {
	err := s.local.LoadState(local)
	if err != nil {
		err = fmt.Errorf("sharded: rank %d: %w", s.comm.Rank(), err)
	}
	err = s.agree("LoadState", err, nil)
	s.syncHyper()
	for _, t := range s.tensors {
		t.pending, t.sparse = none, nil
	}
	return err
}

// saveFingerprint hashes what every rank must give SaveCheckpoint alike.
func saveFingerprint(path string, meta map[string]string) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "%q\n", path)
	writeMeta(h, meta)
	return h.Sum(nil)
}

// loadFingerprint hashes what every rank must have read alike: each
// tensor's description, step and hyperparameters, and the metadata.
func loadFingerprint(parts []checkpoint.PartTensor, meta map[string]string) []byte {
	h := sha256.New()
	for _, pt := range parts {
		fmt.Fprintf(h, "%q %v %d %+v\n", pt.Name, pt.Shape, pt.Step, pt.Hyper)
	}
	writeMeta(h, meta)
	return h.Sum(nil)
}

func writeMeta(h interface{ Write([]byte) (int, error) }, meta map[string]string) {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%q=%q\n", k, meta[k])
	}
}
