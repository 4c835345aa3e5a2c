package launch

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

func TestTable(t *testing.T) {
	coef := func(c ...float64) (out [device.MaxCoefs]float64) { copy(out[:], c); return out }
	ranges := []device.Range{
		{Off: 0, Len: 9, Rule: device.Adagrad, Coef: coef(0.1, 1e-8, 0, 1)},
		{Off: 12, Len: 0, Rule: device.Adagrad, Coef: coef(0.2, 0, 0, 1), StateOff: [device.MaxStates]int{12, 0}},
		{Off: 12, Len: 4, Rule: device.AdagradEpsInside, Coef: coef(1.0/3, 0, 0.5, -1), Width: 2, StateOff: [device.MaxStates]int{16, 3}},
	}
	meta, coefs, units := Table(device.Float32, ranges)
	if units != 3+0+1 {
		t.Errorf("units = %d, want 4", units)
	}
	const none = NoState
	wantMeta := []uint64{
		0, 0, 9, 0, uint64(device.Adagrad), 0, none, 0,
		3, 12, 0, 0, uint64(device.Adagrad), 12, none, 0,
		3, 12, 4, 2, uint64(device.AdagradEpsInside), 16, none, 0,
	}
	if len(meta) != 8*len(wantMeta) {
		t.Fatalf("meta has %d bytes", len(meta))
	}
	for i, w := range wantMeta {
		if got := binary.LittleEndian.Uint64(meta[8*i:]); got != w {
			t.Errorf("meta[%d] = %d, want %d", i, got, w)
		}
	}
	wantCoef := []float32{0.1, 1e-8, 0, 1, 0, 0, 0.2, 0, 0, 1, 0, 0, float32(1.0 / 3), 0, 0.5, -1, 0, 0}
	if len(coefs) != 4*len(wantCoef) {
		t.Fatalf("coef has %d bytes", len(coefs))
	}
	for i, w := range wantCoef {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(coefs[4*i:])); got != w {
			t.Errorf("coef[%d] = %v, want %v", i, got, w)
		}
	}
	_, coef64, _ := Table(device.Float64, ranges[2:])
	if got := math.Float64frombits(binary.LittleEndian.Uint64(coef64)); got != 1.0/3 {
		t.Errorf("float64 lr = %v", got)
	}
	if RealBits(device.Float32, 0.1) != uint64(math.Float32bits(0.1)) || RealBits(device.Float64, 0.1) != math.Float64bits(0.1) {
		t.Errorf("RealBits")
	}
	// Row and block work: a unit per row, per block (the last short);
	// the block length in word 3, the work in word 4, the key in word 7.
	family := []device.Range{
		{Off: 0, Len: 12, Width: 4, Rule: device.AdagradRowwise, StateOff: [device.MaxStates]int{5}},
		{Off: 12, Len: 600, Rule: device.Adagrad8Bit, StateOff: [device.MaxStates]int{9, 16}, Key: 77},
	}
	meta, _, units = Table(device.BFloat16, family)
	if units != 3+3 {
		t.Errorf("row and block units = %d, want 6", units)
	}
	wantMeta = []uint64{
		0, 0, 12, 4, uint64(device.AdagradRowwise) | uint64(device.ByRow)<<32, 5, none, 0,
		3, 12, 600, device.Block8Bit, uint64(device.Adagrad8Bit) | uint64(device.ByBlock)<<32, 9, 16, 77,
	}
	for i, w := range wantMeta {
		if got := binary.LittleEndian.Uint64(meta[8*i:]); got != w {
			t.Errorf("family meta[%d] = %d, want %d", i, got, w)
		}
	}
	if tb := Tables8Bit(); len(tb) != 4*511 || math.Float32frombits(binary.LittleEndian.Uint32(tb[4*255:])) != 1 {
		t.Errorf("Tables8Bit: %d bytes", len(tb))
	}
	if r := Rows([]int64{1, 1 << 40}); binary.LittleEndian.Uint64(r[8:]) != 1<<40 {
		t.Errorf("Rows")
	}
}

func TestHostBytes(t *testing.T) {
	for _, c := range []struct {
		s    any
		size int
	}{{[]float32{1, 2, 3}, 12}, {[]float64{1}, 8}, {[]uint16{1, 2}, 4}, {[]float32{}, 0}, {[]int{1}, 0}} {
		if got := len(HostBytes(c.s)); got != c.size {
			t.Errorf("HostBytes(%T of %v) has %d bytes, want %d", c.s, c.s, got, c.size)
		}
	}
	if b := HostBytes([]float32{1}); binary.LittleEndian.Uint32(b) != math.Float32bits(1) {
		t.Errorf("HostBytes does not view the slice's own bytes")
	}
}

func TestRowEncodings(t *testing.T) {
	idx := []int64{0, 1, 1 << 40, math.MaxInt64}
	want := Rows(idx)
	got := make([]byte, len(want)+8)
	PutRows(got, idx)
	for i, r := range idx {
		if v := binary.LittleEndian.Uint64(want[8*i:]); v != uint64(r) {
			t.Fatalf("Rows[%d] = %d, want %d", i, v, r)
		}
		if v := binary.LittleEndian.Uint64(got[8*i:]); v != uint64(r) {
			t.Errorf("PutRows[%d] = %d, want %d", i, v, r)
		}
		if v := binary.LittleEndian.Uint64(RowBytes(idx)[8*i:]); v != uint64(r) {
			t.Errorf("RowBytes[%d] = %d, want %d", i, v, r)
		}
	}
	if RowBytes(nil) != nil || len(Rows(nil)) != 0 {
		t.Errorf("empty indices")
	}
	PutRows(nil, nil)
}

func TestSameRanges(t *testing.T) {
	r := []device.Range{{Off: 4, Len: 8, Rule: device.Adagrad, Width: 2, Coef: [device.MaxCoefs]float64{0.1, 0, 0, 1}, StateOff: [device.MaxStates]int{3}}}
	if !SameRanges(r, append([]device.Range(nil), r...)) || !SameRanges(nil, []device.Range{}) {
		t.Errorf("equal ranges differ")
	}
	for i, change := range []func(*device.Range){
		func(x *device.Range) { x.Off++ }, func(x *device.Range) { x.Len++ }, func(x *device.Range) { x.Rule++ },
		func(x *device.Range) { x.Width++ }, func(x *device.Range) { x.StateOff[1]++ },
		func(x *device.Range) { x.Coef[0] = math.Nextafter(0.1, 1) }, func(x *device.Range) { x.Coef[1] = math.Copysign(0, -1) },
	} {
		c := append([]device.Range(nil), r...)
		change(&c[0])
		if SameRanges(r, c) {
			t.Errorf("change %d not seen", i)
		}
	}
	if SameRanges(r, append(r, r...)) {
		t.Errorf("lengths differ")
	}
}
