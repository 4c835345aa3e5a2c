//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"

	"gorgonia.org/cu"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/half"
	"github.com/adagrad-go/adagrad/internal/pathcheck"
)

// These tests drive each of the backend's internal paths (range tables by
// value and in device memory, row updates and gathers through mapped
// staging memory and through device scratch, pipelined transfers of one and
// of many chunks, with one and with many copy workers) and check every
// result bitwise against the CPU backend. The conformance suite
// (cuda_test.go) checks the contract; these check that no path escapes it.

// openDevice opens device 0. A binary built with -tags cuda starts only
// where the driver finds a GPU (gorgonia.org/cu's init ends it otherwise),
// so failing to open one is an error, not a reason to skip.
func openDevice(t testing.TB) *Backend {
	t.Helper()
	b, err := Open(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// pair is the same buffers on the CUDA backend and on the CPU backend.
type pair struct {
	t   *testing.T
	gpu *Backend
	cpu *cpu.Backend
}

func newPair(t *testing.T) *pair {
	return &pair{t: t, gpu: openDevice(t), cpu: cpu.New()}
}

type twin struct{ g, c device.Buffer }

func (p *pair) alloc(dt device.DType, n int, init any) twin {
	p.t.Helper()
	g, err := p.gpu.Alloc(dt, n)
	if err != nil {
		p.t.Fatal(err)
	}
	c, err := p.cpu.Alloc(dt, n)
	if err != nil {
		p.t.Fatal(err)
	}
	if init != nil {
		p.write(twin{g, c}, 0, init)
	}
	return twin{g, c}
}

func (p *pair) write(x twin, off int, src any) {
	p.t.Helper()
	if err := p.gpu.Write(x.g, off, src); err != nil {
		p.t.Fatal(err)
	}
	if err := p.cpu.Write(x.c, off, src); err != nil {
		p.t.Fatal(err)
	}
}

// same reads both and fails on the first element whose bits differ.
func (p *pair) same(what string, x twin) {
	p.t.Helper()
	n := x.g.Len()
	g, c := hostSlice(x.g.DType(), n), hostSlice(x.c.DType(), n)
	if err := p.gpu.Read(g, x.g, 0); err != nil {
		p.t.Fatal(err)
	}
	if err := p.cpu.Read(c, x.c, 0); err != nil {
		p.t.Fatal(err)
	}
	if i := firstDiff(g, c); i >= 0 {
		p.t.Fatalf("%s: element %d of %d differs: cuda %v, cpu %v", what, i, n, at(g, i), at(c, i))
	}
}

func hostSlice(dt device.DType, n int) any {
	switch dt {
	case device.Float32:
		return make([]float32, n)
	case device.Float64:
		return make([]float64, n)
	}
	return make([]uint16, n)
}

func at(s any, i int) any {
	switch v := s.(type) {
	case []float32:
		return v[i]
	case []float64:
		return v[i]
	case []uint16:
		return v[i]
	}
	return nil
}

func firstDiff(a, b any) int {
	switch x := a.(type) {
	case []float32:
		y := b.([]float32)
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				return i
			}
		}
	case []float64:
		y := b.([]float64)
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				return i
			}
		}
	case []uint16:
		y := b.([]uint16)
		for i := range x {
			if x[i] != y[i] {
				return i
			}
		}
	}
	return -1
}

// random returns n values of dtype dt: normal, scaled over many binades,
// and for gradients some zeros.
func random(rng *rand.Rand, dt device.DType, n int, positive bool) any {
	v := func() float64 {
		x := rng.NormFloat64() * math.Pow(2, float64(rng.IntN(20)-10))
		if positive {
			x = math.Abs(x)
		}
		if rng.IntN(16) == 0 {
			x = 0
		}
		return x
	}
	switch dt {
	case device.Float32:
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(v())
		}
		return s
	case device.Float64:
		s := make([]float64, n)
		for i := range s {
			s[i] = v()
		}
		return s
	case device.BFloat16:
		s := make([]uint16, n)
		for i := range s {
			s[i] = half.FromFloat32BF16(float32(v()))
		}
		return s
	}
	s := make([]uint16, n)
	for i := range s {
		s[i] = half.FromFloat32F16(float32(v()))
	}
	return s
}

// pathRules are the rules the path tests of element work mix: every rule
// of the Adagrad family that works element by element, of one state and
// of two, Adagrad most often. (TestFamilyPathsMatchCPU adds the rules of
// row and block work.)
var pathRules = []device.Rule{device.Adagrad, device.AdagradEpsInside, device.Adagrad, device.AdagradTF, device.AdagradNoEps,
	device.Adagrad, device.AdagradOptax, device.AdagradGloVe, device.ProximalAdagrad, device.AdagradDA, device.AdagradJAX}

// ranges cuts n elements into count ranges of mixed rules and
// coefficients, some unaligned, with gaps; each range's first state at its
// own offset, a second state n further (pathcheck.StateOffsets).
func ranges(rng *rand.Rand, n, count int, step int) []device.Range {
	return pathcheck.Ranges(rng, n, count, step, pathRules)
}

func TestUpdatePathsMatchCPU(t *testing.T) {
	p := newPair(t)
	rng := rand.New(rand.NewPCG(1, 2))
	type grads struct{ param, grad device.DType }
	for _, k := range []grads{{device.Float32, device.Float32}, {device.Float64, device.Float64},
		{device.Float32, device.BFloat16}, {device.Float32, device.Float16}} {
		// 1 and 16 ranges: by value; 17 and 40: in device memory.
		for _, count := range []int{1, 5, inlineRanges, inlineRanges + 1, 40} {
			t.Run(fmt.Sprintf("%v-grads-%v/ranges=%d", k.param, k.grad, count), func(t *testing.T) {
				p.t = t
				n := 4099 + 37*count
				param := p.alloc(k.param, n, random(rng, k.param, n, false))
				// Every state in one buffer: first states in [0, n), second
				// ones in [n, 2n).
				sum := p.alloc(k.param, 2*n, random(rng, k.param, 2*n, true))
				grad := p.alloc(k.grad, n, nil)
				for step := range 4 {
					// Steps 1 and 2 keep the ranges (the cached table), the
					// others change the learning rate.
					rs := ranges(rand.New(rand.NewPCG(uint64(count), 0)), n, count, min(step, 1)+2*(step/3))
					p.write(grad, 0, random(rng, k.grad, n, false))
					u := func(x func(twin) device.Buffer) device.Update {
						return device.Update{Param: x(param), Grad: x(grad), State: [device.StateBuffers]device.Buffer{x(sum)}, Ranges: rs}
					}
					if err := p.gpu.Update(u(func(x twin) device.Buffer { return x.g })); err != nil {
						t.Fatal(err)
					}
					if err := p.cpu.Update(u(func(x twin) device.Buffer { return x.c })); err != nil {
						t.Fatal(err)
					}
				}
				p.same("param", param)
				p.same("states", sum)
			})
		}
	}
}

// TestFamilyPathsMatchCPU drives the rules of every state layout (row and
// block units beside element ones, in one launch) on every parameter and
// gradient dtype, with range tables by value and in device memory, that
// change and stay, and row-sparse steps of a thread per row through mapped
// staging memory and through device scratch, against the CPU backend.
func TestFamilyPathsMatchCPU(t *testing.T) {
	p := newPair(t)
	defer func(v int) { zeroCopyMax = v }(zeroCopyMax)
	for _, k := range [][2]device.DType{{device.Float32, device.Float32}, {device.Float64, device.Float64},
		{device.Float32, device.BFloat16}, {device.Float32, device.Float16}, {device.BFloat16, device.Float32},
		{device.BFloat16, device.BFloat16}, {device.Float16, device.Float32}, {device.Float16, device.Float16}} {
		// 1 to 16 ranges: by value; 17 and 40: in device memory.
		for _, count := range []int{1, 5, inlineRanges, inlineRanges + 1, 40} {
			t.Run(fmt.Sprintf("%v-params-%v-grads/ranges=%d", k[0], k[1], count), func(t *testing.T) {
				pathcheck.Family(t, p.gpu, p.cpu, k[0], k[1], count)
			})
		}
		if k[1] != k[0].Compute() {
			continue
		}
		for _, zc := range []int{64 << 10, 0} {
			zeroCopyMax = zc
			t.Run(fmt.Sprintf("%v-rows/zero-copy=%d", k[0], zc), func(t *testing.T) {
				pathcheck.FamilyRows(t, p.gpu, p.cpu, k[0], 300, 9, 120)
				pathcheck.FamilyRows(t, p.gpu, p.cpu, k[0], 4096, 64, 2000)
			})
		}
	}
}

func TestRowPathsMatchCPU(t *testing.T) {
	p := newPair(t)
	rng := rand.New(rand.NewPCG(3, 4))
	defer func(v int) { zeroCopyMax = v }(zeroCopyMax)
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		for ci, c := range []struct{ rows, width, touched, zeroCopy int }{
			{1000, 1, 640, 64 << 10}, {1000, 3, 17, 64 << 10}, {1000, 3, 17, 0}, {4096, 64, 16, 64 << 10},
			{4096, 64, 2000, 64 << 10}, {4096, 64, 2000, 1 << 30}, {50000, 1, 640, 0}, {300, 7, 299, 64 << 10},
		} {
			t.Run(fmt.Sprintf("%v/%dx%d/touched=%d/zerocopy=%d", dt, c.rows, c.width, c.touched, c.zeroCopy), func(t *testing.T) {
				p.t = t
				zeroCopyMax = c.zeroCopy
				n := c.rows*c.width + 5
				off := 4 + c.touched%2 // aligned (the vector path) or not
				param := p.alloc(dt, n, random(rng, dt, n, false))
				// First states at off, second ones (AdagradDA's, AdagradJAX's)
				// at n+off, in one buffer.
				sum := p.alloc(dt, 2*n+off, random(rng, dt, 2*n+off, true))
				for step := range 3 {
					rows := make([]int64, c.touched)
					for i, r := range rng.Perm(c.rows)[:c.touched] {
						rows[i] = int64(r)
					}
					slices.Sort(rows)
					vals := random(rng, dt, len(rows)*c.width, false)
					// Adagrad first, then two rules of the family, a different
					// pair for each table (the states stay: each rule reads
					// what the one before left).
					rule := device.Adagrad
					if step > 0 {
						rule = pathRules[(ci+3*step)%len(pathRules)]
					}
					r := device.Range{Off: off, Len: c.rows * c.width, Width: c.width, Rule: rule,
						Coef: pathcheck.Coefs(rule, ci, step, true), StateOff: [device.MaxStates]int{off, n + off}}
					for _, side := range []struct {
						upd   device.Updater
						param device.Buffer
						sum   device.Buffer
					}{{p.gpu, param.g, sum.g}, {p.cpu, param.c, sum.c}} {
						u := device.RowUpdate{Param: side.param, State: [device.StateBuffers]device.Buffer{side.sum}, Range: r,
							Rows: c.rows, Indices: rows, Values: vals}
						if err := side.upd.UpdateRows(u); err != nil {
							t.Fatal(err)
						}
					}
					// Gather some rows, repeated and out of order, both ways.
					gather := []int64{rows[len(rows)-1], 0, rows[0], int64(c.rows - 1), rows[len(rows)/2], 0}
					g, k := hostSlice(dt, len(gather)*c.width), hostSlice(dt, len(gather)*c.width)
					if err := p.gpu.ReadRows(g, param.g, off, c.width, gather); err != nil {
						t.Fatal(err)
					}
					if err := p.cpu.ReadRows(k, param.c, off, c.width, gather); err != nil {
						t.Fatal(err)
					}
					if i := firstDiff(g, k); i >= 0 {
						t.Fatalf("step %d: gathered element %d differs: cuda %v, cpu %v", step, i, at(g, i), at(k, i))
					}
				}
				p.same("param", param)
				p.same("states", sum)
				// A gather of every touched row, large enough for scratch
				// when zeroCopyMax allows none.
				all := make([]int64, c.rows)
				for i := range all {
					all[i] = int64(i)
				}
				g, k := hostSlice(dt, len(all)*c.width), hostSlice(dt, len(all)*c.width)
				if err := p.gpu.ReadRows(g, param.g, off, c.width, all); err != nil {
					t.Fatal(err)
				}
				if err := p.cpu.ReadRows(k, param.c, off, c.width, all); err != nil {
					t.Fatal(err)
				}
				if i := firstDiff(g, k); i >= 0 {
					t.Fatalf("all rows: element %d differs", i)
				}
			})
		}
	}
}

func TestTransfersRoundTrip(t *testing.T) {
	b := openDevice(t)
	rng := rand.New(rand.NewPCG(5, 6))
	defer func(v int) { copyWorkers = v }(copyWorkers)
	q := slotBytes / 4 // float32 elements per slot
	for _, workers := range []int{1, 3, 0} {
		copyWorkers = workers
		for _, n := range []int{1, 3, 1000, q - 1, q, q + 1, 3*q + q/2, 40*q + 7} {
			for _, off := range []int{0, 1, 5} {
				buf, err := b.Alloc(device.Float32, n+off+3)
				if err != nil {
					t.Fatal(err)
				}
				src := random(rng, device.Float32, n, false).([]float32)
				if err := b.Write(buf, off, src); err != nil {
					t.Fatal(err)
				}
				got := make([]float32, n)
				if err := b.Read(got, buf, off); err != nil {
					t.Fatal(err)
				}
				if i := firstDiff(got, src); i >= 0 {
					t.Fatalf("workers %d, %d floats at %d: element %d read %v, wrote %v", workers, n, off, i, got[i], src[i])
				}
				// The elements around it are still zero.
				edge := make([]float32, off+n+3)
				if err := b.Read(edge, buf, 0); err != nil {
					t.Fatal(err)
				}
				for i, v := range edge {
					if (i < off || i >= off+n) && v != 0 {
						t.Fatalf("workers %d, %d floats at %d: element %d outside the write is %v", workers, n, off, i, v)
					}
				}
				b.Free(buf)
			}
		}
	}
}

// TestContextRestored checks that a call leaves the calling thread's
// current context as it found it.
func TestContextRestored(t *testing.T) {
	b := openDevice(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := cu.CurrentContext()
	if err != nil {
		t.Fatal(err)
	}
	if before == b.ctx {
		t.Fatal("the backend's context is current on a thread after Open")
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if after, _ := cu.CurrentContext(); after != before {
		t.Errorf("current context after a call: %v, before: %v", after, before)
	}
}

// TestManyGoroutines uses one backend from many goroutines at once (the
// calls take turns) and checks every result.
func TestManyGoroutines(t *testing.T) {
	b := openDevice(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			buf, err := b.Alloc(device.Float32, 1000+g)
			if err != nil {
				errs <- err
				return
			}
			defer b.Free(buf)
			for i := range 50 {
				src := make([]float32, 1000+g)
				for j := range src {
					src[j] = float32(g*1000 + i + j)
				}
				if err := b.Write(buf, 0, src); err != nil {
					errs <- err
					return
				}
				got := make([]float32, len(src))
				if err := b.Read(got, buf, 0); err != nil {
					errs <- err
					return
				}
				if i := firstDiff(got, src); i >= 0 {
					errs <- fmt.Errorf("goroutine %d: element %d read %v, wrote %v", g, i, got[i], src[i])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestOutOfMemoryIs(t *testing.T) {
	b := openDevice(t)
	_, err := b.Alloc(device.Float64, 1<<40) // 8 TiB
	if !errors.Is(err, device.ErrOutOfMemory) {
		t.Fatalf("Alloc(8 TiB) = %v, want device.ErrOutOfMemory", err)
	}
	if !errors.Is(err, cu.OutOfMemory) {
		t.Errorf("Alloc(8 TiB) = %v, want cu.OutOfMemory too", err)
	}
	if errors.Is(&Error{Op: "x", Code: 1}, device.ErrOutOfMemory) {
		t.Errorf("an invalid-value error matches ErrOutOfMemory")
	}
}
