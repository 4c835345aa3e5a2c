package devicetest

import (
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// Devices returns the devices list reports, and skips the test or
// benchmark when there is none.
func Devices(tb testing.TB, list func() ([]device.Info, error)) []device.Info {
	tb.Helper()
	infos, err := list()
	if err != nil {
		tb.Fatal(err)
	}
	if len(infos) == 0 {
		tb.Skip("no device of this backend here")
	}
	return infos
}

// OpenSpec is the Opener of one device spec.
func OpenSpec(spec string) Opener {
	return func() (device.Backend, error) { return device.Open(spec) }
}

// RunDevices runs the whole suite on every device list reports, as
// subtests named by spec: a multi-device backend's test in one line.
func RunDevices(t *testing.T, list func() ([]device.Info, error)) { EachDevice(t, list, Run) }

// EachDevice runs suite (Run, one layer, or another package's suite such
// as optimtest.Run) on every device list reports, as subtests named by
// spec.
func EachDevice(t *testing.T, list func() ([]device.Info, error), suite func(*testing.T, Opener)) {
	for _, d := range Devices(t, list) {
		t.Run(d.Spec, func(t *testing.T) {
			dev, err := device.Open(d.Spec)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%v", dev)
			if err := dev.Close(); err != nil {
				t.Fatal(err)
			}
			suite(t, OpenSpec(d.Spec))
		})
	}
}

// BenchDevices runs bench (Bench or BenchSparse) on every device list
// reports.
func BenchDevices(b *testing.B, list func() ([]device.Info, error), bench func(*testing.B, Opener)) {
	for _, d := range Devices(b, list) {
		b.Run(d.Spec, func(b *testing.B) { bench(b, OpenSpec(d.Spec)) })
	}
}
