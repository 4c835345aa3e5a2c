// Package atomicfile replaces files so that a crash, a kill or a full disk
// leaves either the old file or the new one, never a part: the new content
// goes to a temporary file in the same directory, which is synced, renamed
// over the file, and the directory synced. Temporaries left by interrupted
// writes of the same file are removed by the next write (and by Clean).
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// tempPrefix is the start of the name of path's temporaries: hidden, and
// named after the file so that Clean finds exactly its own.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// tempTarget returns the base name of the file that name (a base name) is a
// temporary of: "." + target + ".tmp-" + hexadecimal digits (this package's
// random suffix, or the decimal one of the os.CreateTemp pattern used
// before), or false.
func tempTarget(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, ".")
	i := strings.LastIndex(rest, ".tmp-")
	if !ok || i <= 0 {
		return "", false
	}
	suffix := rest[i+len(".tmp-"):]
	if len(suffix) == 0 || len(suffix) > 32 {
		return "", false
	}
	for _, c := range suffix {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", false
		}
	}
	return rest[:i], true
}

// isTemp reports whether name (a base name) is one of path's temporaries.
func isTemp(path, name string) bool {
	target, ok := tempTarget(name)
	return ok && target == filepath.Base(path)
}

// Write replaces path with what write writes, atomically. The file keeps
// the mode of the file it replaces, or gets 0644 (less the umask) when it is
// new. On error path is unchanged and the temporary is removed. Stale
// temporaries of path (from writes that were killed) are removed first.
func Write(path string, write func(io.Writer) error) (err error) {
	mode := fs.FileMode(0)
	switch fi, err := os.Stat(path); {
	case err == nil && !fi.Mode().IsRegular():
		return fmt.Errorf("atomicfile: %s is not a regular file", path)
	case err == nil:
		mode = fi.Mode().Perm()
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	// Best effort: a temporary that cannot be removed costs disk space, not
	// correctness, and must not fail the write.
	_ = Clean(path)

	f, err := create(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if mode != 0 {
		if err = f.Chmod(mode); err != nil {
			return err
		}
	}
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = commit(f, path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// WriteFile is Write of a byte slice.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Check reports whether path could be written by Write: its directory
// exists and takes new files, and path is not something other than a
// regular file. It creates and removes one temporary to find out.
func Check(path string) error {
	dir := filepath.Dir(path)
	switch fi, err := os.Stat(dir); {
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("atomicfile: %s is not a directory", dir)
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("atomicfile: %s is not a regular file", path)
	}
	f, err := create(path)
	if err != nil {
		return err
	}
	return errors.Join(f.Close(), os.Remove(f.Name()))
}

// create makes a new temporary beside path, locked against Clean.
func create(path string) (*os.File, error) {
	var suffix [8]byte
	for range 10 {
		rand.Read(suffix[:]) // never fails (crypto/rand)
		name := filepath.Join(filepath.Dir(path), tempPrefix(path)+hex.EncodeToString(suffix[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := lock(f); err != nil {
			f.Close()
			os.Remove(name)
			return nil, err
		}
		return f, nil
	}
	return nil, fmt.Errorf("atomicfile: no free temporary name beside %s", path)
}

// Clean removes the temporaries of path that interrupted writes left
// behind. A temporary that a write in progress holds (locked, on systems
// with file locks) is kept.
func Clean(path string) error {
	base := filepath.Base(path)
	return CleanMatching(filepath.Dir(path), func(target string) bool { return target == base })
}

// CleanMatching is Clean for every file of dir whose base name match
// accepts: for files whose names are not known in advance (the shards of a
// checkpoint, named by their content).
func CleanMatching(dir string, match func(target string) bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if target, ok := tempTarget(e.Name()); ok && e.Type().IsRegular() && match(target) {
			errs = append(errs, removeUnlocked(filepath.Join(dir, e.Name())))
		}
	}
	return errors.Join(errs...)
}

// syncDir makes a rename in dir durable. Best effort: not every file
// system can sync a directory, and the rename itself has happened.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
