package cmdflag

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/adagrad-go/adagrad/device"
)

// Int refuses v outside lo..hi.
func Int(flag string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("-%s %d: want %d to %d", flag, v, lo, hi)
	}
	return nil
}

// Float refuses v outside lo..hi, NaN included.
func Float(flag string, v, lo, hi float64) error {
	if !(v >= lo && v <= hi) {
		return fmt.Errorf("-%s %g: want %g to %g", flag, v, lo, hi)
	}
	return nil
}

// Device refuses a device spec whose backend is not built into the
// program (registered with the device package). Whether the device itself
// opens is known only by opening it.
func Device(flag, spec string) error {
	name, _, _ := strings.Cut(strings.TrimSpace(spec), ":")
	if name == "" || name == "auto" || slices.Contains(device.Backends(), name) {
		return nil
	}
	return fmt.Errorf("-%s %s: unknown backend %q (built in: %s; cuda and opencl need -tags cuda or -tags opencl)",
		flag, spec, name, strings.Join(device.Backends(), ", "))
}

// Input refuses an input file that is missing or not a regular file; an
// empty path is no file and passes.
func Input(flag, path string) error {
	if path == "" {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("-%s: %w", flag, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("-%s %s: not a regular file", flag, path)
	}
	return nil
}

// Output refuses an output file whose name ends in none of exts (".csv",
// compared without case), or that cannot be created or written. It leaves
// an existing file as it was, and tries a new one by creating (and
// removing) a temporary beside it, never the file itself: the ranks of an
// MPI job check their flags at once, and one rank must not see a file
// that another made to try. An empty path is no file and passes.
func Output(flag, path string, exts ...string) error {
	if path == "" {
		return nil
	}
	if !slices.Contains(exts, strings.ToLower(filepath.Ext(path))) {
		return fmt.Errorf("-%s %s: want a file name ending in %s", flag, path, strings.Join(exts, " or "))
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("-%s: %w", flag, err)
		}
		return f.Close()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".check-*")
	if err != nil {
		return fmt.Errorf("-%s: %w", flag, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// First returns the first error that is not nil, to report one line when
// several checks fail.
func First(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
