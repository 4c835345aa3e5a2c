//go:build !unix

package atomicfile

import (
	"errors"
	"io/fs"
	"os"
)

// lock does nothing where there are no flock locks: on Windows an open
// temporary cannot be removed, which keeps it from Clean all the same.
func lock(*os.File) error { return nil }

// removeUnlocked removes a temporary.
func removeUnlocked(name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// commit closes the temporary, then renames it over path: Windows does not
// rename an open file.
func commit(f *os.File, path string) error {
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
