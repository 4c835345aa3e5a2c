// Package launch encodes what the GPU kernels of package kernels read
// besides the tensors, and views host slices as the bytes a device copy
// takes: the range tables of device.Update and the row
// indices of device.RowUpdate, with every coefficient rounded to the dtype
// exactly as the CPU backend rounds it. The CUDA and OpenCL backends share
// it, so both hand their kernels the same bytes.
package launch

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/adagrad-go/adagrad/device"
)

// UnitWidth is the number of elements one kernel work-item updates per
// unit (one 4-wide vector); kernels/adagrad.cu and adagrad.cl assume it.
const UnitWidth = 4

// Units is the number of units that cover n elements.
func Units(n int) int { return (n + UnitWidth - 1) / UnitWidth }

// Table encodes ranges for the dense kernels: meta holds three
// little-endian uint64 per range (first unit, offset, length); coef holds
// four values of the dtype per range (lr, eps, weight decay, sign). units
// is the total number of units.
func Table(dt device.DType, ranges []device.Range) (meta, coef []byte, units int) {
	meta = make([]byte, 0, 24*len(ranges))
	coef = make([]byte, 0, 4*dt.Size()*len(ranges))
	for _, r := range ranges {
		meta = binary.LittleEndian.AppendUint64(meta, uint64(units))
		meta = binary.LittleEndian.AppendUint64(meta, uint64(r.Off))
		meta = binary.LittleEndian.AppendUint64(meta, uint64(r.Len))
		units += Units(r.Len)
		for _, c := range []float64{r.LR, r.Eps, r.WeightDecay, Sign(r.Maximize)} {
			coef = appendReal(coef, dt, c)
		}
	}
	return meta, coef, units
}

// Sign is the gradient's multiplier: -1 to maximize, else 1.
func Sign(maximize bool) float64 {
	if maximize {
		return -1
	}
	return 1
}

// RealBits is v rounded to the dtype, as the bits of a kernel argument
// (a float32 in the low half).
func RealBits(dt device.DType, v float64) uint64 {
	if dt == device.Float32 {
		return uint64(math.Float32bits(float32(v)))
	}
	return math.Float64bits(v)
}

func appendReal(b []byte, dt device.DType, v float64) []byte {
	if dt == device.Float32 {
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
	}
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// Rows encodes row indices as little-endian uint64.
func Rows(indices []int64) []byte {
	b := make([]byte, 0, 8*len(indices))
	for _, r := range indices {
		b = binary.LittleEndian.AppendUint64(b, uint64(r))
	}
	return b
}

// HostBytes views a host slice of a buffer's elements ([]float32, []float64
// or []uint16 holding half bits) as its bytes, for copies to and from a
// device; nil for an empty slice or any other value.
func HostBytes(s any) []byte {
	switch v := s.(type) {
	case []float32:
		if len(v) > 0 {
			return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
		}
	case []float64:
		if len(v) > 0 {
			return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*len(v))
		}
	case []uint16:
		if len(v) > 0 {
			return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 2*len(v))
		}
	}
	return nil
}
