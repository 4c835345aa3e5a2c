package devicetest

import (
	"fmt"
	"math"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// HalfRounding is the layer of stochastic rounding at its edges: half
// parameters whose new values fall into binary16's subnormals, across its
// boundary with normals (2^-14), near the largest finite values (where
// rounding up is ±Inf), at bfloat16's subnormals, and among ordinary
// values with every pattern of dropped bits, each rounded with keys that
// differ per row, bitwise against the reference. It runs
// device.AdagradRowwise, whose decoupled weight decay scales a row by a
// chosen factor (with no gradient) or moves it by a chosen step, so that
// the values to round are chosen too.
func HalfRounding(t *testing.T, open Opener) {
	dev := MustOpen(t, open)
	for _, dt := range []device.DType{device.BFloat16, device.Float16} {
		if !dev.Capabilities().Supports(device.AdagradRowwise, dt, false) {
			continue
		}
		t.Run(dt.String(), func(t *testing.T) { halfRounding(t, dev, dt) })
	}
}

func halfRounding(t *testing.T, dev device.Backend, dt device.DType) {
	const width = 64
	starts := []float64{0x1p-20, 0x1p-15, 0x1.ffp-15, 0x1p-14, 1, 3.14159, 1e-30, 60000, 65504, -65504, 3e38, -7e-3}
	if dt == device.BFloat16 {
		starts = append(starts, 0x1p-130, 0x1p-127, 3.3e38)
	}
	rows := len(starts) * 2
	n := rows * width
	param := newParamMirror[float32](t, dev, dt, n+8)
	grad := newMirror[float32](t, dev, n+8)
	ranges := make([]device.Range, rows)
	state := newStateMirrors[float32](t, dev, []device.Rule{device.AdagradRowwise}, [device.StateBuffers]int{rows + 4, 0})
	g := make([]float32, n+8)
	for r := range rows {
		start := starts[r/2]
		codes := make([]uint16, width)
		for j := range codes {
			// Neighbouring codes of the start value, both signs.
			codes[j] = HalfBits(dt, float32(start)) + uint16(j%8)
			if j%16 >= 8 {
				codes[j] ^= 0x8000
			}
		}
		off := 4 + r*width
		param.codes.open(off, codes)
		state.real.open(2+r, []float32{1})
		ranges[r] = device.Range{Off: off, Len: width, Width: width, Rule: device.AdagradRowwise,
			StateOff: [device.MaxStates]int{2 + r}, Key: stepKey(r, 7)}
		if r%2 == 0 {
			// Scaled: corr = 1 - lr·wd with the gradient 0.
			ranges[r].Coef = [device.MaxCoefs]float64{1, 0, 1 - 0.999755859375 + 0x1p-30*float64(r), 1, 1}
			continue
		}
		// Moved: mult·g with m = 1 + mean(g²).
		ranges[r].Coef = [device.MaxCoefs]float64{math.Abs(start) * 0x1p-9, 0, 0, 1, 0}
		for j := range width {
			g[off+j] = float32(j%5) - 2
		}
	}
	grad.open(0, g)
	param.upload(t, dev)
	grad.upload(t, dev)
	state.upload(t, dev)
	if err := updater(t, dev).Update(device.Update{Param: param.buf(), Grad: grad.buf, State: state.bufs(), Ranges: ranges}); err != nil {
		t.Fatal(err)
	}
	for _, r := range ranges {
		if err := refRange(r, param, g, state); err != nil {
			t.Fatal(err)
		}
	}
	if !param.check(t, dev, fmt.Sprintf("%v parameters", dt)) || !state.check(t, dev, "row sums") {
		t.FailNow()
	}
}
