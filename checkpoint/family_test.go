package checkpoint

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// familyPresets are a preset of every per-element rule of the Adagrad
// family, with the hyperparameters of its own set.
var familyPresets = map[device.Rule][]optim.Option{
	device.Adagrad:          {optim.PyTorchDefaults()},
	device.AdagradEpsInside: {optim.Keras3Defaults()},
	device.AdagradTF:        {optim.Keras2Defaults()},
	device.AdagradOptax:     {optim.OptaxDefaults(0.1)},
	device.AdagradNoEps:     {optim.TF1Defaults(0.1)},
	device.AdagradGloVe:     {optim.GloVeDefaults()},
	device.ProximalAdagrad:  {optim.TF1ProximalDefaults(0.1), optim.L1(0.01), optim.L2(0.1)},
	device.AdagradDA:        {optim.TF1AdagradDADefaults(0.1), optim.L1(0.01), optim.L2(0.1)},
	device.AdagradJAX:       {optim.JAXDefaults(0.1)},
}

// familyModel is a model of one rule: a float32 table trained with dense
// and row-sparse steps, a float64 vector, and bfloat16 parameters (float32
// state, stochastic rounding) trained with both.
func familyModel(t *testing.T, rule device.Rule, steps int) *optim.Adagrad {
	t.Helper()
	dev := cpu.New()
	t.Cleanup(func() { dev.Close() })
	opt, err := optim.New(dev, []optim.Param{
		{Name: "emb", Init: []float32{1, -2, 3, -4, 5, -6}, Shape: []int{3, 2}},
		{Name: "w", Init: []float64{0.5, -0.25}},
		{Name: "h", Init: []float32{0.75, -1.5, 2, 0.125}, Shape: []int{2, 2}, DType: device.BFloat16,
			Options: []optim.Option{optim.Seed(42)}},
	}, familyPresets[rule]...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { opt.Close() })
	trainFamily(t, opt, 0, steps)
	return opt
}

// trainFamily runs steps [from, to) of the family model's gradients.
func trainFamily(t *testing.T, opt *optim.Adagrad, from, to int) {
	t.Helper()
	for s := from; s < to; s++ {
		var err error
		if s%2 == 0 {
			err = opt.SetGrad("emb", []float32{0.5, -1, float32(s), 2, -0.25, 1})
		} else {
			err = opt.SetSparseGrad("emb", []int64{2, 0, 2}, []float32{1, 0.5, -2, 1, 0.25, float32(s)})
		}
		if err == nil {
			err = opt.SetGrad("w", []float64{0.1 * float64(s+1), -0.3})
		}
		if err == nil && s%2 == 0 {
			err = opt.SetGrad("h", []float32{0.5, float32(s) / 4, -1, 0.25})
		} else if err == nil {
			err = opt.SetSparseGrad("h", []int64{1}, []float32{-0.5, float32(s)})
		}
		if err == nil {
			err = opt.Step()
		}
		if err != nil {
			t.Fatalf("step %d: %v", s, err)
		}
	}
}

// TestFamilyCheckpoints saves every rule's model, checks that the file
// names each state as the rule's library does (state.<i>.<name>) and
// carries the rule and its hyperparameters, loads it back bitwise, resumes
// bit for bit, and refuses to load it into a model of any other rule.
func TestFamilyCheckpoints(t *testing.T) {
	dir := t.TempDir()
	saved := map[device.Rule]string{}
	for rule := range familyPresets {
		opt := familyModel(t, rule, 3)
		st := state(t, opt)
		path := filepath.Join(dir, rule.String()+".safetensors")
		if err := Save(path, st, nil); err != nil {
			t.Fatalf("%v: %v", rule, err)
		}
		saved[rule] = path
		var buf bytes.Buffer
		if err := Write(&buf, st, nil); err != nil {
			t.Fatal(err)
		}
		h, err := readHeader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		spec, _ := rule.Spec()
		for i := range st.Tensors {
			for _, ss := range spec.State {
				if _, ok := h.entries[stateKey(i, ss.Name)]; !ok {
					t.Errorf("%v: no %q in the file", rule, stateKey(i, ss.Name))
				}
			}
		}
		if g := h.meta[metaParamGroups]; rule != device.Adagrad && !strings.Contains(g, `"adagrad_go_rule":"`+rule.String()+`"`) {
			t.Errorf("%v: param groups %s do not name the rule", rule, g)
		}
		back, _, err := Load(path)
		if err != nil {
			t.Fatalf("%v: %v", rule, err)
		}
		if !reflect.DeepEqual(back, st) {
			t.Errorf("%v: loaded state differs from the saved one", rule)
		}
		// In parts, and consolidated: the same state, the same file.
		manifest := filepath.Join(dir, rule.String()+".json")
		if err := SaveSharded(manifest, st, 2, nil); err != nil {
			t.Fatalf("%v: SaveSharded: %v", rule, err)
		}
		if parts, _, err := LoadSharded(manifest); err != nil || !reflect.DeepEqual(parts, st) {
			t.Errorf("%v: LoadSharded: %v, or a state that differs", rule, err)
		}
		whole := filepath.Join(dir, rule.String()+".whole.safetensors")
		if err := Consolidate(manifest, whole); err != nil {
			t.Fatalf("%v: Consolidate: %v", rule, err)
		}
		if a, b := readAll(t, whole), readAll(t, path); !bytes.Equal(a, b) {
			t.Errorf("%v: the consolidated file differs from the one saved whole", rule)
		}
		// Resumed in a fresh model of the same rule, then trained on: the
		// same bits as an uninterrupted run.
		resumed := familyModel(t, rule, 0)
		if err := resumed.LoadState(back); err != nil {
			t.Fatalf("%v: LoadState: %v", rule, err)
		}
		trainFamily(t, resumed, 3, 6)
		if got, want := state(t, resumed), state(t, familyModel(t, rule, 6)); !reflect.DeepEqual(got, want) {
			t.Errorf("%v: a resumed run differs from an uninterrupted one", rule)
		}
	}
	rules := slices.Sorted(func(yield func(device.Rule) bool) {
		for r := range saved {
			if !yield(r) {
				return
			}
		}
	})
	for _, from := range rules {
		st, _, err := Load(saved[from])
		if err != nil {
			t.Fatal(err)
		}
		for _, into := range rules {
			if into == from {
				continue
			}
			err := familyModel(t, into, 0).LoadState(st)
			if !errors.Is(err, device.ErrRule) || !strings.Contains(err.Error(), from.String()) || !strings.Contains(err.Error(), into.String()) {
				t.Errorf("a %v checkpoint loaded into a %v model: err = %v, want device.ErrRule naming both rules", from, into, err)
			}
		}
	}
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
