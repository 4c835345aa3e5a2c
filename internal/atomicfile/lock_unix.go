//go:build unix

package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// lock takes an exclusive advisory lock on a temporary being written. The
// system drops it when the process ends, however it ends, which is what
// tells a stale temporary from one in use.
func lock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err
		}
	}
}

// removeUnlocked removes a temporary unless a write in progress holds it.
func removeUnlocked(name string) error {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := lock(f); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil // in use
		}
		return err
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// commit renames the temporary over path while it is still open (and
// locked), so that no Clean elsewhere takes it for a stale one, then closes
// it. On error the caller removes the temporary.
func commit(f *os.File, path string) error {
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return f.Close()
}
