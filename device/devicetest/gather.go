package devicetest

import (
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// Gather is the layer of device.RowReader: rows of a tensor at an offset
// inside a buffer, in any order, repeated, none, the last one, widths of
// one and more, gathered into one host slice exactly as reading them one
// by one gives them (half parameters as raw codes); bad gathers fail with
// their sentinel and write nothing into dst.
func Gather(t *testing.T, open Opener) {
	dev := MustOpen(t, open)
	rr, ok := dev.(device.RowReader)
	if !ok || !dev.Capabilities().Gather {
		t.Skip("the backend gathers no rows (Capabilities.Gather)")
	}
	for _, dt := range dtypes {
		if !dev.Capabilities().HasDType(dt) {
			continue
		}
		t.Run(dt.String(), func(t *testing.T) {
			if dt == device.Float32 {
				gather[float32](t, dev, rr, open)
			} else {
				gather[float64](t, dev, rr, open)
			}
		})
	}
	for _, dt := range []device.DType{device.BFloat16, device.Float16} {
		if dev.Capabilities().HasDType(dt) {
			t.Run(dt.String(), func(t *testing.T) { gatherCodes(t, dev, rr, dt) })
		}
	}
}

// gatherCodes gathers rows of half parameters into []uint16.
func gatherCodes(t *testing.T, dev device.Backend, rr device.RowReader, dt device.DType) {
	const n = 7*5 + 6
	src := newCodeMirror(t, dev, dt, n)
	codes := make([]uint16, n)
	for i := range codes {
		codes[i] = 0x3c00 + uint16(i)
	}
	src.open(0, codes)
	src.upload(t, dev)
	rows := []int64{6, 0, 6, 3}
	got := make([]uint16, len(rows)*5)
	if err := rr.ReadRows(got, src.buf, 3, 5, rows); err != nil {
		t.Fatalf("ReadRows: %v", err)
	}
	for i, r := range rows {
		for w := range 5 {
			if g, want := got[i*5+w], codes[3+int(r)*5+w]; g != want {
				t.Fatalf("row %d element %d = %#x, want %#x", r, w, g, want)
			}
		}
	}
	expectErrors(t, []badCall{
		{"float32 dst for half rows", device.ErrDType, func() error { return rr.ReadRows(make([]float32, 5), src.buf, 3, 5, []int64{0}) }},
		{"a row past the last", device.ErrRange, func() error { return rr.ReadRows(make([]uint16, 5), src.buf, 3, 5, []int64{7}) }},
	})
	src.check(t, dev, "source after gathers")
}

func gather[T Float](t *testing.T, dev device.Backend, rr device.RowReader, open Opener) {
	const n = 7*5 + 6
	src := newMirror[T](t, dev, n)
	v := make([]T, n)
	for i := range v {
		v[i] = T(i) + 0.25
	}
	src.open(0, v)
	src.upload(t, dev)
	cases := []struct {
		off, width int
		rows       []int64
	}{
		{3, 5, []int64{6, 0, 6, 3}}, // 7 rows of 5 after 3 elements, and 3 left over
		{3, 5, nil},
		{0, 1, []int64{n - 1, 0, 17}},
		{n, 4, nil}, // no rows fit after the last element
		{2, 13, []int64{2, 1, 0, 2}},
	}
	for _, c := range cases {
		got := make([]T, len(c.rows)*c.width)
		for i := range got {
			got[i] = -1
		}
		if err := rr.ReadRows(got, src.buf, c.off, c.width, c.rows); err != nil {
			t.Fatalf("ReadRows(off %d, width %d, rows %v): %v", c.off, c.width, c.rows, err)
		}
		for i, r := range c.rows {
			for w := range c.width {
				if g, want := got[i*c.width+w], v[c.off+int(r)*c.width+w]; !identical(g, want) {
					t.Fatalf("ReadRows(off %d, width %d, rows %v): row %d element %d = %v, want %v", c.off, c.width, c.rows, r, w, g, want)
				}
			}
		}
	}
	dst := make([]T, 5)
	for i := range dst {
		dst[i] = 7
	}
	var other any = make([]float64, 5)
	if dtypeOf[T]() == device.Float64 {
		other = make([]float32, 5)
	}
	foreign := mustAlloc(t, MustOpen(t, open), dtypeOf[T](), n)
	expectErrors(t, []badCall{
		{"a row past the last", device.ErrRange, func() error { return rr.ReadRows(dst, src.buf, 3, 5, []int64{7}) }},
		{"a negative row", device.ErrRange, func() error { return rr.ReadRows(dst, src.buf, 3, 5, []int64{-1}) }},
		{"an offset past the end", device.ErrRange, func() error { return rr.ReadRows(dst, src.buf, n+1, 5, nil) }},
		{"a negative offset", device.ErrRange, func() error { return rr.ReadRows(dst, src.buf, -1, 5, []int64{0}) }},
		{"a negative width", device.ErrRange, func() error { return rr.ReadRows(dst, src.buf, 0, -5, []int64{0}) }},
		{"dst too short", device.ErrRange, func() error { return rr.ReadRows(dst[:4], src.buf, 3, 5, []int64{0}) }},
		{"dst too long", device.ErrRange, func() error { return rr.ReadRows(dst, src.buf, 3, 4, []int64{0}) }},
		{"dst of another dtype", device.ErrDType, func() error { return rr.ReadRows(other, src.buf, 3, 5, []int64{0}) }},
		{"dst that is no float slice", device.ErrDType, func() error { return rr.ReadRows([]int{1, 2, 3, 4, 5}, src.buf, 3, 5, []int64{0}) }},
		{"another backend's buffer", device.ErrForeignBuffer, func() error { return rr.ReadRows(dst, foreign, 3, 5, []int64{0}) }},
		{"no buffer", device.ErrForeignBuffer, func() error { return rr.ReadRows(dst, nil, 3, 5, []int64{0}) }},
	})
	for i, d := range dst {
		if d != 7 {
			t.Fatalf("refused gathers wrote dst[%d] = %v", i, d)
		}
	}
	src.check(t, dev, "source after gathers")
}
