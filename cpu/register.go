package cpu

import (
	"fmt"

	"github.com/adagrad-go/adagrad/device"
)

func init() { device.Register("cpu", driver{}) }

type driver struct{}

func (driver) Open(arg string) (device.Backend, error) {
	if arg != "" && arg != "0" {
		return nil, fmt.Errorf("%w: cpu has one device, not %q", device.ErrUnavailable, arg)
	}
	return New(), nil
}

func (driver) Devices() ([]device.Info, error) {
	return []device.Info{{Spec: "cpu", Name: "Go on the host CPU"}}, nil
}
