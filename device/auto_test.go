package device

import (
	"errors"
	"testing"
)

type listDriver struct {
	infos []Info
	err   error
}

func (listDriver) Open(string) (Backend, error) { return nil, errors.New("not in this test") }
func (l listDriver) Devices() ([]Info, error)   { return l.infos, l.err }

// withDrivers swaps the registry for the duration of a test.
func withDrivers(t *testing.T, ds map[string]Driver) {
	driversMu.Lock()
	saved := drivers
	drivers = ds
	driversMu.Unlock()
	t.Cleanup(func() {
		driversMu.Lock()
		drivers = saved
		driversMu.Unlock()
	})
}

func TestAutoOrder(t *testing.T) {
	t.Setenv(EnvVar, "")
	cpuOnly := listDriver{infos: []Info{{Spec: "cpu"}}}
	oclCPU := listDriver{infos: []Info{{Spec: "opencl:0:0"}}}
	oclGPU := listDriver{infos: []Info{{Spec: "opencl:0:0"}, {Spec: "opencl:1:0", GPU: true}}}
	cuda := listDriver{infos: []Info{{Spec: "cuda:0", GPU: true}, {Spec: "cuda:1", GPU: true}}}
	broken := listDriver{err: errors.New("no driver")}
	cases := []struct {
		drivers map[string]Driver
		want    string
	}{
		{map[string]Driver{"cpu": cpuOnly}, "cpu"},
		{map[string]Driver{"cpu": cpuOnly, "opencl": oclCPU}, "cpu"},
		{map[string]Driver{"cpu": cpuOnly, "opencl": oclGPU}, "opencl:1:0"},
		{map[string]Driver{"cpu": cpuOnly, "opencl": oclGPU, "cuda": cuda}, "cuda:0"},
		{map[string]Driver{"cpu": cpuOnly, "opencl": oclGPU, "cuda": broken}, "opencl:1:0"},
	}
	for _, c := range cases {
		withDrivers(t, c.drivers)
		if got, err := Resolve("auto"); got != c.want || err != nil {
			t.Errorf("auto with %d drivers = %q, %v; want %q", len(c.drivers), got, err, c.want)
		}
	}
	withDrivers(t, map[string]Driver{"cuda": broken})
	if _, err := Resolve("auto"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("auto with only a broken cuda: err = %v, want ErrUnavailable", err)
	}
}
