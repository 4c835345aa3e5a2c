package device

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
)

// EnvVar names the environment variable that Open("") reads.
const EnvVar = "ADAGRAD_DEVICE"

// autoOrder is the preference of "auto": CUDA devices, then OpenCL GPUs, then
// the CPU.
var autoOrder = []string{"cuda", "opencl"}

var (
	driversMu sync.RWMutex
	drivers   = map[string]Driver{}
)

// Register makes a driver available under name ("cpu", "cuda", "opencl").
// Backends call it from init. As database/sql's Register does, it panics
// when the driver is nil or the name is taken, empty, "auto" or has a
// colon: those are programming errors of the backend, found at start-up.
func Register(name string, d Driver) {
	driversMu.Lock()
	defer driversMu.Unlock()
	switch {
	case d == nil:
		panic(fmt.Sprintf("device: Register %q: nil driver", name))
	case name == "" || name == "auto" || strings.Contains(name, ":"):
		panic(fmt.Sprintf("device: Register: invalid backend name %q", name))
	}
	if _, dup := drivers[name]; dup {
		panic(fmt.Sprintf("device: Register called twice for backend %q", name))
	}
	drivers[name] = d
}

// Backends returns the sorted names of the registered drivers.
func Backends() []string {
	driversMu.RLock()
	defer driversMu.RUnlock()
	return backendsLocked()
}

func driver(name string) (Driver, error) {
	driversMu.RLock()
	defer driversMu.RUnlock()
	d, ok := drivers[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (forgotten import or build tag?); registered: %s",
			ErrUnknownBackend, name, registered())
	}
	return d, nil
}

// backendsLocked is Backends for a caller holding driversMu.
func backendsLocked() []string {
	names := make([]string, 0, len(drivers))
	for n := range drivers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// registered names the registered backends for an error message.
func registered() string {
	if names := backendsLocked(); len(names) > 0 {
		return strings.Join(names, ", ")
	}
	return "none"
}

// Resolve turns a spec into the concrete spec that Open would use: "" becomes
// $ADAGRAD_DEVICE or "auto", and "auto" becomes the first CUDA device, the
// first OpenCL GPU, or "cpu", among the registered backends.
func Resolve(spec string) (string, error) {
	resolved, err := resolve(spec)
	if err != nil && strings.TrimSpace(spec) == "" {
		if env := strings.TrimSpace(os.Getenv(EnvVar)); env != "" {
			err = fmt.Errorf("%s=%q: %w", EnvVar, env, err)
		}
	}
	return resolved, err
}

func resolve(spec string) (string, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		spec = strings.TrimSpace(os.Getenv(EnvVar))
	}
	if spec != "" && spec != "auto" {
		return spec, nil
	}
	var tried []string
	for _, name := range autoOrder {
		d, err := driver(name)
		if err != nil {
			continue
		}
		l, ok := d.(Lister)
		if !ok {
			continue
		}
		infos, err := l.Devices()
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		for _, in := range infos {
			if in.GPU {
				return in.Spec, nil
			}
		}
		tried = append(tried, name+": no GPU")
	}
	if _, err := driver("cpu"); err == nil {
		return "cpu", nil
	}
	driversMu.RLock()
	names := registered()
	driversMu.RUnlock()
	return "", fmt.Errorf("%w: auto found no device (%s); registered: %s (forgotten import or build tag?)",
		ErrUnavailable, strings.Join(tried, "; "), names)
}

// Open resolves spec (see Resolve) and opens that device. A spec is a
// backend name, optionally followed by a colon and a backend-specific
// argument: "cpu", "cuda", "cuda:1", "opencl", "opencl:0:1", "auto" or "".
func Open(spec string) (Backend, error) {
	resolved, err := Resolve(spec)
	if err != nil {
		return nil, err
	}
	b, err := open(resolved)
	if err != nil && strings.TrimSpace(spec) == "" {
		if env := strings.TrimSpace(os.Getenv(EnvVar)); env != "" {
			err = fmt.Errorf("%s=%q: %w", EnvVar, env, err)
		}
	}
	if err == nil && resolved != spec {
		slog.Debug("adagrad: device picked", "spec", spec, "device", b.String())
	}
	return b, err
}

func open(resolved string) (Backend, error) {
	name, arg, _ := strings.Cut(resolved, ":")
	d, err := driver(name)
	if err != nil {
		return nil, err
	}
	b, err := d.Open(arg)
	if err != nil {
		if !errors.Is(err, ErrUnavailable) {
			err = fmt.Errorf("%w: %s: %w", ErrUnavailable, resolved, err)
		}
		return nil, err
	}
	return b, nil
}

// Devices lists the devices of one registered backend, when its driver can
// list them (device.Lister); otherwise the backend's default device.
func Devices(name string) ([]Info, error) {
	d, err := driver(name)
	if err != nil {
		return nil, err
	}
	if l, ok := d.(Lister); ok {
		return l.Devices()
	}
	return []Info{{Spec: name}}, nil
}
