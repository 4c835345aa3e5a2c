package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func temps(t *testing.T, path string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if isTemp(path, e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestWriteErrorKeepsOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.bin")
	if err := WriteFile(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		if _, err := w.Write([]byte("half")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "old" {
		t.Errorf("file holds %q after a failed write", b)
	}
	if left := temps(t, path); len(left) > 0 {
		t.Errorf("temporaries left: %v", left)
	}
}

func TestCleanRemovesStaleKeepsLiveAndOthers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.safetensors")
	stale := []string{
		filepath.Join(dir, tempPrefix(path)+"0123456789abcdef"),
		filepath.Join(dir, tempPrefix(path)+"4242424242"), // os.CreateTemp's pattern, used before
	}
	keep := []string{
		filepath.Join(dir, ".other.safetensors.tmp-0123"),        // another file's
		filepath.Join(dir, tempPrefix(path)+"notours"),           // not a suffix of ours
		filepath.Join(dir, "run.safetensors.tmp-0123456789abcd"), // not hidden
	}
	for _, p := range append(stale, keep...) {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	live, err := create(path) // a write in progress, as another process holds it
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := WriteFile(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stale temporary %s kept (err %v)", p, err)
		}
	}
	for _, p := range append(keep, live.Name()) {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	if runtime.GOOS != "windows" {
		if err := live.Close(); err != nil {
			t.Fatal(err)
		}
		if err := Clean(path); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(live.Name()); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("temporary of an ended write kept after Clean")
		}
	}
}

func TestCleanMatching(t *testing.T) {
	dir := t.TempDir()
	names := map[string]bool{ // whether CleanMatching removes it
		".run.0-of-2.ab.safetensors.tmp-0123": true,
		".run.1-of-2.cd.safetensors.tmp-4567": true,
		".other.safetensors.tmp-0123":         false,
		"run.0-of-2.ab.safetensors":           false,
		".run.0-of-2.ab.safetensors.tmp-xyz":  false,
	}
	for n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	err := CleanMatching(dir, func(target string) bool { return strings.HasPrefix(target, "run.") })
	if err != nil {
		t.Fatal(err)
	}
	for n, gone := range names {
		_, err := os.Stat(filepath.Join(dir, n))
		if removed := errors.Is(err, fs.ErrNotExist); removed != gone {
			t.Errorf("%s: removed = %v, want %v", n, removed, gone)
		}
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	if err := Check(filepath.Join(dir, "new.bin")); err != nil {
		t.Errorf("writable directory: %v", err)
	}
	if err := Check(filepath.Join(dir, "missing", "x.bin")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing directory: err = %v", err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Check(sub); err == nil {
		t.Errorf("a directory as the file accepted")
	}
	if err := WriteFile(sub, []byte("x")); err == nil {
		t.Errorf("wrote over a directory")
	}
	if left, err := os.ReadDir(dir); err != nil || len(left) != 1 {
		t.Errorf("Check left files: %v (%v)", left, err)
	}
	if os.Geteuid() != 0 && runtime.GOOS != "windows" {
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		if err := Check(filepath.Join(ro, "x.bin")); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("read-only directory: err = %v", err)
		}
	}
}

func TestWriteLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.bin")
	data := bytes.Repeat([]byte{1, 2, 3}, 1<<20)
	if err := WriteFile(path, data); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("content differs")
	}
}
