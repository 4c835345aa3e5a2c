package checkpoint

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/adagrad-go/adagrad/internal/atomicfile"
	"github.com/adagrad-go/adagrad/optim"
)

// Ext is the extension of checkpoint files (and of PyTorch's safetensors
// files).
const Ext = ".safetensors"

// ErrPath: a path where no checkpoint can be written (unknown extension).
var ErrPath = errors.New("checkpoint: bad path")

// pathErr names the file an error is about, once.
func pathErr(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// CheckPath reports whether Save could write a checkpoint at path: its
// extension is Ext, its directory exists and takes new files, and path is
// not a directory. Check paths when a program is given them, not after a
// long run.
func CheckPath(path string) error {
	if filepath.Ext(path) != Ext {
		return fmt.Errorf("%w: %s: want a %s file", ErrPath, path, Ext)
	}
	if err := atomicfile.Check(path); err != nil {
		return pathErr(path, err)
	}
	return nil
}

// Save writes st and the caller's metadata to path as a checkpoint (see
// Write), atomically: through a temporary file in the same directory,
// synced and renamed into place, so that a crash leaves the old checkpoint
// or the new one. The file keeps the mode of the one it replaces (0644 less
// the umask for a new one), and temporaries left by interrupted saves of
// the same path are removed. The state is checked before anything is
// written. Errors name the file.
func Save(path string, st optim.State, meta map[string]string) error {
	e, err := encode(wholeRecords(st), meta, nil)
	if err != nil {
		return pathErr(path, err)
	}
	if err := writeAtomic(path, e); err != nil {
		return pathErr(path, err)
	}
	return nil
}

// writeAtomic writes an encoded file to path atomically.
func writeAtomic(path string, e *encoder) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := e.writeTo(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// Load reads and verifies the checkpoint at path (see Read) and returns
// its state and the caller's metadata. It first removes temporaries that
// interrupted saves of path left behind. Errors name the file; a missing
// file is an error for which errors.Is(err, fs.ErrNotExist) holds.
func Load(path string) (optim.State, map[string]string, error) {
	// Best effort: a stale temporary costs disk space, not correctness.
	_ = atomicfile.Clean(path)
	var st optim.State
	var meta map[string]string
	err := readFile(path, func(r io.Reader, size int64) error {
		var err error
		st, meta, err = Read(r, size)
		return err
	})
	return st, meta, err
}

// readFile opens a regular file and hands read a buffered reader and its
// size; errors name the file.
func readFile(path string, read func(r io.Reader, size int64) error) error {
	f, err := os.Open(path)
	if err != nil {
		return pathErr(path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return pathErr(path, err)
	}
	if !fi.Mode().IsRegular() {
		return pathErr(path, fail("not a regular file"))
	}
	if err := read(bufio.NewReaderSize(f, 64<<10), fi.Size()); err != nil {
		return pathErr(path, err)
	}
	return nil
}
