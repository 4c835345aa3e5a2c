// Package launch encodes what the GPU kernels of package kernels read
// besides the tensors, and views host slices as the bytes a device copy
// takes: the range tables of device.Update and the row indices of
// device.RowUpdate, with every coefficient rounded to the dtype exactly as
// the CPU backend rounds it. The CUDA and OpenCL backends share
// it, so both hand their kernels the same bytes.
package launch

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/adagrad-go/adagrad/device"
)

// UnitWidth is the number of elements one kernel work-item updates per
// unit of a device.ByElement rule (one 4-wide vector); kernels/adagrad.cu
// and adagrad.cl assume it.
const UnitWidth = 4

// Units is the number of ByElement units that cover n elements.
func Units(n int) int { return (n + UnitWidth - 1) / UnitWidth }

// RangeUnits is the number of units of r's work (device.RuleSpec.Work):
// Units(r.Len) for ByElement rules, one per row for ByRow, one per block
// (the last may be short) for ByBlock.
func RangeUnits(r device.Range) int {
	spec, _ := r.Rule.Spec()
	switch spec.Work {
	case device.ByRow:
		if r.Width == 0 {
			return 0
		}
		return r.Len / r.Width
	case device.ByBlock:
		return (r.Len + spec.Block - 1) / spec.Block
	}
	return Units(r.Len)
}

// MetaWords is the number of little-endian uint64 per range in a table's
// meta (a 64-byte record):
//
//	0 first unit
//	1 offset
//	2 length
//	3 row width; for ByBlock rules the block length
//	4 rule | work<<32 (device.Work)
//	5 state 0 offset (NoState when the rule keeps none)
//	6 state 1 offset (likewise)
//	7 stochastic-rounding key (device.Range.Key)
const MetaWords = 8

// NoState is the offset of a state the range's rule does not keep, in a
// table's meta and in the row kernels' arguments: kernels neither read nor
// write it.
const NoState = ^uint64(0)

// StateOffsets are r's state offsets as kernels take them: NoState for a
// state the rule does not keep.
func StateOffsets(r device.Range) (offs [device.MaxStates]uint64) {
	spec, _ := r.Rule.Spec()
	for k := range offs {
		offs[k] = NoState
		if k < len(spec.State) {
			offs[k] = uint64(r.StateOff[k])
		}
	}
	return offs
}

// Table encodes ranges for the dense kernels: meta holds MetaWords
// little-endian uint64 per range; coef holds device.MaxCoefs values of the
// compute dtype of parameters of dtype dt per range (the rule's
// coefficients, then zeros). units is the total number of units.
func Table(dt device.DType, ranges []device.Range) (meta, coef []byte, units int) {
	dt = dt.Compute()
	meta = make([]byte, 0, 8*MetaWords*len(ranges))
	coef = make([]byte, 0, device.MaxCoefs*dt.Size()*len(ranges))
	for _, r := range ranges {
		spec, _ := r.Rule.Spec()
		width := uint64(r.Width)
		if spec.Work == device.ByBlock {
			width = uint64(spec.Block)
		}
		st := StateOffsets(r)
		words := [MetaWords]uint64{uint64(units), uint64(r.Off), uint64(r.Len), width,
			uint64(r.Rule) | uint64(spec.Work)<<32, st[0], st[1], r.Key}
		for _, w := range words {
			meta = binary.LittleEndian.AppendUint64(meta, w)
		}
		units += RangeUnits(r)
		for _, c := range r.Coef {
			coef = appendReal(coef, dt, c)
		}
	}
	return meta, coef, units
}

// UnitWork reports whether some range's rule works on rows or blocks
// (device.ByRow, device.ByBlock): the kernels that run only element work
// cannot take the table.
func UnitWork(ranges []device.Range) bool {
	for _, r := range ranges {
		if spec, _ := r.Rule.Spec(); spec.Work != device.ByElement {
			return true
		}
	}
	return false
}

// RealBits is v rounded to the compute dtype of dt, as the bits of a
// kernel argument (a float32 in the low half).
func RealBits(dt device.DType, v float64) uint64 {
	if dt.Compute() == device.Float32 {
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
	b := make([]byte, 8*len(indices))
	PutRows(b, indices)
	return b
}

// PutRows writes row indices into dst (8*len(indices) bytes at least) as
// little-endian uint64.
func PutRows(dst []byte, indices []int64) {
	if len(indices) == 0 {
		return
	}
	if littleEndian {
		copy(dst[:8*len(indices)], unsafe.Slice((*byte)(unsafe.Pointer(&indices[0])), 8*len(indices)))
		return
	}
	for i, r := range indices {
		binary.LittleEndian.PutUint64(dst[8*i:], uint64(r))
	}
}

// RowBytes is Rows without a copy on a little-endian host, where an
// []int64 already is its encoding: a view of indices' memory then, to be
// read and not kept.
func RowBytes(indices []int64) []byte {
	if len(indices) == 0 {
		return nil
	}
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(&indices[0])), 8*len(indices))
	}
	return Rows(indices)
}

// Tables8Bit is device.Adagrad8Bit's tables as kernels read them: the 256
// float32 bits of device.Code8Bit, then the 255 of
// device.Thresholds8Bit, little-endian.
func Tables8Bit() []byte {
	b := make([]byte, 0, 4*(256+255))
	for _, v := range device.Code8Bit {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	for _, v := range device.Thresholds8Bit() {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// littleEndian: the host stores integers least significant byte first.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// HostBytes views a host slice of a buffer's elements ([]float32, []float64,
// []uint16 holding half bits or []uint8) as its bytes, for copies to and
// from a device; nil for an empty slice or any other value.
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
	case []uint8:
		return v
	}
	return nil
}

// SameRanges reports whether a and b encode to the same table: equal in
// every field, coefficients compared bit for bit (0 and -0 differ, and a
// kernel can tell them apart).
func SameRanges(a, b []device.Range) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Off != y.Off || x.Len != y.Len || x.Rule != y.Rule || x.Width != y.Width || x.StateOff != y.StateOff || x.Key != y.Key {
			return false
		}
		for k := range x.Coef {
			if math.Float64bits(x.Coef[k]) != math.Float64bits(y.Coef[k]) {
				return false
			}
		}
	}
	return true
}
