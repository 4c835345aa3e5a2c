package device_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
)

type fakeDriver struct {
	gpus []device.Info
	err  error
}

func (f fakeDriver) Open(arg string) (device.Backend, error) {
	if f.err != nil {
		return nil, f.err
	}
	return cpu.New(), nil
}

func (f fakeDriver) Devices() ([]device.Info, error) { return f.gpus, f.err }

// panics reports whether f panics.
func panics(f func()) (did bool) {
	defer func() { did = recover() != nil }()
	f()
	return false
}

func TestRegister(t *testing.T) {
	device.Register("zz-dup", fakeDriver{})
	if !panics(func() { device.Register("zz-dup", fakeDriver{}) }) {
		t.Errorf("registering zz-dup twice did not panic")
	}
	for _, name := range []string{"", "auto", "a:b"} {
		if !panics(func() { device.Register(name, fakeDriver{}) }) {
			t.Errorf("Register(%q) did not panic", name)
		}
	}
	if !panics(func() { device.Register("nil", nil) }) {
		t.Errorf("Register of a nil driver did not panic")
	}
	device.Register("zz-test", fakeDriver{})
	names := device.Backends()
	if !slices.IsSorted(names) || !slices.Contains(names, "cpu") || !slices.Contains(names, "zz-test") {
		t.Errorf("Backends() = %v", names)
	}
}

func TestOpen(t *testing.T) {
	t.Setenv(device.EnvVar, "")
	dev, err := device.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if !strings.HasPrefix(dev.String(), "cpu") {
		t.Errorf("String() = %q", dev.String())
	}
	for _, spec := range []string{"auto", "", "  "} {
		got, err := device.Resolve(spec)
		if err != nil || got != "cpu" {
			t.Errorf("Resolve(%q) = %q, %v; want cpu (no GPU backend here)", spec, got, err)
		}
	}
	_, err = device.Open("cuda:1")
	if !errors.Is(err, device.ErrUnknownBackend) || !strings.Contains(err.Error(), "forgotten import or build tag?") ||
		!strings.Contains(err.Error(), "cpu") {
		t.Errorf("Open(cuda:1) without the cuda backend: %v", err)
	}
	if _, err := device.Open("cpu:3"); !errors.Is(err, device.ErrUnavailable) {
		t.Errorf("Open(cpu:3): err = %v, want ErrUnavailable", err)
	}
}

func TestEnvironment(t *testing.T) {
	t.Setenv(device.EnvVar, "nosuch")
	if _, err := device.Open(""); !errors.Is(err, device.ErrUnknownBackend) || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("Open(\"\") with %s=nosuch: %v", device.EnvVar, err)
	}
	t.Setenv(device.EnvVar, "cpu")
	if got, err := device.Resolve(""); got != "cpu" || err != nil {
		t.Errorf("Resolve(\"\") with %s=cpu = %q, %v", device.EnvVar, got, err)
	}
	// An explicit spec wins over the environment.
	t.Setenv(device.EnvVar, "nosuch")
	if got, err := device.Resolve("cpu"); got != "cpu" || err != nil {
		t.Errorf("Resolve(cpu) = %q, %v", got, err)
	}
}
