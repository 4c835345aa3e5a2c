//go:build cuda

package cuda_test

import (
	"errors"
	"testing"

	"github.com/adagrad-go/adagrad/cuda"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/device/devicetest"
)

// gorgonia.org/cu ends the process in its init when the driver has no
// device, so these tests only start on a machine with a GPU; the bundle's
// run.sh checks for one first.

func devices(tb testing.TB) []device.Info {
	infos, err := cuda.Devices()
	if err != nil {
		tb.Fatal(err)
	}
	if len(infos) == 0 {
		tb.Skip("no CUDA device")
	}
	return infos
}

func opener(spec string) devicetest.Opener {
	return func() (device.Backend, error) { return device.Open(spec) }
}

func TestConformance(t *testing.T) {
	for _, d := range devices(t) {
		t.Run(d.Spec, func(t *testing.T) {
			dev, err := device.Open(d.Spec)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%v", dev)
			dev.Close()
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
	n := len(devices(t))
	for _, spec := range []string{"cuda:-1", "cuda:x", "cuda:99"} {
		if _, err := device.Open(spec); !errors.Is(err, device.ErrUnavailable) {
			t.Errorf("Open(%q) with %d devices: err = %v, want ErrUnavailable", spec, n, err)
		}
	}
	if got, err := device.Resolve("auto"); err != nil || got != "cuda:0" {
		t.Errorf("auto = %q, %v; want cuda:0", got, err)
	}
}

func TestOutOfMemory(t *testing.T) {
	devices(t)
	dev, err := device.Open("cuda")
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	// 2^40 float64 is 8 TiB: more than any card holds.
	if _, err := dev.Alloc(device.Float64, 1<<40); err == nil {
		t.Fatal("allocating 8 TiB succeeded")
	}
	// The device still works.
	b, err := dev.Alloc(device.Float32, 4)
	if err != nil {
		t.Fatalf("Alloc after an out-of-memory error: %v", err)
	}
	if err := dev.Write(b, 0, []float32{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
}
