// Bench measures the fused Adagrad step on every device present (the CPU;
// CUDA and OpenCL devices when built with -tags cuda / -tags opencl) and
// prints one table: step time, bandwidth at 20 bytes per float32 parameter,
// the device's own copy bandwidth measured in the same run and the ratio,
// and, where PyTorch is importable from python3, torch.optim.Adagrad's
// step on the same device and our speed-up over it. A second table does
// the same for a model of many tensors (one launch per step here, PyTorch's
// multi-tensor "foreach" step there). A variants table times each member
// of the Adagrad family (row-wise, 8-bit state, half-precision
// parameters) against the plain step in the same run. Further tables time what trainers
// run: a trainer-loop step with gradients uploaded from the host (float32
// and bfloat16) against a plain Write, sparse trainer steps (gather the
// touched rows to the host, send their gradient rows, update) and a small
// dense step waited for, each beside PyTorch doing the same from the host.
// A last table times each rule of the Adagrad family against the plain
// step, in alternating rounds (-family).
// Every buffer holds data written before it is timed, so that the CPU's
// copy reference copies touched memory (Go's own copy of the same size is
// printed beside it).
//
//	go run ./examples/bench                       # 2^16 … 2^28 parameters, as memory allows
//	go run ./examples/bench -max 24 -csv bench.csv -png bench.png
package main

import (
	"bufio"
	_ "embed"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/adagrad-go/adagrad/cmdflag"
	_ "github.com/adagrad-go/adagrad/cpu"  // always built
	_ "github.com/adagrad-go/adagrad/cuda" // registers with -tags cuda
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/curve"
	_ "github.com/adagrad-go/adagrad/opencl" // registers with -tags opencl
	"github.com/adagrad-go/adagrad/optim"
)

//go:embed torch_bench.py
var torchScript string

type config struct {
	min, max    int
	devices     string
	budget      time.Duration
	tensors     int
	manyLog2    int
	uploadLog2  int
	sparse      string // table rows × width × touched rows, comma-separated
	latencyLog2 int
	familyLog2  int
	variantLog2 int
	width       int
	torch       bool
	csv, png    string
	python      string
	require     string // backends that must find a device, comma-separated
	list        bool   // list the devices and stop
}

const program = "bench"

const about = `bench: how fast the Adagrad step runs on every device present, against the
device's own copy bandwidth and, where PyTorch imports, torch.optim.Adagrad.

It prints one table per measurement: dense steps from 2^-min to 2^-max
parameters, a model of many tensors, the trainer-loop upload, sparse trainer
steps and a small step's latency, and the members of the Adagrad family, each
against the plain step in the same run. Build with -tags cuda and/or
-tags opencl to measure GPUs.

Usage:
  bench [flags]
  bench -devices cpu -max 24 -csv bench.csv -png bench.png
(in a checkout of the module: go run ./examples/bench [flags])

Flags:
`

func main() {
	fs := flag.NewFlagSet(program, flag.ContinueOnError)
	var c config
	fs.IntVar(&c.min, "min", 16, "smallest size, log2 of the parameter count")
	fs.IntVar(&c.max, "max", 28, "largest size, log2 of the parameter count (skipped where memory runs out)")
	fs.StringVar(&c.devices, "devices", "", "comma-separated specs to measure (default: every device present)")
	fs.DurationVar(&c.budget, "time", 300*time.Millisecond, "time to spend on each measurement")
	fs.IntVar(&c.tensors, "tensors", 200, "tensors in the many-tensor model")
	fs.IntVar(&c.manyLog2, "many", 26, "log2 of the many-tensor model's parameter count")
	fs.IntVar(&c.uploadLog2, "upload", 24, "log2 of the parameter count of the trainer-loop upload test")
	fs.StringVar(&c.sparse, "sparse", "50000x1x640,1048576x64x16384", "sparse trainer steps: table rows x width x rows touched per step, comma-separated (empty: none)")
	fs.IntVar(&c.latencyLog2, "latency", 12, "log2 of the parameter count of the small-step latency test (0: none)")
	fs.IntVar(&c.familyLog2, "family", 24, "log2 of the parameter count of the Adagrad family's rows, each per-element rule against the plain step (0: none)")
	fs.IntVar(&c.variantLog2, "variants", 26, "log2 of the parameter count of the Adagrad family's state-layout table: row-wise, 8-bit, half parameters (0: none)")
	fs.IntVar(&c.width, "width", 64, "row width of the Adagrad family's state-layout table")
	fs.BoolVar(&c.torch, "torch", true, "compare with torch.optim.Adagrad where PyTorch is importable")
	fs.StringVar(&c.python, "python", "", "the Python that has PyTorch (default: python3, else /usr/bin/python3, whichever imports torch)")
	fs.StringVar(&c.require, "require", "", "comma-separated backends (cuda, opencl, cpu) that must find a device: fail if one finds none")
	fs.BoolVar(&c.list, "list", false, "list the devices of every backend built in, check -require, and stop")
	fs.StringVar(&c.csv, "csv", "", "write the table as CSV here")
	fs.StringVar(&c.png, "png", "", "write a plot of bandwidth against size per device (PNG) here")
	err := cmdflag.Parse(fs, os.Args[1:], about, os.Stdout)
	if err == nil {
		err = cmdflag.First(
			cmdflag.Int("min", c.min, 10, 34), cmdflag.Int("max", c.max, c.min, 34),
			cmdflag.Int("tensors", c.tensors, 0, 1<<20), cmdflag.Int("width", c.width, 1, 1<<20),
		)
	}
	if err != nil {
		os.Exit(cmdflag.Status(program, err, os.Stderr))
	}
	if err := run(c, os.Stdout); err != nil {
		log.SetFlags(0)
		log.Fatal(err)
	}
}

// row is one measurement.
type row struct {
	spec, name  string
	kind        string // "single" or "many:N"
	log2        int
	stepSec     float64
	copyBps     float64 // 0: the device cannot copy on its own
	hostCopyBps float64 // Go's copy of touched host memory of the same size on every core (CPU rows); 0: not measured
	torchSec    float64 // 0: not measured
	launches    int     // backend update calls per step (many-tensor rows)
}

func (r row) params() int      { return 1 << r.log2 }
func (r row) stepBps() float64 { return 20 * float64(r.params()) / r.stepSec }

func specs(c config) ([]device.Info, error) {
	if c.devices != "" {
		var out []device.Info
		for _, s := range strings.Split(c.devices, ",") {
			out = append(out, device.Info{Spec: strings.TrimSpace(s)})
		}
		return out, nil
	}
	var out []device.Info
	for _, name := range []string{"cuda", "opencl", "cpu"} {
		infos, err := device.Devices(name)
		if err != nil {
			continue // not built in, or no driver
		}
		out = append(out, infos...)
	}
	if len(out) == 0 {
		return nil, errors.New("bench: no device")
	}
	return out, nil
}

// checkDevices lists every backend's devices when list is set, and fails
// when a backend named in require finds none (not built in, no driver, or
// no device): a GPU run that silently measured only the CPU would say
// nothing.
func checkDevices(c config, out io.Writer) error {
	required := map[string]bool{}
	for _, name := range strings.Split(c.require, ",") {
		if name = strings.TrimSpace(name); name != "" {
			required[name] = true
		}
	}
	var missing []string
	for _, name := range []string{"cuda", "opencl", "cpu"} {
		infos, err := device.Devices(name)
		if c.list {
			fmt.Fprintf(out, "%s: %d devices", name, len(infos))
			if err != nil {
				fmt.Fprintf(out, " (%v)", err)
			}
			fmt.Fprintln(out)
			for _, in := range infos {
				fmt.Fprintf(out, "  %s  %s  gpu=%v\n", in.Spec, in.Name, in.GPU)
			}
		}
		if required[name] && len(infos) == 0 {
			why := "no device"
			if err != nil {
				why = err.Error()
			}
			missing = append(missing, fmt.Sprintf("%s (%s)", name, why))
		}
		delete(required, name)
	}
	for name := range required {
		missing = append(missing, name+" (no such backend)")
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("bench: -require: no device for %s", strings.Join(missing, ", "))
	}
	return nil
}

func run(c config, out io.Writer) error {
	if err := checkDevices(c, out); err != nil || c.list {
		return err
	}
	infos, err := specs(c)
	if err != nil {
		return err
	}
	sparse, err := parseSparse(c.sparse)
	if err != nil {
		return err
	}
	var rows []row
	var uploads []uploadRow
	var trainers []trainerRow
	var family []familyRow
	var layouts []variantRow
	for _, in := range infos {
		dev, err := device.Open(in.Spec)
		if err != nil {
			fmt.Fprintf(out, "%s: %v\n", in.Spec, err)
			continue
		}
		name := dev.String()
		for l := c.min; l <= c.max; l += 2 {
			r, err := measureSingle(dev, l, c.budget, strings.HasPrefix(name, "cpu"))
			if err != nil {
				fmt.Fprintf(out, "%s 2^%d: %v (skipped)\n", in.Spec, l, err)
				break
			}
			r.spec, r.name = in.Spec, name
			rows = append(rows, r)
		}
		for _, gdt := range []device.DType{device.Float32, device.BFloat16} {
			r, err := measureUpload(dev, c.uploadLog2, gdt, c.budget)
			if err != nil {
				fmt.Fprintf(out, "%s upload: %v (skipped)\n", in.Spec, err)
				continue
			}
			r.spec, r.name = in.Spec, name
			uploads = append(uploads, r)
		}
		for _, sp := range sparse {
			r, err := measureSparse(dev, sp.rows, sp.width, sp.touched, c.budget)
			if err != nil {
				fmt.Fprintf(out, "%s sparse %dx%dx%d: %v (skipped)\n", in.Spec, sp.rows, sp.width, sp.touched, err)
				continue
			}
			r.spec, r.name = in.Spec, name
			trainers = append(trainers, r)
		}
		if c.latencyLog2 > 0 {
			r, err := measureLatency(dev, 1<<c.latencyLog2, c.budget)
			if err != nil {
				fmt.Fprintf(out, "%s latency: %v (skipped)\n", in.Spec, err)
			} else {
				r.spec, r.name = in.Spec, name
				trainers = append(trainers, r)
			}
		}
		if c.variantLog2 > 0 {
			vs, err := measureVariants(dev, c.variantLog2, max(c.width, 1), c.budget)
			if err != nil {
				fmt.Fprintf(out, "%s variants: %v (skipped)\n", in.Spec, err)
			}
			for _, v := range vs {
				v.spec, v.name = in.Spec, name
				layouts = append(layouts, v)
			}
		}
		if c.tensors > 0 {
			r, err := measureMany(dev, c.tensors, c.manyLog2, c.budget)
			if err != nil {
				fmt.Fprintf(out, "%s many tensors: %v (skipped)\n", in.Spec, err)
			} else {
				r.spec, r.name = in.Spec, name
				// The copy reference of a single tensor of the same size,
				// measured just before, where there is one.
				for _, s := range rows {
					if s.spec == r.spec && s.kind == "single" && s.log2 == r.log2 && s.copyBps > 0 {
						r.copyBps = s.copyBps
					}
				}
				rows = append(rows, r)
			}
		}
		if c.familyLog2 > 0 {
			rs, err := measureFamily(dev, c.familyLog2, c.budget)
			if err != nil {
				fmt.Fprintf(out, "%s family: %v (skipped)\n", in.Spec, err)
			}
			for _, r := range rs {
				r.spec, r.name = in.Spec, name
				family = append(family, r)
			}
		}
		dev.Close()
	}
	if c.torch {
		addTorch(c, rows, trainers, uploads, out)
	}
	printTable(out, rows)
	printUploads(out, uploads)
	printTrainer(out, trainers)
	printFamily(out, family)
	printVariants(out, layouts)
	if c.csv != "" {
		if err := writeCSV(c.csv, rows); err != nil {
			return err
		}
	}
	if c.png != "" {
		if err := writePNG(c.png, rows); err != nil {
			return err
		}
	}
	return nil
}

// timeIt returns the seconds per call of f: the best of three rounds,
// each running f for a third of budget (at least 3 times), after one
// warm-up call, waiting for the device at the end of each round. The best
// round is the least disturbed by whatever else the machine does.
func timeIt(dev device.Backend, budget time.Duration, f func() error) (float64, error) {
	if err := f(); err != nil {
		return 0, err
	}
	if err := dev.Sync(); err != nil {
		return 0, err
	}
	best := math.Inf(1)
	for range 3 {
		sec, err := timeRound(dev, budget/3, f)
		if err != nil {
			return 0, err
		}
		best = min(best, sec)
	}
	return best, nil
}

// goCopy is Go's copy on GOMAXPROCS goroutines, in equal pieces, as the
// CPU backend copies: the plain host reference of the CPU's copy figure.
func goCopy(dst, src []float32) {
	parts := runtime.GOMAXPROCS(0)
	per := (len(src) + parts - 1) / parts
	var wg sync.WaitGroup
	for lo := 0; lo < len(src); lo += per {
		hi := min(lo+per, len(src))
		wg.Go(func() { copy(dst[lo:hi], src[lo:hi]) })
	}
	wg.Wait()
}

// timeAlternating is timeIt for two functions, their rounds alternating:
// the best round of each, over seven rounds each.
func timeAlternating(dev device.Backend, budget time.Duration, f, g func() error) (fSec, gSec float64, err error) {
	for _, h := range []func() error{f, g} {
		if err := h(); err != nil {
			return 0, 0, err
		}
	}
	fSec, gSec = math.Inf(1), math.Inf(1)
	for range 7 {
		sec, err := timeRound(dev, budget/7, f)
		if err != nil {
			return 0, 0, err
		}
		fSec = min(fSec, sec)
		if sec, err = timeRound(dev, budget/7, g); err != nil {
			return 0, 0, err
		}
		gSec = min(gSec, sec)
	}
	return fSec, gSec, nil
}

func timeRound(dev device.Backend, budget time.Duration, f func() error) (float64, error) {
	n := 0
	start := time.Now()
	for n < 3 || time.Since(start) < budget {
		if err := f(); err != nil {
			return 0, err
		}
		n++
		if n%8 == 0 {
			// Asynchronous devices: keep the queue from running far ahead.
			if err := dev.Sync(); err != nil {
				return 0, err
			}
		}
	}
	if err := dev.Sync(); err != nil {
		return 0, err
	}
	return time.Since(start).Seconds() / float64(n), nil
}

// measureSingle times a step over one tensor of 2^log2 parameters and the
// device's copy of the same size; with hostRef, Go's copy of touched host
// memory of that size too (goCopy), its rounds alternating with the device
// copy's so that both see the same machine (a busy neighbour slows both).
func measureSingle(dev device.Backend, log2 int, budget time.Duration, hostRef bool) (row, error) {
	n := 1 << log2
	var bufs [4]device.Buffer
	defer func() {
		if f, ok := dev.(device.Freer); ok {
			for _, b := range bufs {
				if b != nil {
					f.Free(b)
				}
			}
		}
	}()
	for i := range bufs {
		b, err := dev.Alloc(device.Float32, n)
		if err != nil {
			return row{}, err
		}
		bufs[i] = b
	}
	// Real data in every buffer before anything is timed: parameters,
	// gradients, accumulators, and the copy's destination. A buffer never
	// written is, on the CPU, pages the kernel has not yet backed, which
	// read as one shared page of zeros far faster than memory.
	for i, v := range []float32{0.5, 1e-3, 0.1, 1} {
		if err := dev.Write(bufs[i], 0, filled(n, v)); err != nil {
			return row{}, err
		}
	}
	r := row{kind: "single", log2: log2, launches: 1}
	if c, ok := dev.(device.Copier); ok {
		devCopy := func() error { return c.Copy(bufs[3], bufs[0]) }
		if !hostRef {
			sec, err := timeIt(dev, budget, devCopy)
			if err != nil {
				return row{}, err
			}
			r.copyBps = 8 * float64(n) / sec
		} else {
			src, dst := filled(n, 1), filled(n, 2)
			hostCopy := func() error { goCopy(dst, src); return nil }
			sec, hostSec, err := timeAlternating(dev, budget, devCopy, hostCopy)
			if err != nil {
				return row{}, err
			}
			r.copyBps, r.hostCopyBps = 8*float64(n)/sec, 8*float64(n)/hostSec
		}
	}
	upd, ok := dev.(device.Updater)
	if !ok {
		return row{}, fmt.Errorf("%v runs no update rules", dev)
	}
	u := device.Update{Param: bufs[0], Grad: bufs[1], State: [device.StateBuffers]device.Buffer{bufs[2]},
		Ranges: []device.Range{{Len: n, Rule: device.Adagrad, Coef: [device.MaxCoefs]float64{0.01, 1e-8, 0, 1}}}}
	sec, err := timeIt(dev, budget, func() error { return upd.Update(u) })
	if err != nil {
		return row{}, err
	}
	r.stepSec = sec
	return r, nil
}

// filled returns n float32 near v, none zero.
func filled(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v * (1 + float32(i%97)/128)
	}
	return s
}

// sparseShape is one sparse trainer-step case: a table of rows × width,
// touched rows a step.
type sparseShape struct{ rows, width, touched int }

// parseSparse reads -sparse: "ROWSxWIDTHxTOUCHED,..." (empty: none).
func parseSparse(s string) ([]sparseShape, error) {
	var out []sparseShape
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		var sh sparseShape
		if _, err := fmt.Sscanf(part, "%dx%dx%d", &sh.rows, &sh.width, &sh.touched); err != nil ||
			sh.rows <= 0 || sh.width <= 0 || sh.touched <= 0 || sh.touched > sh.rows {
			return nil, fmt.Errorf("bench: -sparse %q: want ROWSxWIDTHxTOUCHED with 0 < TOUCHED <= ROWS", part)
		}
		out = append(out, sh)
	}
	return out, nil
}

// recorder counts the update calls the optimizer makes and keeps the last.
type recorder struct {
	device.Backend
	device.Updater
	calls int
	last  device.Update
}

func (r *recorder) Update(u device.Update) error {
	r.calls++
	r.last = u
	return r.Updater.Update(u)
}

// measureMany builds a model of `tensors` tensors of 2^log2 parameters in
// all through the optimizer, counts the backend calls one Step makes, then
// times that device update alone (gradients already on the device, as
// PyTorch's step is timed).
func measureMany(dev device.Backend, tensors, log2 int, budget time.Duration) (row, error) {
	n := 1 << log2
	upd, ok := dev.(device.Updater)
	if !ok {
		return row{}, fmt.Errorf("%v runs no update rules", dev)
	}
	rec := &recorder{Backend: dev, Updater: upd}
	params := make([]optim.Param, tensors)
	for i := range params {
		size := n/tensors + map[bool]int{true: 1}[i < n%tensors]
		params[i] = optim.Param{Name: "t" + strconv.Itoa(i), Init: make([]float32, size)}
	}
	opt, err := optim.New(rec, params, optim.LR(0.01), optim.Eps(1e-8))
	if err != nil {
		return row{}, err
	}
	defer opt.Close()
	for _, p := range params {
		if _, err := opt.Grad32(p.Name); err != nil {
			return row{}, err
		}
	}
	if err := opt.Step(); err != nil {
		return row{}, err
	}
	r := row{kind: "many:" + strconv.Itoa(tensors), log2: log2, launches: rec.calls}
	u := rec.last
	sec, err := timeIt(dev, budget, func() error { return upd.Update(u) })
	if err != nil {
		return row{}, err
	}
	r.stepSec = sec
	if c, ok := dev.(device.Copier); ok {
		// A copy reference of the arena's size (run replaces it with the
		// single-tensor row's of the same size, where there is one).
		spare, err := dev.Alloc(device.Float32, u.Param.Len())
		if err == nil {
			err = dev.Write(spare, 0, filled(u.Param.Len(), 1))
		}
		if err == nil {
			if sec, err := timeIt(dev, budget, func() error { return c.Copy(spare, u.Grad) }); err == nil {
				r.copyBps = 8 * float64(n) / sec
			}
			if f, ok := dev.(device.Freer); ok {
				f.Free(spare)
			}
		}
	}
	return r, nil
}

// torchDevice maps our spec to PyTorch's device name, or "" when PyTorch
// has no such device.
func torchDevice(spec string) string {
	switch {
	case spec == "cpu":
		return "cpu"
	case spec == "cuda":
		return "cuda:0"
	case strings.HasPrefix(spec, "cuda:"):
		return spec
	}
	return ""
}

// python returns the Python that imports torch: c.python, else the first of
// python3 and /usr/bin/python3 that does; "" when none.
func python(c config) string {
	candidates := []string{"python3", "/usr/bin/python3"}
	if c.python != "" {
		candidates = []string{c.python}
	}
	for _, py := range candidates {
		if exec.Command(py, "-c", "import torch").Run() == nil {
			return py
		}
	}
	return ""
}

// addTorch fills torchSec where PyTorch is importable, and for the upload
// rows on CUDA, PyTorch's pinned host→device copy of the same bytes.
func addTorch(c config, rows []row, trainers []trainerRow, uploads []uploadRow, out io.Writer) {
	py := python(c)
	if py == "" {
		fmt.Fprintln(out, "(PyTorch not importable from python3 or /usr/bin/python3, or -python: no comparison)")
		return
	}
	script, err := os.CreateTemp("", "torch_bench-*.py")
	if err != nil {
		return
	}
	defer os.Remove(script.Name())
	script.WriteString(torchScript)
	script.Close()
	bySpec := map[string][]int{}
	var specs []string
	for i, r := range rows {
		if bySpec[r.spec] == nil {
			specs = append(specs, r.spec)
		}
		bySpec[r.spec] = append(bySpec[r.spec], i)
	}
	trainerBySpec := map[string][]int{}
	for i, r := range trainers {
		if bySpec[r.spec] == nil && trainerBySpec[r.spec] == nil {
			specs = append(specs, r.spec)
		}
		trainerBySpec[r.spec] = append(trainerBySpec[r.spec], i)
	}
	uploadBySpec := map[string][]int{}
	for i, r := range uploads {
		if strings.HasPrefix(torchDevice(r.spec), "cuda") {
			if bySpec[r.spec] == nil && trainerBySpec[r.spec] == nil && uploadBySpec[r.spec] == nil {
				specs = append(specs, r.spec)
			}
			uploadBySpec[r.spec] = append(uploadBySpec[r.spec], i)
		}
	}
	for _, spec := range specs {
		td := torchDevice(spec)
		if td == "" {
			continue
		}
		idx, tidx, uidx := bySpec[spec], trainerBySpec[spec], uploadBySpec[spec]
		args := []string{script.Name(), td}
		for _, i := range idx {
			if rows[i].kind == "single" {
				args = append(args, strconv.Itoa(rows[i].log2))
			} else {
				args = append(args, fmt.Sprintf("many:%s:%d", strings.TrimPrefix(rows[i].kind, "many:"), rows[i].log2))
			}
		}
		for _, i := range tidx {
			args = append(args, trainers[i].torchArg())
		}
		for _, i := range uidx {
			args = append(args, uploads[i].torchArg())
		}
		cmd := exec.Command(py, args...)
		stdout, err := cmd.Output()
		if err != nil {
			fmt.Fprintf(out, "(PyTorch on %s: %v)\n", td, err)
		}
		sc := bufio.NewScanner(strings.NewReader(string(stdout)))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			var kind string
			var log2 int
			var sec float64
			switch {
			case len(f) == 3 && f[0] == "single":
				kind, log2, sec = "single", atoi(f[1]), atof(f[2])
			case len(f) == 4 && f[0] == "many":
				kind, log2, sec = "many:"+f[1], atoi(f[2]), atof(f[3])
			case len(f) == 3 && f[0] == "trainer":
				for _, i := range tidx {
					if trainers[i].torchArg() == f[1] {
						trainers[i].torchSec = atof(f[2])
					}
				}
				for _, i := range uidx {
					if sec := atof(f[2]); uploads[i].torchArg() == f[1] && sec > 0 {
						uploads[i].pinnedBps = float64(uploads[i].bytes()) / sec
					}
				}
				continue
			default:
				continue
			}
			for _, i := range idx {
				if rows[i].kind == kind && rows[i].log2 == log2 {
					rows[i].torchSec = sec
				}
			}
		}
	}
}

func atoi(s string) int       { n, _ := strconv.Atoi(s); return n }
func atof(s string) float64   { f, _ := strconv.ParseFloat(s, 64); return f }
func gbps(bps float64) string { return fmt.Sprintf("%.1f", bps/1e9) }

func printTable(out io.Writer, rows []row) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "device\tmodel\tparams\tlaunches\tstep ms\tGB/s\tcopy GB/s\tof copy\tgo copy GB/s\ttorch ms\tx torch\t")
	for _, r := range rows {
		copyS, ratio, hostS, torchS, speedup := "-", "-", "-", "-", "-"
		if r.copyBps > 0 {
			copyS, ratio = gbps(r.copyBps), fmt.Sprintf("%.2f", r.stepBps()/r.copyBps)
		}
		if r.hostCopyBps > 0 {
			hostS = gbps(r.hostCopyBps)
		}
		if r.torchSec > 0 {
			torchS, speedup = fmt.Sprintf("%.3f", r.torchSec*1e3), fmt.Sprintf("%.2f", r.torchSec/r.stepSec)
		}
		model := "1 tensor"
		if r.kind != "single" {
			model = strings.TrimPrefix(r.kind, "many:") + " tensors"
		}
		fmt.Fprintf(w, "%s\t%s\t2^%d\t%d\t%.3f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.spec, model, r.log2, r.launches,
			r.stepSec*1e3, gbps(r.stepBps()), copyS, ratio, hostS, torchS, speedup)
	}
	w.Flush()
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.spec] {
			seen[r.spec] = true
			fmt.Fprintf(out, "%s: %s\n", r.spec, r.name)
		}
	}
	fmt.Fprintln(out, "GB/s counts 20 bytes per float32 parameter (read param, grad, accum; write param, accum); copy reads and writes 8 bytes per element.")
	fmt.Fprintln(out, "Every buffer holds data before it is timed; go copy is Go's copy of touched host memory of the same size on GOMAXPROCS goroutines, its rounds alternating with the device copy's (CPU rows).")
}

func writeCSV(path string, rows []row) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"device", "name", "model", "params", "launches", "step_seconds", "step_bytes_per_second", "copy_bytes_per_second", "torch_step_seconds"})
	for _, r := range rows {
		w.Write([]string{r.spec, r.name, r.kind, strconv.Itoa(r.params()), strconv.Itoa(r.launches),
			strconv.FormatFloat(r.stepSec, 'g', 6, 64), strconv.FormatFloat(r.stepBps(), 'g', 6, 64),
			strconv.FormatFloat(r.copyBps, 'g', 6, 64), strconv.FormatFloat(r.torchSec, 'g', 6, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writePNG plots step bandwidth (solid) and copy bandwidth (dashed)
// against log2 size, per device.
func writePNG(path string, rows []row) error {
	p := plot.New()
	p.Title.Text = "Adagrad step bandwidth (20 B/param) and copy"
	p.X.Label.Text = "log2(parameters)"
	p.Y.Label.Text = "GB/s"
	p.Add(plotter.NewGrid())
	bySpec := map[string]plotter.XYs{}
	copies := map[string]plotter.XYs{}
	var order []string
	for _, r := range rows {
		if r.kind != "single" {
			continue
		}
		if _, ok := bySpec[r.spec]; !ok {
			order = append(order, r.spec)
		}
		bySpec[r.spec] = append(bySpec[r.spec], plotter.XY{X: float64(r.log2), Y: r.stepBps() / 1e9})
		if r.copyBps > 0 {
			copies[r.spec] = append(copies[r.spec], plotter.XY{X: float64(r.log2), Y: r.copyBps / 1e9})
		}
	}
	for i, spec := range order {
		line, points, err := plotter.NewLinePoints(bySpec[spec])
		if err != nil {
			return err
		}
		col := curve.Color(i)
		line.Color, points.Color = col, col
		p.Add(line, points)
		p.Legend.Add(spec+" step", line, points)
		if c := copies[spec]; len(c) > 0 {
			cl, err := plotter.NewLine(c)
			if err != nil {
				return err
			}
			cl.Color, cl.Dashes = col, []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(cl)
			p.Legend.Add(spec+" copy", cl)
		}
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.Y.Min = 0
	if math.IsInf(p.Y.Max, 0) {
		p.Y.Max = 1
	}
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}

// uploadRow is a trainer-loop step (gradient upload and update, as
// optim.Step does it) beside a plain host→device write of the same bytes.
type uploadRow struct {
	spec, name string
	gradDT     device.DType
	log2       int
	stepSec    float64 // one optim.Step: upload + update
	writeBps   float64 // host→device Write bandwidth, the same buffer size
	pinnedBps  float64 // PyTorch's pinned host→device copy of the same bytes (CUDA); 0: not measured
}

func (r uploadRow) bytes() int { return (1 << r.log2) * r.gradDT.Size() }

// torchArg is torch_bench.py's case of the pinned copy of the same bytes.
func (r uploadRow) torchArg() string { return fmt.Sprintf("h2d:%d", r.bytes()) }

func measureUpload(dev device.Backend, log2 int, gdt device.DType, budget time.Duration) (uploadRow, error) {
	n := 1 << log2
	opt, err := optim.New(dev, []optim.Param{{Name: "w", Init: make([]float32, n)}}, optim.LR(0.01))
	if err != nil {
		return uploadRow{}, err
	}
	defer opt.Close()
	if err := opt.SetGradPrecision(gdt); err != nil {
		return uploadRow{}, err
	}
	g, err := opt.Grad32("w")
	if err != nil {
		return uploadRow{}, err
	}
	for i := range g {
		g[i] = 1
	}
	r := uploadRow{gradDT: gdt, log2: log2}
	if r.stepSec, err = timeIt(dev, budget, func() error {
		if _, err := opt.Grad32("w"); err != nil { // marks the gradient for the step
			return err
		}
		return opt.Step()
	}); err != nil {
		return uploadRow{}, err
	}
	buf, err := dev.Alloc(gdt, n)
	if err != nil {
		return uploadRow{}, err
	}
	defer func() {
		if f, ok := dev.(device.Freer); ok {
			f.Free(buf)
		}
	}()
	var host any = filled(n, 1)
	if gdt.Half() {
		h := make([]uint16, n)
		for i := range h {
			h[i] = 0x3f80 + uint16(i%97) // bfloat16 1 and up; float16 ~1.9 and up
		}
		host = h
	}
	if err := dev.Write(buf, 0, host); err != nil { // the destination's pages, touched
		return uploadRow{}, err
	}
	sec, err := timeIt(dev, budget, func() error { return dev.Write(buf, 0, host) })
	if err != nil {
		return uploadRow{}, err
	}
	r.writeBps = float64(n*gdt.Size()) / sec
	return r, nil
}

func printUploads(out io.Writer, rows []uploadRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(out)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "device\tgradients\tparams\tstep ms\tgradient GB/s\twrite GB/s\tof write\tpinned GB/s\tof pinned\tof float32 step\t")
	f32 := map[string]float64{}
	for _, r := range rows {
		if r.gradDT == device.Float32 {
			f32[r.spec] = r.stepSec
		}
	}
	for _, r := range rows {
		gb := float64(r.bytes()) / r.stepSec
		of, pinned, ofPinned := "-", "-", "-"
		if base := f32[r.spec]; base > 0 && r.gradDT != device.Float32 {
			of = fmt.Sprintf("%.2f", r.stepSec/base)
		}
		if r.pinnedBps > 0 {
			pinned, ofPinned = gbps(r.pinnedBps), fmt.Sprintf("%.2f", gb/r.pinnedBps)
		}
		fmt.Fprintf(w, "%s\t%v\t2^%d\t%.3f\t%s\t%s\t%.2f\t%s\t%s\t%s\t\n", r.spec, r.gradDT, r.log2, r.stepSec*1e3, gbps(gb), gbps(r.writeBps), gb/r.writeBps, pinned, ofPinned, of)
	}
	w.Flush()
	fmt.Fprintln(out, "A trainer-loop step (optim.Step: gradient upload, then the update) against a plain host→device Write of the gradient's bytes and (CUDA, where PyTorch is importable) PyTorch's copy of as many bytes from pinned memory; a half-precision step's time as a fraction of the float32 one's.")
}
