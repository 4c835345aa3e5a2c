//go:build opencl

package opencl_test

import (
	"errors"
	"testing"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/device/devicetest"
	"github.com/adagrad-go/adagrad/opencl"
)

// devices lists every OpenCL device present; the suite runs on each.
func devices(tb testing.TB) []device.Info {
	infos, err := opencl.Devices()
	if err != nil {
		tb.Fatal(err)
	}
	if len(infos) == 0 {
		tb.Skip("no OpenCL device (install pocl-opencl-icd for one on the CPU)")
	}
	return infos
}

func opener(spec string) devicetest.Opener {
	return func() (device.Backend, error) { return device.Open(spec) }
}

func TestConformance(t *testing.T) {
	for _, d := range devices(t) {
		t.Run(d.Spec, func(t *testing.T) {
			t.Logf("%s: %s", d.Spec, d.Name)
			devicetest.Run(t, opener(d.Spec))
		})
	}
}

func BenchmarkAdagrad(b *testing.B) {
	for _, d := range devices(b) {
		b.Run(d.Spec, func(b *testing.B) { devicetest.Bench(b, opener(d.Spec)) })
	}
}

func BenchmarkSparse(b *testing.B) {
	for _, d := range devices(b) {
		b.Run(d.Spec, func(b *testing.B) { devicetest.BenchSparse(b, opener(d.Spec)) })
	}
}

func TestOpenErrors(t *testing.T) {
	for _, spec := range []string{"opencl:99:0", "opencl:0:99", "opencl:x", "opencl:0:-1"} {
		if _, err := device.Open(spec); !errors.Is(err, device.ErrUnavailable) {
			t.Errorf("Open(%q): err = %v, want ErrUnavailable", spec, err)
		}
	}
}

func TestAutoPrefersGPU(t *testing.T) {
	infos := devices(t)
	got, err := device.Resolve("auto")
	if err != nil {
		t.Fatal(err)
	}
	want := "cpu"
	for _, in := range infos {
		if in.GPU {
			want = in.Spec
			break
		}
	}
	if got != want {
		t.Errorf("auto = %q, want %q", got, want)
	}
}
