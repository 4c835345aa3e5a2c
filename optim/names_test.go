package optim_test

import (
	"errors"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/optim"
)

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"emb": true, "layer.0.weight": true, "state": true, "states.0": true, "_x": true, "é": true,
		"": false, "state.0.sum": false, "state.": false, "__metadata__": false, "__x": false, "\xff": false,
	} {
		err := optim.CheckName(name)
		if (err == nil) != ok || (err != nil && !errors.Is(err, optim.ErrName)) {
			t.Errorf("CheckName(%q) = %v, want ok %v", name, err, ok)
		}
	}
}

// TestNewRefusesNamesCheckpointsReserve: a model that trains can be saved;
// the name is refused when given, not at the first save.
func TestNewRefusesNamesCheckpointsReserve(t *testing.T) {
	dev := cpu.New()
	defer dev.Close()
	for _, name := range []string{"", "state.0.sum", "__metadata__", "\xff"} {
		opt, err := optim.New(dev, []optim.Param{{Name: "ok", Init: []float32{1}}, {Name: name, Init: []float32{1}}})
		if !errors.Is(err, optim.ErrName) {
			t.Errorf("New with a tensor named %q: err = %v, want ErrName", name, err)
		}
		if opt != nil {
			t.Errorf("New with a tensor named %q returned an optimizer", name)
		}
	}
}
