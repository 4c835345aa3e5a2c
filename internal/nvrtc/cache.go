//go:build cuda

package nvrtc

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/adagrad-go/adagrad/internal/atomicfile"
)

// CacheEnv names the environment variable that controls the on-disk cache
// of compiled kernels: unset or empty for the user cache directory
// (os.UserCacheDir()/adagrad-go/nvrtc), "off" for no cache, or a directory.
const CacheEnv = "ADAGRAD_NVRTC_CACHE"

// CacheDir returns the cache directory, or "" when caching is off.
func CacheDir() string {
	switch v := strings.TrimSpace(os.Getenv(CacheEnv)); v {
	case "off":
		return ""
	case "":
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(base, "adagrad-go", "nvrtc")
	default:
		return v
	}
}

// key names a compiled image by everything that determines it: the source,
// the options, the target and the NVRTC version.
func key(src string, arch int, ptx bool, version int) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00arch=%d ptx=%v nvrtc=%d", src, strings.Join(Options, " "), arch, ptx, version)
	return hex.EncodeToString(h.Sum(nil))
}

// CompileCached is Compile through the on-disk cache. A cached image is
// trusted only as far as its name (a hash of all inputs); the caller
// recompiles with Compile when the driver refuses to load it.
func CompileCached(src, name string, arch int, ptx bool) (img Image, cached bool, err error) {
	version, err := Version()
	if err != nil {
		return Image{}, false, err
	}
	dir := CacheDir()
	var path string
	if dir != "" {
		ext := ".cubin"
		if ptx {
			ext = ".ptx"
		}
		path = filepath.Join(dir, key(src, arch, ptx, version)+ext)
		if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
			return Image{Data: data, PTX: ptx, Arch: arch}, true, nil
		}
	}
	if img, err = Compile(src, name, arch, ptx); err != nil {
		return Image{}, false, err
	}
	if path != "" {
		// A cache that cannot be written costs a compile next time, nothing
		// more, so the error is dropped.
		if os.MkdirAll(filepath.Dir(path), 0o755) == nil {
			_ = atomicfile.WriteFile(path, img.Data)
		}
	}
	return img, false, nil
}

// Forget removes a cached image (one the driver refused).
func Forget(src string, arch int, ptx bool) error {
	dir := CacheDir()
	if dir == "" {
		return nil
	}
	version, err := Version()
	if err != nil {
		return err
	}
	ext := ".cubin"
	if ptx {
		ext = ".ptx"
	}
	err = os.Remove(filepath.Join(dir, key(src, arch, ptx, version)+ext))
	if os.IsNotExist(err) {
		return nil
	}
	return err
}
