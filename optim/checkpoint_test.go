package optim_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/optim"
)

// trainedOptimizer returns an optimizer of two dtypes and shapes, a few
// steps in.
func trainedOptimizer(t testing.TB) *optim.Adagrad {
	t.Helper()
	dev := cpu.New()
	t.Cleanup(func() { dev.Close() })
	opt, err := optim.New(dev, []optim.Param{
		{Name: "emb", Init: []float32{1, 2, 3, 4, 5, 6}, Shape: []int{3, 2}},
		{Name: "bias", Init: []float64{0.5, -0.5}, Options: []optim.Option{optim.LR(0.3), optim.Maximize(true)}},
		{Name: "empty", Init: []float32{}},
	}, optim.LRDecay(0.1), optim.InitialAccumulatorValue(0.2))
	if err != nil {
		t.Fatal(err)
	}
	for step := range 3 {
		g := []float32{1, -1, 0.5, float32(step), 2, 3}
		if err := opt.SetGrad("emb", g); err != nil {
			t.Fatal(err)
		}
		if step != 1 {
			if err := opt.SetGrad("bias", []float64{0.25, float64(step)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := opt.Step(); err != nil {
			t.Fatal(err)
		}
	}
	return opt
}

func encoded(t testing.TB) []byte {
	st, err := trainedOptimizer(t).State()
	if err != nil {
		t.Fatal(err)
	}
	b, err := optim.EncodeCheckpoint(st, map[string]string{"trainer.step": "42"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckpointRoundTrip(t *testing.T) {
	opt := trainedOptimizer(t)
	path := filepath.Join(t.TempDir(), "run.safetensors")
	if err := opt.SaveCheckpoint(path, map[string]string{"note": "hello"}); err != nil {
		t.Fatal(err)
	}
	want, _ := opt.State()
	fresh := freshLike(t)
	extra, err := fresh.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if extra["note"] != "hello" || len(extra) != 1 {
		t.Errorf("extra metadata = %v", extra)
	}
	got, _ := fresh.State()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("restored state differs:\n got %+v\nwant %+v", got, want)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// freshLike returns an untrained optimizer with the same tensors.
func freshLike(t testing.TB) *optim.Adagrad {
	t.Helper()
	dev := cpu.New()
	t.Cleanup(func() { dev.Close() })
	opt, err := optim.New(dev, []optim.Param{
		{Name: "emb", Init: make([]float32, 6), Shape: []int{3, 2}},
		{Name: "bias", Init: make([]float64, 2)},
		{Name: "empty", Init: []float32{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

func TestCheckpointLayoutIsPyTorchs(t *testing.T) {
	b := encoded(t)
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	header := string(b[8 : 8+n])
	for _, want := range []string{`"emb":`, `"state.0.sum":`, `"state.0.step":`, `"state.1.sum":`,
		`"param_groups"`, `\"lr_decay\":0.1`, `"format":"adagrad-go/1"`, `"sha256"`} {
		if !bytes.Contains([]byte(header), []byte(want)) {
			t.Errorf("header lacks %s:\n%s", want, header)
		}
	}
	if (8+n)%8 != 0 {
		t.Errorf("data starts at %d, not 8-byte aligned", 8+n)
	}
}

func TestCheckpointRefusesDamage(t *testing.T) {
	b := encoded(t)
	if _, _, err := optim.DecodeCheckpoint(b); err != nil {
		t.Fatalf("intact checkpoint refused: %v", err)
	}
	for cut := 0; cut < len(b); cut++ {
		if _, _, err := optim.DecodeCheckpoint(b[:cut]); !errors.Is(err, optim.ErrCheckpoint) {
			t.Fatalf("truncated to %d of %d bytes: err = %v", cut, len(b), err)
		}
	}
	for i := range b {
		for _, flip := range []byte{0x01, 0x80} {
			c := bytes.Clone(b)
			c[i] ^= flip
			if _, _, err := optim.DecodeCheckpoint(c); err == nil {
				// Only padding spaces may change without harm: JSON ignores
				// them, and they carry nothing.
				if b[i] != ' ' || (c[i] != '!' && c[i] != 0xa0) {
					t.Fatalf("byte %d flipped (%q→%q) yet accepted", i, b[i], c[i])
				}
			}
		}
	}
}

func TestLoadCheckpointChangesNothingOnError(t *testing.T) {
	dir := t.TempDir()
	opt := trainedOptimizer(t)
	good := filepath.Join(dir, "good")
	if err := opt.SaveCheckpoint(good, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(good)
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, b[:len(b)-3], 0o644)
	fresh := freshLike(t)
	before, _ := fresh.State()
	if _, err := fresh.LoadCheckpoint(bad); !errors.Is(err, optim.ErrCheckpoint) {
		t.Errorf("truncated file: err = %v", err)
	}
	if _, err := fresh.LoadCheckpoint(filepath.Join(dir, "missing")); err == nil {
		t.Errorf("missing file loaded")
	}
	// A checkpoint of another model is refused too.
	other, err := optim.New(cpu.New(), []optim.Param{{Name: "emb", Init: make([]float32, 6), Shape: []int{2, 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.LoadCheckpoint(good); !errors.Is(err, optim.ErrShape) {
		t.Errorf("another model's checkpoint: err = %v", err)
	}
	after, _ := fresh.State()
	if !reflect.DeepEqual(before, after) {
		t.Errorf("a refused checkpoint changed the optimizer")
	}
}

func TestEncodeRefuses(t *testing.T) {
	st, _ := trainedOptimizer(t).State()
	if _, err := optim.EncodeCheckpoint(st, map[string]string{"sha256": "x"}); err == nil {
		t.Errorf("reserved metadata key accepted")
	}
	st.Tensors[0].Hyper.LR = math.NaN()
	if _, err := optim.EncodeCheckpoint(st, nil); err == nil {
		t.Errorf("NaN hyperparameter encoded")
	}
	st.Tensors[0].Hyper.LR = 1
	st.Tensors[0].Name = "state.9.sum"
	if _, err := optim.EncodeCheckpoint(st, nil); err == nil {
		t.Errorf("reserved tensor name encoded")
	}
}

// FuzzDecodeCheckpoint feeds the loader arbitrary bytes, starting from a
// real checkpoint: it must refuse or accept, never panic, and anything it
// accepts must encode again.
func FuzzDecodeCheckpoint(f *testing.F) {
	b := encoded(f)
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		st, extra, err := optim.DecodeCheckpoint(data)
		if err != nil {
			if !errors.Is(err, optim.ErrCheckpoint) {
				t.Fatalf("error without ErrCheckpoint: %v", err)
			}
			return
		}
		if _, err := optim.EncodeCheckpoint(st, extra); err != nil {
			t.Fatalf("accepted a checkpoint that does not encode again: %v", err)
		}
	})
}
