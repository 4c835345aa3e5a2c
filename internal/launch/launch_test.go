package launch

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

func TestTable(t *testing.T) {
	ranges := []device.Range{
		{Off: 0, Len: 9, LR: 0.1, Eps: 1e-8},
		{Off: 12, Len: 0, LR: 0.2},
		{Off: 12, Len: 4, LR: 1.0 / 3, WeightDecay: 0.5, Maximize: true},
	}
	meta, coef, units := Table(device.Float32, ranges)
	if units != 3+0+1 {
		t.Errorf("units = %d, want 4", units)
	}
	wantMeta := []uint64{0, 0, 9, 3, 12, 0, 3, 12, 4}
	for i, w := range wantMeta {
		if got := binary.LittleEndian.Uint64(meta[8*i:]); got != w {
			t.Errorf("meta[%d] = %d, want %d", i, got, w)
		}
	}
	wantCoef := []float32{0.1, 1e-8, 0, 1, 0.2, 0, 0, 1, float32(1.0 / 3), 0, 0.5, -1}
	if len(coef) != 4*len(wantCoef) {
		t.Fatalf("coef has %d bytes", len(coef))
	}
	for i, w := range wantCoef {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(coef[4*i:])); got != w {
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
