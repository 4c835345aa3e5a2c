//go:build opencl

package opencl

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/jgillich/go-opencl/cl"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/pathcheck"
)

func openFirst(t *testing.T) *Backend {
	t.Helper()
	infos, err := listDevices()
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) == 0 {
		t.Skip("no OpenCL device")
	}
	b, err := Open(infos[0].platform, infos[0].device)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestTransfersRoundTrip writes and reads back sizes around the staging
// slot and across many slots (the pipelined path), at offsets.
func TestTransfersRoundTrip(t *testing.T) {
	b := openFirst(t)
	q := slotBytes / 4
	for _, n := range []int{1, 1000, q - 1, q, q + 1, 3*q + q/2, 2*slotCount*q + 7} {
		for _, off := range []int{0, 3} {
			buf, err := b.Alloc(device.Float32, off+n+2)
			if err != nil {
				t.Fatal(err)
			}
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(i%9973) + 0.25
			}
			if err := b.Write(buf, off, src); err != nil {
				t.Fatal(err)
			}
			got := make([]float32, off+n+2)
			if err := b.Read(got, buf, 0); err != nil {
				t.Fatal(err)
			}
			for i, v := range got {
				want := float32(0)
				if i >= off && i < off+n {
					want = src[i-off]
				}
				if v != want {
					t.Fatalf("%d floats at %d: element %d is %v, want %v", n, off, i, v, want)
				}
			}
			b.Free(buf)
		}
	}
}

// TestTablesFollowRanges runs steps whose ranges change (a decayed
// learning rate, then another layout) and stay (the cached table), on
// float32 and float64 where the device has it, against the CPU backend.
func TestTablesFollowRanges(t *testing.T) {
	b := openFirst(t)
	ref := cpu.New()
	for _, dt := range b.caps.Rules[0].DTypes {
		if !dt.Real() {
			continue // half parameters: the conformance suite's
		}
		const n = 1000
		type side struct {
			dev     device.Backend
			p, g, s device.Buffer
		}
		var sides []side
		for _, dev := range []device.Backend{b, ref} {
			var x side
			x.dev = dev
			for _, p := range []*device.Buffer{&x.p, &x.g, &x.s} {
				buf, err := dev.Alloc(dt, n)
				if err != nil {
					t.Fatal(err)
				}
				*p = buf
			}
			sides = append(sides, x)
		}
		for step := range 6 {
			grad := make([]float64, n)
			for i := range grad {
				grad[i] = math.Sin(float64(i*(step+1))) * 0.1
			}
			lr := 0.1 / (1 + 0.5*float64(min(step, 3)))
			ranges := []device.Range{{Off: 0, Len: 500, Rule: device.Adagrad, Coef: [device.MaxCoefs]float64{lr, 1e-10, 0, 1}},
				{Off: 500, Len: 500, Rule: device.AdagradEpsInside, Coef: [device.MaxCoefs]float64{lr / 2, 1e-8, 0.01, 1}, StateOff: [device.MaxStates]int{500}}}
			if step >= 4 {
				ranges = ranges[:1]
				ranges[0].Len = n
			}
			for _, x := range sides {
				var g any = grad
				if dt == device.Float32 {
					g32 := make([]float32, n)
					for i, v := range grad {
						g32[i] = float32(v)
					}
					g = g32
				}
				if err := x.dev.Write(x.g, 0, g); err != nil {
					t.Fatal(err)
				}
				u := device.Update{Param: x.p, Grad: x.g, State: [device.StateBuffers]device.Buffer{x.s}, Ranges: ranges}
				if err := x.dev.(device.Updater).Update(u); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, which := range []func(side) device.Buffer{func(x side) device.Buffer { return x.p }, func(x side) device.Buffer { return x.s }} {
			got, want := make([]float64, n), make([]float64, n)
			if dt == device.Float32 {
				g32, w32 := make([]float32, n), make([]float32, n)
				if err := b.Read(g32, which(sides[0]), 0); err != nil {
					t.Fatal(err)
				}
				if err := ref.Read(w32, which(sides[1]), 0); err != nil {
					t.Fatal(err)
				}
				for i := range g32 {
					got[i], want[i] = float64(g32[i]), float64(w32[i])
				}
			} else {
				if err := b.Read(got, which(sides[0]), 0); err != nil {
					t.Fatal(err)
				}
				if err := ref.Read(want, which(sides[1]), 0); err != nil {
					t.Fatal(err)
				}
			}
			for i := range got {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("%v element %d: opencl %v, cpu %v", dt, i, got[i], want[i])
				}
			}
		}
	}
}

// TestFamilyPathsMatchCPU drives the rules of every state layout (row and
// block units beside element ones, in one launch) on every parameter and
// gradient dtype, with tables that change and stay, and row-sparse steps
// of a thread per row, against the CPU backend.
func TestFamilyPathsMatchCPU(t *testing.T) {
	b := openFirst(t)
	ref := cpu.New()
	for _, k := range [][2]device.DType{{device.Float32, device.Float32}, {device.Float64, device.Float64},
		{device.Float32, device.BFloat16}, {device.BFloat16, device.Float32}, {device.BFloat16, device.BFloat16},
		{device.Float16, device.Float32}, {device.Float16, device.Float16}} {
		if !b.caps.HasDType(k[0]) {
			continue
		}
		for _, count := range []int{1, 5, 40} {
			t.Run(fmt.Sprintf("%v-params-%v-grads/ranges=%d", k[0], k[1], count), func(t *testing.T) {
				pathcheck.Family(t, b, ref, k[0], k[1], count)
			})
		}
		if k[1] == k[0].Compute() {
			t.Run(fmt.Sprintf("%v-rows", k[0]), func(t *testing.T) { pathcheck.FamilyRows(t, b, ref, k[0], 300, 9, 120) })
		}
	}
}

func TestAllocationErrorsAre(t *testing.T) {
	for _, c := range []struct {
		err      error
		oom, rng bool
	}{
		{&Error{Op: "x", Code: clMemObjectAllocationFailure}, true, false},
		{&Error{Op: "x", Code: clOutOfResources}, true, false},
		{&Error{Op: "x", Code: clOutOfHostMemory}, true, false},
		{&Error{Op: "x", Code: clInvalidBufferSize}, true, true},
		{&Error{Op: "x", Err: cl.ErrMemObjectAllocationFailure}, true, false},
		{&Error{Op: "x", Err: cl.ErrOutOfResources}, true, false},
		{&Error{Op: "x", Err: cl.ErrOutOfHostMemory}, true, false},
		{&Error{Op: "x", Err: cl.ErrInvalidBufferSize}, true, true},
		{&Error{Op: "x", Code: -30}, false, false},
		{&Error{Op: "x", Err: cl.ErrInvalidValue}, false, false},
	} {
		if got := errors.Is(c.err, device.ErrOutOfMemory); got != c.oom {
			t.Errorf("%v: Is(ErrOutOfMemory) = %v", c.err, got)
		}
		if got := errors.Is(c.err, device.ErrRange); got != c.rng {
			t.Errorf("%v: Is(ErrRange) = %v", c.err, got)
		}
	}
	b := openFirst(t)
	// 2^40 float64 is 8 TiB: more than any device allocates.
	if _, err := b.Alloc(device.Float64, 1<<40); !errors.Is(err, device.ErrOutOfMemory) {
		t.Errorf("Alloc(8 TiB) = %v, want device.ErrOutOfMemory", err)
	}
}
