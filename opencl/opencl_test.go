//go:build opencl

package opencl_test

import (
	"errors"
	"testing"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/device/devicetest"
	"github.com/adagrad-go/adagrad/opencl"
	"github.com/adagrad-go/adagrad/optim/optimtest"
)

func TestConformance(t *testing.T) { devicetest.RunDevices(t, opencl.Devices) }

func TestOptimizer(t *testing.T) { devicetest.EachDevice(t, opencl.Devices, optimtest.Run) }

func BenchmarkAdagrad(b *testing.B) { devicetest.BenchDevices(b, opencl.Devices, devicetest.Bench) }

func BenchmarkSparse(b *testing.B) {
	devicetest.BenchDevices(b, opencl.Devices, devicetest.BenchSparse)
}

func TestOpenErrors(t *testing.T) {
	for _, spec := range []string{"opencl:99:0", "opencl:0:99", "opencl:x", "opencl:0:-1"} {
		if _, err := device.Open(spec); !errors.Is(err, device.ErrUnavailable) {
			t.Errorf("Open(%q): err = %v, want ErrUnavailable", spec, err)
		}
	}
}

func TestAutoPrefersGPU(t *testing.T) {
	infos := devicetest.Devices(t, opencl.Devices)
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
