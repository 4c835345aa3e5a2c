package sharded_test

import (
	"os"
	"testing"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/sharded"
)

// twoGPUs stands for a machine with two CUDA devices: the test binary
// never links the real backend.
type twoGPUs struct{}

func (twoGPUs) Open(string) (device.Backend, error) { return nil, device.ErrUnavailable }
func (twoGPUs) Devices() ([]device.Info, error) {
	return []device.Info{{Spec: "cuda:0", GPU: true}, {Spec: "cuda:1", GPU: true}}, nil
}

func init() { device.Register("cuda", twoGPUs{}) }

// TestLocalDevice: one rank per GPU by the local rank that mpirun sets,
// in turn when there are more ranks than GPUs; a spec that names a device
// is every rank's; outside a launcher the spec is kept.
func TestLocalDevice(t *testing.T) {
	for _, v := range []string{"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID", device.EnvVar} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	if got, err := sharded.LocalDevice("auto"); got != "auto" || err != nil {
		t.Errorf("outside a launcher: %q, %v; want the spec as given", got, err)
	}
	for _, c := range []struct {
		spec  string
		local string
		env   string // $ADAGRAD_DEVICE
		want  string
	}{
		{"auto", "0", "", "cuda:0"},
		{"auto", "1", "", "cuda:1"},
		{"auto", "2", "", "cuda:0"}, // three ranks share two GPUs
		{"", "1", "", "cuda:1"},
		{"", "3", "cuda", "cuda:1"},
		{"cuda", "1", "", "cuda:1"},
		{"cuda:0", "1", "", "cuda:0"},
		{"cpu", "1", "", "cpu"},
	} {
		t.Setenv("OMPI_COMM_WORLD_LOCAL_RANK", c.local)
		t.Setenv(device.EnvVar, c.env)
		if got, err := sharded.LocalDevice(c.spec); got != c.want || err != nil {
			t.Errorf("spec %q, local rank %s, $%s=%q: %q, %v; want %q", c.spec, c.local, device.EnvVar, c.env, got, err, c.want)
		}
	}
	t.Setenv("OMPI_COMM_WORLD_LOCAL_RANK", "")
	os.Unsetenv("OMPI_COMM_WORLD_LOCAL_RANK")
	t.Setenv("SLURM_LOCALID", "1")
	if got, _ := sharded.LocalDevice("cuda"); got != "cuda:1" {
		t.Errorf("Slurm's local rank 1: %q", got)
	}
}
