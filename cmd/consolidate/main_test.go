package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/checkpoint"
	"github.com/adagrad-go/adagrad/optim"
)

// TestConsolidate: 3 parts become the file one process writes, byte for
// byte; bad flags and a damaged checkpoint are refused with one line.
func TestConsolidate(t *testing.T) {
	h := optim.DefaultHyper()
	st := optim.State{Tensors: []optim.TensorState{
		{Name: "w", Shape: []int{4, 2}, Hyper: h, Step: 3, Param: []float32{1, 2, 3, 4, 5, 6, 7, 8}, State: []any{[]float32{8, 7, 6, 5, 4, 3, 2, 1}}},
		{Name: "b", Shape: []int{}, Hyper: h, Step: 3, Param: []float64{0.5}, State: []any{[]float64{0.25}}},
	}}
	meta := map[string]string{"trainer.epoch": "1", "trainer.step": "0"}
	dir := t.TempDir()
	manifest, one, out := filepath.Join(dir, "run.json"), filepath.Join(dir, "one.safetensors"), filepath.Join(dir, "out.safetensors")
	if err := checkpoint.SaveSharded(manifest, st, 3, meta); err != nil {
		t.Fatal(err)
	}
	if err := checkpoint.Save(one, st, meta); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := command([]string{"-manifest", manifest, "-out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	a, _ := os.ReadFile(one)
	b, _ := os.ReadFile(out)
	if !bytes.Equal(a, b) || !strings.Contains(stdout.String(), "2 tensors from 3 part files") {
		t.Errorf("consolidated %d bytes, one process %d; stdout %q", len(b), len(a), stdout.String())
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-manifest", manifest}, 2, "-manifest and -out are both needed"},
		{[]string{"-manifest", filepath.Join(dir, "absent.json"), "-out", out}, 2, "-manifest: stat"},
		{[]string{"-manifest", manifest, "-out", filepath.Join(dir, "out.bin")}, 2, "want a .safetensors file"},
		{[]string{"-manifest", one, "-out", out}, 1, "want a .json manifest"},
	} {
		stderr.Reset()
		if code := command(c.args, &stdout, &stderr); code != c.code || !strings.Contains(stderr.String(), c.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%q: exit %d, %q; want %d and %q", c.args, code, stderr.String(), c.code, c.want)
		}
	}
}
