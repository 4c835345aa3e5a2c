package checkpoint

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/optim"
)

// These tests run real PyTorch (Debian's python3-torch; the python3 on
// PATH may lack it, so /usr/bin/python3 first, or $ADAGRAD_TORCH_PYTHON).
// Without torch they skip, unless ADAGRAD_REQUIRE_TORCH=1 (as in CI),
// where they fail.

// torchPython returns a Python that imports torch.
func torchPython(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("PyTorch tests take seconds")
	}
	candidates := []string{os.Getenv("ADAGRAD_TORCH_PYTHON"), "/usr/bin/python3", "python3"}
	for _, py := range candidates {
		if py == "" {
			continue
		}
		if out, err := exec.Command(py, "-c", "import torch, numpy; print(torch.__version__)").Output(); err == nil {
			t.Logf("%s: torch %s", py, strings.TrimSpace(string(out)))
			return py
		}
	}
	if os.Getenv("ADAGRAD_REQUIRE_TORCH") == "1" {
		t.Fatalf("no Python with torch among %q, and ADAGRAD_REQUIRE_TORCH=1", candidates)
	}
	t.Skip("no Python with torch (install python3-torch)")
	return ""
}

// python runs the test driver (testdata/torch_continue.py).
func python(t *testing.T, py string, args ...string) {
	t.Helper()
	cmd := exec.Command(py, append([]string{filepath.Join("testdata", "torch_continue.py")}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("torch_continue.py %v: %v\n%s", args, err, out)
	}
}

// gradients are a run's gradients: grads[s][i] for parameter i at step s,
// nil where the parameter gets none.
type gradients [][]any

// randomGradients draws gradients for tensors like st's, leaving some
// tensors without a gradient at some steps (they are skipped: their step
// counts, and so their decayed learning rates, part ways).
func randomGradients(st optim.State, steps int, seed uint64) gradients {
	rng := rand.New(rand.NewPCG(seed, 7))
	g := make(gradients, steps)
	for s := range g {
		g[s] = make([]any, len(st.Tensors))
		for i, ts := range st.Tensors {
			if (s+i)%4 == 3 {
				continue
			}
			switch p := ts.Param.(type) {
			case []float32:
				v := make([]float32, len(p))
				for k := range v {
					v[k] = float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(8)-4)))
				}
				g[s][i] = v
			case []float64:
				v := make([]float64, len(p))
				for k := range v {
					v[k] = rng.NormFloat64() * math.Pow(2, float64(rng.IntN(8)-4))
				}
				g[s][i] = v
			}
		}
	}
	return g
}

// save writes the gradients as the driver reads them.
func (g gradients) save(t *testing.T, path string) {
	t.Helper()
	var tensors []rawTensor
	for s, step := range g {
		for i, v := range step {
			if v == nil {
				continue
			}
			tensors = append(tensors, rawTensor{name: fmt.Sprintf("grad.%d.%d", s, i), dtype: dtypeNameOf(optim.TensorState{Param: v}.ParamDType()),
				shape: []int{length(v)}, data: hostBytes(v)})
		}
	}
	b := forge(t, tensors, map[string]string{"steps": strconv.Itoa(len(g))}, false)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// continueInGo loads st into a fresh optimizer of the same tensors and runs
// the gradients; it returns the state at the end.
func continueInGo(t *testing.T, st optim.State, g gradients) optim.State {
	t.Helper()
	dev := cpu.New()
	defer dev.Close()
	params := make([]optim.Param, len(st.Tensors))
	for i, ts := range st.Tensors {
		params[i] = optim.Param{Name: ts.Name, Init: allocLike(ts.Param, length(ts.Param)), Shape: ts.Shape}
	}
	opt, err := optim.New(dev, params)
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	if err := opt.LoadState(st); err != nil {
		t.Fatal(err)
	}
	for _, step := range g {
		for i, v := range step {
			if v != nil {
				if err := opt.SetGrad(st.Tensors[i].Name, v); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := opt.Step(); err != nil {
			t.Fatal(err)
		}
	}
	return state(t, opt)
}

// sameBits reports every element where two states differ, in ulps.
func sameBits(t *testing.T, what string, got, want optim.State) {
	t.Helper()
	if len(got.Tensors) != len(want.Tensors) {
		t.Fatalf("%s: %d tensors, want %d", what, len(got.Tensors), len(want.Tensors))
	}
	for i, w := range want.Tensors {
		g := got.Tensors[i]
		if g.Name != w.Name || g.Step != w.Step || normalRule(g.Hyper) != normalRule(w.Hyper) {
			t.Errorf("%s: tensor %d is %q at step %d with %+v, want %q at %d with %+v", what, i, g.Name, g.Step, g.Hyper, w.Name, w.Step, w.Hyper)
		}
		diff := func(role string, a, b any) {
			n, worst := 0, uint64(0)
			switch a := a.(type) {
			case []float32:
				b := b.([]float32)
				for k := range a {
					if d := ulps32(a[k], b[k]); d > 0 {
						n, worst = n+1, max(worst, d)
					}
				}
			case []float64:
				b := b.([]float64)
				for k := range a {
					if d := ulps64(a[k], b[k]); d > 0 {
						n, worst = n+1, max(worst, d)
					}
				}
			}
			if n > 0 {
				t.Errorf("%s: %s of %q: %d elements differ, by up to %d ulp", what, role, w.Name, n, worst)
			}
		}
		diff("parameters", g.Param, w.Param)
		for k := range w.State {
			diff("state", g.State[k], w.State[k])
		}
	}
}

func ulps32(a, b float32) uint64 {
	x, y := int64(int32(math.Float32bits(a))), int64(int32(math.Float32bits(b)))
	if x < 0 {
		x = math.MinInt32 - x
	}
	if y < 0 {
		y = math.MinInt32 - y
	}
	if x > y {
		return uint64(x - y)
	}
	return uint64(y - x)
}

func ulps64(a, b float64) uint64 {
	x, y := int64(math.Float64bits(a)), int64(math.Float64bits(b))
	if x < 0 {
		x = math.MinInt64 - x
	}
	if y < 0 {
		y = math.MinInt64 - y
	}
	if x > y {
		return uint64(x - y)
	}
	return uint64(y - x)
}

// goModel trains a model of three tensors of one dtype, with one set of
// hyperparameters (all of PyTorch's set; with perTensor, the last tensor
// has a set of its own), a few steps in Go.
func goModel(t *testing.T, float64s, perTensor bool, steps int) optim.State {
	t.Helper()
	dev := cpu.New()
	defer dev.Close()
	rng := rand.New(rand.NewPCG(11, 12))
	init := func(n int) any {
		if float64s {
			v := make([]float64, n)
			for k := range v {
				v[k] = rng.NormFloat64()
			}
			return v
		}
		v := make([]float32, n)
		for k := range v {
			v[k] = float32(rng.NormFloat64())
		}
		return v
	}
	var own []optim.Option
	if perTensor {
		own = []optim.Option{optim.LR(0.2), optim.Maximize(true), optim.WeightDecay(0)}
	}
	opt, err := optim.New(dev, []optim.Param{
		{Name: "embed.weight", Init: init(7 * 5), Shape: []int{7, 5}},
		{Name: "fc.weight", Init: init(37)},
		{Name: "fc.bias", Init: init(1), Options: own},
	}, optim.LR(0.05), optim.LRDecay(0.01), optim.WeightDecay(0.001), optim.InitialAccumulatorValue(0.1), optim.Eps(1e-10))
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	st := state(t, opt)
	return continueInGo(t, st, randomGradients(st, steps, 1))
}

// TestGoToTorch: a Go checkpoint of a multi-tensor model with one set of
// hyperparameters loads into torch.optim.Adagrad(params, **hyperparameters)
// (one param group), and PyTorch continuing on the CPU's default path is
// bitwise Go continuing.
func TestGoToTorch(t *testing.T) {
	py := torchPython(t)
	for _, float64s := range []bool{false, true} {
		t.Run(map[bool]string{false: "float32", true: "float64"}[float64s], func(t *testing.T) {
			dir := t.TempDir()
			st := goModel(t, float64s, false, 5)
			ckpt := filepath.Join(dir, "go.safetensors")
			if err := Save(ckpt, st, nil); err != nil {
				t.Fatal(err)
			}
			g := randomGradients(st, 40, 2)
			g.save(t, filepath.Join(dir, "grads.safetensors"))
			out := filepath.Join(dir, "torch.safetensors")
			python(t, py, ckpt, filepath.Join(dir, "grads.safetensors"), out, "--single-group")
			fromTorch, info, err := ImportTorchFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if info.Checksum != "" {
				t.Errorf("PyTorch's file has a checksum? %+v", info)
			}
			sameBits(t, "PyTorch continuing a Go checkpoint vs Go", fromTorch, continueInGo(t, st, g))
		})
	}
}

// TestTorchToGoToTorch: a PyTorch run of two param groups, written by
// examples/torch's save_adagrad, imports into Go; Go continuing is bitwise
// PyTorch continuing; Go's checkpoint of it loads back into PyTorch (one
// group per saved group) and PyTorch continuing is bitwise Go continuing.
func TestTorchToGoToTorch(t *testing.T) {
	py := torchPython(t)
	for _, dtype := range []string{"float32", "float64"} {
		t.Run(dtype, func(t *testing.T) {
			dir := t.TempDir()
			a := filepath.Join(dir, "a.safetensors")
			python(t, py, "--make", a, dtype, "6", "3")
			st, info, err := ImportTorchFile(a)
			if err != nil {
				t.Fatal(err)
			}
			if info.Checksum != "" || info.Names != "names" || len(st.Tensors) != 3 || st.Tensors[2].Hyper.LR != 0.3 {
				t.Fatalf("imported %+v, info %+v", st, info)
			}
			g1 := randomGradients(st, 30, 4)
			g1.save(t, filepath.Join(dir, "g1.safetensors"))
			inGo := continueInGo(t, st, g1)
			c := filepath.Join(dir, "c.safetensors")
			python(t, py, a, filepath.Join(dir, "g1.safetensors"), c)
			inTorch, _, err := ImportTorchFile(c)
			if err != nil {
				t.Fatal(err)
			}
			sameBits(t, "Go continuing a PyTorch run vs PyTorch", inGo, inTorch)

			b := filepath.Join(dir, "b.safetensors")
			if err := Save(b, inGo, nil); err != nil {
				t.Fatal(err)
			}
			g2 := randomGradients(st, 30, 5)
			g2.save(t, filepath.Join(dir, "g2.safetensors"))
			d := filepath.Join(dir, "d.safetensors")
			python(t, py, b, filepath.Join(dir, "g2.safetensors"), d)
			back, _, err := ImportTorchFile(d)
			if err != nil {
				t.Fatal(err)
			}
			sameBits(t, "PyTorch continuing Go's checkpoint of a PyTorch run vs Go", back, continueInGo(t, inGo, g2))
		})
	}
}

// TestReadmeSnippet runs the Python of examples/torch/README.md on a Go
// checkpoint of two param groups, continues in PyTorch, and holds the
// result to Go continuing, at 0 ulp.
func TestReadmeSnippet(t *testing.T) {
	py := torchPython(t)
	readme, err := os.ReadFile(filepath.Join("..", "examples", "torch", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```python\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("no python block in examples/torch/README.md")
	}
	for _, float64s := range []bool{false, true} {
		t.Run(map[bool]string{false: "float32", true: "float64"}[float64s], func(t *testing.T) {
			dir := t.TempDir()
			st := goModel(t, float64s, true, 4)
			if err := Save(filepath.Join(dir, "run.safetensors"), st, nil); err != nil {
				t.Fatal(err)
			}
			g := randomGradients(st, 25, 6)
			g.save(t, filepath.Join(dir, "grads.safetensors"))
			program := string(block[1]) + `
# The test's tail: continue on the gradients, write the result.
import torch_continue
from adagrad_safetensors import save_adagrad
assert len(opt.param_groups) == 2, opt.param_groups
grads, gmeta = read_safetensors("grads.safetensors")
torch_continue.run(params, opt, grads, int(gmeta["steps"]))
save_adagrad("out.safetensors", opt, names)
`
			if err := os.WriteFile(filepath.Join(dir, "snippet.py"), []byte(program), 0o644); err != nil {
				t.Fatal(err)
			}
			lib, err := filepath.Abs(filepath.Join("..", "examples", "torch"))
			if err != nil {
				t.Fatal(err)
			}
			driver, err := filepath.Abs("testdata")
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(py, "snippet.py")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "PYTHONPATH="+lib+string(os.PathListSeparator)+driver)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("the README's snippet: %v\n%s", err, out)
			}
			fromTorch, _, err := ImportTorchFile(filepath.Join(dir, "out.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			sameBits(t, "PyTorch continuing from the README's snippet vs Go", fromTorch, continueInGo(t, st, g))
		})
	}
}
