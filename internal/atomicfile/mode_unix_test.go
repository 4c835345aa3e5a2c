//go:build unix

package atomicfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestWriteReplacesAndKeepsMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.bin")
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	if err := WriteFile(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o640 {
		t.Errorf("new file has mode %v, want 0644 less umask 027 = 0640", got)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err = os.Stat(path); err != nil {
		t.Fatal(err)
	}
	if string(b) != "two" || fi.Mode().Perm() != 0o600 {
		t.Errorf("after replacing: %q with mode %v, want \"two\" with 0600", b, fi.Mode().Perm())
	}
	if left := temps(t, path); len(left) > 0 {
		t.Errorf("temporaries left: %v", left)
	}
}
