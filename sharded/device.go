package sharded

import (
	"fmt"
	"os"
	"strings"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/device"
)

// LocalDevice returns the device that this process, one rank of a job
// started by a launcher (mpirun), opens for spec, so that the ranks on a
// machine spread over its GPUs, one rank per GPU, by their rank on the
// machine (collective.LocalRank):
//
//   - "" is $ADAGRAD_DEVICE, else "auto", as for device.Open;
//   - "auto": among the GPUs that "auto" picks from (CUDA devices, then
//     OpenCL GPUs, of the registered backends), the local rank's, modulo
//     their number; "cpu" where there is none;
//   - "cuda": "cuda:L" for local rank L, modulo the number of CUDA devices;
//   - "opencl": the local rank's OpenCL GPU, modulo their number (or
//     device, where there is no GPU);
//   - any other spec ("cuda:1", "opencl:0:1", "cpu") names one device,
//     and every rank opens it.
//
// More ranks on a machine than GPUs share them, in turn. Outside a
// launcher spec is returned as it is: a single process opens what
// device.Open would open.
func LocalDevice(spec string) (string, error) {
	local, ok := collective.LocalRank()
	if !ok {
		return spec, nil
	}
	return deviceFor(spec, local)
}

// deviceFor is LocalDevice for local rank local.
func deviceFor(spec string, local int) (string, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		s = strings.TrimSpace(os.Getenv(device.EnvVar))
	}
	switch s {
	case "", "auto":
		var gpus []string
		for _, name := range []string{"cuda", "opencl"} { // device.Open's order for "auto"
			infos, err := device.Devices(name)
			if err != nil {
				continue // not registered, or no driver: as "auto" goes on
			}
			for _, in := range infos {
				if in.GPU {
					gpus = append(gpus, in.Spec)
				}
			}
		}
		if len(gpus) == 0 {
			return "cpu", nil
		}
		return gpus[local%len(gpus)], nil
	case "cuda", "opencl":
		infos, err := device.Devices(s)
		if err != nil {
			return "", fmt.Errorf("sharded: device for local rank %d: %w", local, err)
		}
		var specs, gpus []string
		for _, in := range infos {
			specs = append(specs, in.Spec)
			if in.GPU {
				gpus = append(gpus, in.Spec)
			}
		}
		if len(gpus) > 0 {
			specs = gpus
		}
		if len(specs) == 0 {
			return "", fmt.Errorf("%w: sharded: device for local rank %d: no %s device", device.ErrUnavailable, local, s)
		}
		return specs[local%len(specs)], nil
	}
	return spec, nil
}
