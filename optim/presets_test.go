package optim_test

import (
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// TestPresets: each preset sets its library's defaults and rule (as the
// sources its doc cites have them), keeps SkipNonFinite and Seed, yields
// to the options after it, and makes an optimizer that steps.
func TestPresets(t *testing.T) {
	for _, c := range []struct {
		name   string
		preset optim.Option
		want   optim.Hyper
	}{
		{"PyTorch", optim.PyTorchDefaults(), optim.Hyper{LR: 0.01, Eps: 1e-10, Rule: device.Adagrad}},
		{"Keras 2", optim.Keras2Defaults(), optim.Hyper{LR: 0.001, Eps: 1e-7, InitialAccumulatorValue: 0.1, Rule: device.AdagradTF}},
		{"Keras 3", optim.Keras3Defaults(), optim.Hyper{LR: 0.001, Eps: 1e-7, InitialAccumulatorValue: 0.1, Rule: device.AdagradEpsInside}},
		{"Optax", optim.OptaxDefaults(0.3), optim.Hyper{LR: 0.3, Eps: 1e-7, InitialAccumulatorValue: 0.1, Rule: device.AdagradOptax}},
		{"TF1", optim.TF1Defaults(0.3), optim.Hyper{LR: 0.3, InitialAccumulatorValue: 0.1, Rule: device.AdagradNoEps}},
		{"GloVe", optim.GloVeDefaults(), optim.Hyper{LR: 0.05, InitialAccumulatorValue: 1, Rule: device.AdagradGloVe}},
		{"TF1 proximal", optim.TF1ProximalDefaults(0.3), optim.Hyper{LR: 0.3, InitialAccumulatorValue: 0.1, Rule: device.ProximalAdagrad}},
		{"TF1 DA", optim.TF1AdagradDADefaults(0.3), optim.Hyper{LR: 0.3, InitialAccumulatorValue: 0.1, Rule: device.AdagradDA}},
		{"JAX", optim.JAXDefaults(0.3), optim.Hyper{LR: 0.3, Momentum: 0.9, Rule: device.AdagradJAX}},
	} {
		dev := cpu.New()
		opt, err := optim.New(dev, []optim.Param{{Name: "w", Init: []float32{1, 2}}},
			optim.WeightDecay(0.5), optim.SkipNonFinite(true), optim.Seed(7), optim.DecoupledWeightDecay(true), c.preset, optim.LRDecay(0.25))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := c.want
		want.SkipNonFinite, want.Seed, want.LRDecay = true, 7, 0.25 // kept, and set after
		if got := opt.Tensors()[0].Hyper; got != want {
			t.Errorf("%s: %+v, want %+v", c.name, got, want)
		}
		if err := opt.SetGrad("w", []float32{0.5, -1}); err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(); err != nil {
			t.Errorf("%s: Step: %v", c.name, err)
		}
		st, err := opt.State()
		if err != nil {
			t.Fatal(err)
		}
		spec, _ := want.Rule.Spec()
		if len(st.Tensors[0].State) != len(spec.State) {
			t.Errorf("%s: %d states, the rule keeps %d", c.name, len(st.Tensors[0].State), len(spec.State))
		}
		opt.Close()
		dev.Close()
	}
}
