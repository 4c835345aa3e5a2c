//go:build cuda

package cuda_test

import (
	"errors"
	"testing"

	"github.com/adagrad-go/adagrad/cuda"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/device/devicetest"
	"github.com/adagrad-go/adagrad/optim/optimtest"
)

// gorgonia.org/cu ends the process in its init when the driver has no
// device, so these tests only start on a machine with a GPU; the bundle's
// run.sh checks for one first.

func TestConformance(t *testing.T) { devicetest.RunDevices(t, cuda.Devices) }

func TestOptimizer(t *testing.T) { devicetest.EachDevice(t, cuda.Devices, optimtest.Run) }

func BenchmarkAdagrad(b *testing.B) { devicetest.BenchDevices(b, cuda.Devices, devicetest.Bench) }

func BenchmarkSparse(b *testing.B) {
	devicetest.BenchDevices(b, cuda.Devices, devicetest.BenchSparse)
}

func TestOpenErrors(t *testing.T) {
	n := len(devicetest.Devices(t, cuda.Devices))
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
	devicetest.Devices(t, cuda.Devices)
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
