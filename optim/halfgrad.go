package optim

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/half"
)

// SetGradPrecision chooses how float32 tensors' gradients travel to the
// device: device.Float32 (the default), or device.BFloat16 or
// device.Float16 for half the bytes, for workloads bound by the host link.
// Gradients are still given as float32 (Grad32, SetGrad); Step rounds them
// to the half type (to nearest, ties to even) before the upload, and the
// device widens them exactly and accumulates in float32. Every backend
// then computes the same bits. Half-precision tensors (Param.DType) take
// the gradients of their own type only: bfloat16 tensors send bfloat16
// gradients for device.BFloat16 and float32 ones otherwise, float16 ones
// likewise. Float64 tensors and row-sparse gradients are not affected.
// Pending gradients are kept.
func (a *Adagrad) SetGradPrecision(dt device.DType) error {
	if dt != device.Float32 && !dt.Half() {
		return fmt.Errorf("%w: gradients travel as float32, bfloat16 or float16, not %v", device.ErrDType, dt)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrClosed
	}
	for _, ar := range a.arenas {
		gdt := dt
		if ar.dt.Half() && dt != ar.dt {
			gdt = device.Float32 // a half tensor takes its own half type only
		}
		if ar.dt.Compute() != device.Float32 || ar.gradDT == gdt {
			continue
		}
		if !a.caps.HasDType(gdt) {
			return fmt.Errorf("%w: %v takes no %v gradients", device.ErrDType, a.dev, gdt)
		}
		grads, err := allocGrads(a.dev, a.caps, gdt, ar.n)
		if err != nil {
			return fmt.Errorf("optim: gradient buffer of %d %v: %w", ar.n, gdt, err)
		}
		freeBuffers(a.dev, ar.grads)
		ar.grads, ar.cur, ar.gradDT = grads, 0, gdt
		if gdt.Half() && ar.grad16 == nil {
			ar.grad16 = make([]uint16, ar.n)
		}
	}
	return nil
}

// narrowGrads rounds float32 gradients into dst as bfloat16 or float16
// bits, with vector instructions (half.NarrowBF16, half.NarrowF16) on all
// cores for large spans, and returns dst.
func narrowGrads(dst []uint16, src []float32, dt device.DType) []uint16 {
	const piece = 1 << 16
	workers := min(runtime.GOMAXPROCS(0), (len(src)+piece-1)/piece)
	if workers <= 1 {
		narrowRange(dst, src, dt)
		return dst
	}
	var wg sync.WaitGroup
	per := (len(src) + workers - 1) / workers
	for lo := 0; lo < len(src); lo += per {
		hi := min(lo+per, len(src))
		wg.Go(func() { narrowRange(dst[lo:hi], src[lo:hi], dt) })
	}
	wg.Wait()
	return dst
}

func narrowRange(dst []uint16, src []float32, dt device.DType) {
	if dt == device.BFloat16 {
		half.NarrowBF16(dst, src)
		return
	}
	half.NarrowF16(dst, src)
}
