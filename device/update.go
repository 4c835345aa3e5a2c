package device

import (
	"fmt"
	"math"
)

// Range is one contiguous run of elements [Off, Off+Len) that share the
// coefficients of one Adagrad step. The optimizer merges neighbouring
// tensors with equal coefficients into one Range, so a model of many tensors
// usually needs a handful.
type Range struct {
	Off, Len int
	// LR is this step's learning rate after decay: lr / (1 + (t-1)*lr_decay),
	// computed in float64 by the caller and rounded to the buffer's dtype by
	// the backend.
	LR          float64
	Eps         float64
	WeightDecay float64
	Maximize    bool
}

// Update asks for one fused Adagrad step: for every element i of every range,
//
//	g = grad[i]; if Maximize { g = -g }
//	if WeightDecay != 0 { g = fma(WeightDecay, param[i], g) }
//	accum[i] = fma(g, g, accum[i])
//	param[i] = param[i] - (LR*g)/(sqrt(accum[i])+Eps)
//
// in the buffers' dtype: the two fma are fused multiply-adds rounded once
// (as PyTorch's own kernels compute these terms), every other operation is
// rounded on its own, and nothing else is fused, so that all backends agree
// bitwise.
type Update struct {
	Param, Grad, Accum Buffer
	Ranges             []Range
}

// Validate checks what every backend must check before it touches memory:
// the param and accum buffers share a dtype and the gradient has it too (or,
// for float32 parameters, is BFloat16 or Float16: read and widened exactly
// to float32 before the update), every range lies inside all three, the
// ranges are sorted and disjoint, and every coefficient is finite and not
// negative.
func (u Update) Validate() error {
	if u.Param == nil || u.Grad == nil || u.Accum == nil {
		return fmt.Errorf("device: update needs param, grad and accum buffers")
	}
	dt, gdt := u.Param.DType(), u.Grad.DType()
	if dt.Half() || u.Accum.DType() != dt || gdt != dt && !(dt == Float32 && gdt.Half()) {
		return fmt.Errorf("%w: param %v, grad %v, accum %v", ErrDType, dt, gdt, u.Accum.DType())
	}
	n := min(u.Param.Len(), u.Grad.Len(), u.Accum.Len())
	end := 0
	for i, r := range u.Ranges {
		if r.Off < end || r.Len < 0 || r.Off > n-r.Len {
			return fmt.Errorf("%w: range %d [%d,%d) (ranges must be sorted, disjoint and inside %d elements)", ErrRange, i, r.Off, r.Off+r.Len, n)
		}
		end = r.Off + r.Len
		if err := r.validHyper(); err != nil {
			return fmt.Errorf("range %d: %w", i, err)
		}
	}
	return nil
}

func (r Range) validHyper() error {
	for _, h := range []struct {
		name string
		v    float64
	}{{"lr", r.LR}, {"eps", r.Eps}, {"weight_decay", r.WeightDecay}} {
		if err := CheckHyper(h.name, h.v); err != nil {
			return err
		}
	}
	return nil
}

// CheckHyper returns an ErrHyper error when v is NaN, infinite or negative.
func CheckHyper(name string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return fmt.Errorf("%w: %s = %v (want finite and >= 0)", ErrHyper, name, v)
	}
	return nil
}

// CheckWrite validates a Write or Read of a host slice against a buffer:
// []float32 or []float64 for buffers of those types, []uint16 (raw bits)
// for BFloat16 and Float16 buffers.
func CheckWrite(b Buffer, off int, host any) (n int, err error) {
	dt, n, err := hostType(host, b.DType())
	if err != nil {
		return 0, err
	}
	if dt != b.DType() {
		return 0, fmt.Errorf("%w: buffer is %v, host slice is %v", ErrDType, b.DType(), dt)
	}
	if off < 0 || off > b.Len()-n {
		return 0, fmt.Errorf("%w: [%d,%d) in a buffer of %d elements", ErrRange, off, off+n, b.Len())
	}
	return n, nil
}
