//go:build opencl

package opencl

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/adagrad-go/adagrad/device"
)

func init() { device.Register("opencl", driver{}) }

type driver struct{}

// Open takes "" (the first GPU, else the first device) or "P:D".
func (driver) Open(arg string) (device.Backend, error) {
	if arg == "" {
		infos, err := listDevices()
		if err != nil {
			return nil, err
		}
		if len(infos) == 0 {
			return nil, fmt.Errorf("%w: no OpenCL device (is an ICD installed?)", device.ErrUnavailable)
		}
		pick := infos[0]
		for _, in := range infos {
			if in.gpu {
				pick = in
				break
			}
		}
		return Open(pick.platform, pick.device)
	}
	ps, ds, ok := strings.Cut(arg, ":")
	p, err1 := strconv.Atoi(ps)
	d, err2 := strconv.Atoi(ds)
	if !ok || err1 != nil || err2 != nil || p < 0 || d < 0 {
		return nil, fmt.Errorf("%w: opencl spec %q: want opencl:PLATFORM:DEVICE", device.ErrUnavailable, "opencl:"+arg)
	}
	return Open(p, d)
}

func (driver) Devices() ([]device.Info, error) { return Devices() }

// Devices lists every OpenCL device, GPUs marked, with the specs that
// device.Open takes.
func Devices() ([]device.Info, error) {
	infos, err := listDevices()
	if err != nil {
		return nil, err
	}
	out := make([]device.Info, len(infos))
	for i, in := range infos {
		out[i] = device.Info{Spec: in.spec(), Name: in.name, GPU: in.gpu}
	}
	return out, nil
}
