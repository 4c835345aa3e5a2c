package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/adagrad-go/adagrad/device"
)

// variant is one member of the Adagrad family as the variants table runs
// it: its rule, its parameters' dtype, and the bytes it moves and keeps per
// parameter (rows of width elements).
type variant struct {
	name    string
	rule    device.Rule
	param   device.DType
	traffic func(width int) float64 // bytes read and written per parameter by one step
	state   func(width int) float64 // state bytes per parameter
}

var variants = []variant{
	{"adagrad (plain)", device.Adagrad, device.Float32,
		func(int) float64 { return 20 }, func(int) float64 { return 4 }},
	{"row-wise", device.AdagradRowwise, device.Float32,
		func(w int) float64 { return 12 + 8/float64(w) }, func(w int) float64 { return 4 / float64(w) }},
	{"8-bit state", device.Adagrad8Bit, device.Float32,
		func(int) float64 { return 14 + 8.0/device.Block8Bit }, func(int) float64 { return 1 + 4.0/device.Block8Bit }},
	{"bfloat16 params", device.Adagrad, device.BFloat16,
		func(int) float64 { return 16 }, func(int) float64 { return 4 }},
	{"float16 params", device.Adagrad, device.Float16,
		func(int) float64 { return 16 }, func(int) float64 { return 4 }},
	{"row-wise, bfloat16 params", device.AdagradRowwise, device.BFloat16,
		func(w int) float64 { return 8 + 8/float64(w) }, func(w int) float64 { return 4 / float64(w) }},
}

// variantRow is one variant's dense step over one table, beside the plain
// step of the same size measured in alternating rounds of the same run.
type variantRow struct {
	spec, name  string
	v           variant
	log2, width int
	stepSec     float64
	plainSec    float64
	unsupported string
}

// variantStep allocates and fills one variant's buffers and returns its
// step and a function that frees them.
func variantStep(dev device.Backend, v variant, n, width int) (func() error, func(), error) {
	upd, ok := dev.(device.Updater)
	if !ok {
		return nil, nil, fmt.Errorf("%v runs no update rules", dev)
	}
	if !dev.Capabilities().Supports(v.rule, v.param, false) {
		return nil, nil, fmt.Errorf("%w: %v on %v", device.ErrRule, v.rule, v.param)
	}
	var bufs []device.Buffer
	free := func() {
		if f, ok := dev.(device.Freer); ok {
			for _, b := range bufs {
				f.Free(b)
			}
		}
	}
	alloc := func(dt device.DType, n int, host any) (device.Buffer, error) {
		b, err := dev.Alloc(dt, n)
		if err != nil {
			return nil, err
		}
		bufs = append(bufs, b)
		return b, dev.Write(b, 0, host)
	}
	fail := func(err error) (func() error, func(), error) { free(); return nil, nil, err }
	spec, _ := v.rule.Spec()
	r := device.Range{Len: n, Width: width, Rule: v.rule, Coef: [device.MaxCoefs]float64{0.01, 1e-8, 0, 1}, Key: 1}
	var host any = filled(n, 0.5)
	if v.param.Half() {
		h := make([]uint16, n)
		for i := range h {
			h[i] = 0x3800 + uint16(i%97) // bfloat16 ~3e-5…, float16 0.5…
		}
		host = h
	}
	p, err := alloc(v.param, n, host)
	if err != nil {
		return fail(err)
	}
	g, err := alloc(device.Float32, n, filled(n, 1e-3))
	if err != nil {
		return fail(err)
	}
	var state [device.StateBuffers]device.Buffer
	realLen, byteLen := 0, 0
	for k, ss := range spec.State {
		size := spec.StateLen(k, n, width)
		if ss.Buffer() == device.StateBytes {
			r.StateOff[k], byteLen = byteLen, byteLen+size
		} else {
			r.StateOff[k], realLen = realLen, realLen+size
		}
	}
	if state[device.StateReal], err = alloc(device.Float32, realLen, filled(realLen, 0.1)); err != nil {
		return fail(err)
	}
	if byteLen > 0 {
		codes := make([]uint8, byteLen)
		for i := range codes {
			codes[i] = uint8(128 + i%127)
		}
		if state[device.StateBytes], err = alloc(device.Uint8, byteLen, codes); err != nil {
			return fail(err)
		}
	}
	u := device.Update{Param: p, Grad: g, State: state, Ranges: []device.Range{r}}
	return func() error { return upd.Update(u) }, free, nil
}

// measureVariants times each variant's step on a table of 2^log2
// parameters in rows of width, each in rounds alternating with the plain
// step's, so that both see the same machine.
func measureVariants(dev device.Backend, log2, width int, budget time.Duration) ([]variantRow, error) {
	n := 1 << log2
	n -= n % width
	plain, freePlain, err := variantStep(dev, variants[0], n, width)
	if err != nil {
		return nil, err
	}
	defer freePlain()
	var rows []variantRow
	for _, v := range variants[1:] {
		r := variantRow{v: v, log2: log2, width: width}
		step, free, err := variantStep(dev, v, n, width)
		if err != nil {
			r.unsupported = err.Error()
			rows = append(rows, r)
			continue
		}
		r.stepSec, r.plainSec, err = timeAlternating(dev, budget, step, plain)
		free()
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func printVariants(out io.Writer, rows []variantRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(out)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "device\tvariant\tparams\twidth\tstate B/param\tB/param\tstep ms\tGB/s\tplain ms\tx plain\t")
	for _, r := range rows {
		if r.unsupported != "" {
			fmt.Fprintf(w, "%s\t%s\t2^%d\t%d\t-\t-\t-\t-\t-\t(%s)\t\n", r.spec, r.v.name, r.log2, r.width, r.unsupported)
			continue
		}
		n := float64(int(1)<<r.log2 - (1<<r.log2)%r.width)
		fmt.Fprintf(w, "%s\t%s\t2^%d\t%d\t%.3g\t%.3g\t%.3f\t%s\t%.3f\t%.2f\t\n", r.spec, r.v.name, r.log2, r.width,
			r.v.state(r.width), r.v.traffic(r.width), r.stepSec*1e3, gbps(r.v.traffic(r.width)*n/r.stepSec),
			r.plainSec*1e3, r.plainSec/r.stepSec)
	}
	w.Flush()
	fmt.Fprintln(out, "The Adagrad family: each variant's dense step (one launch) over one float32-gradient table, its rounds alternating with plain Adagrad's step of the same size (20 B/param) in the same run; x plain is the plain step's time over the variant's. B/param counts what the step reads and writes; state B/param what it keeps beside the parameters.")
}
