//go:build cuda

package cuda

import (
	"fmt"
	"strconv"

	"gorgonia.org/cu"

	"github.com/adagrad-go/adagrad/device"
)

func init() { device.Register("cuda", driver{}) }

type driver struct{}

// Open takes "" (device 0) or "N".
func (driver) Open(arg string) (device.Backend, error) {
	if arg == "" {
		return Open(0)
	}
	n, err := strconv.Atoi(arg)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%w: cuda spec %q: want cuda or cuda:N", device.ErrUnavailable, "cuda:"+arg)
	}
	return Open(n)
}

func (driver) Devices() ([]device.Info, error) { return Devices() }

// Devices lists every CUDA device with the spec device.Open takes.
func Devices() ([]device.Info, error) {
	n, err := cu.NumDevices()
	if err != nil {
		return nil, wrap("cuDeviceGetCount", err)
	}
	out := make([]device.Info, n)
	for i := range n {
		name, err := cu.Device(i).Name()
		if err != nil {
			return nil, wrap("cuDeviceGetName", err)
		}
		out[i] = device.Info{Spec: fmt.Sprintf("cuda:%d", i), Name: name, GPU: true}
	}
	return out, nil
}
