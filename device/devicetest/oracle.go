package devicetest

import (
	"fmt"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// Oracle replays every PyTorch trajectory (TorchCases) through the
// backend's Update and UpdateRows directly: the test computes each step's
// learning rate from the parameter's own step count (a parameter without a
// gradient sits the step out, as in PyTorch) and sums duplicate rows in
// PyTorch's order (Coalesce). Each step is bitwise against the reference,
// with guards around every parameter and accumulator; the final values
// are held to PyTorch by TorchCase.Check. The figures are logged.
func Oracle(t *testing.T, open Opener) {
	cases, err := TorchCases()
	if err != nil {
		t.Fatal(err)
	}
	dev := MustOpen(t, open)
	caps := dev.Capabilities()
	figures := TorchFigures{}
	for _, c := range cases {
		t.Run(c.Set+"/"+c.Name, func(t *testing.T) {
			if !caps.Supports(device.Adagrad, c.DType, c.Sparse) {
				t.Skipf("%v does not run %v on %v (sparse %v)", dev, device.Adagrad, c.DType, c.Sparse)
			}
			var fits []TorchFit
			if c.DType == device.Float32 {
				fits = replayTorch[float32](t, dev, c)
			} else {
				fits = replayTorch[float64](t, dev, c)
			}
			figures.Add(c, fits...)
		})
	}
	figures.Log(t)
}

func replayTorch[T Float](t *testing.T, dev device.Backend, c *TorchCase) []TorchFit {
	upd := updater(t, dev)
	ranges := make([]device.Range, len(c.Params))
	n, sn := 1, 2
	for k, p := range c.Params {
		ranges[k] = device.Range{Off: n, Len: len(p.Init), Width: p.Width(), Rule: device.Adagrad}
		ranges[k].StateOff[0] = sn
		n += len(p.Init) + 1 + k%3
		sn += len(p.Init) + 2
	}
	param, sum := newMirror[T](t, dev, n), newMirror[T](t, dev, sn)
	var grad *mirror[T]
	if !c.Sparse {
		grad = newMirror[T](t, dev, n)
	}
	for k, p := range c.Params {
		param.open(ranges[k].Off, narrow[T](p.Init))
		acc := make([]T, len(p.Init))
		for i := range acc {
			acc[i] = T(c.Hyper.InitialAccumulatorValue)
		}
		sum.open(ranges[k].StateOff[0], acc)
	}
	param.upload(t, dev)
	sum.upload(t, dev)
	st := [device.StateBuffers]device.Buffer{sum.buf}
	steps := make([]int64, len(c.Params))
	for s, row := range c.Grads {
		var step []device.Range
		for k, g := range row {
			if g.None {
				continue
			}
			steps[k]++
			r := ranges[k]
			r.Coef = c.Coef(steps[k])
			if c.Sparse {
				idx, vals := Coalesce(g.Indices, narrow[T](g.Values), r.Width)
				u := device.RowUpdate{Param: param.buf, State: st, Range: r, Rows: c.Params[k].Rows(), Indices: idx, Values: vals}
				if err := upd.UpdateRows(u); err != nil {
					t.Fatalf("step %d p%d: UpdateRows: %v", s, k, err)
				}
				if err := refRows(r, &paramMirror[T]{real: param}, &stateMirrors[T]{real: sum}, idx, vals); err != nil {
					t.Fatal(err)
				}
				continue
			}
			copy(grad.want[r.Off:], narrow[T](g.Dense))
			step = append(step, r)
		}
		if len(step) > 0 {
			grad.upload(t, dev)
			if err := upd.Update(device.Update{Param: param.buf, Grad: grad.buf, State: st, Ranges: step}); err != nil {
				t.Fatalf("step %d: Update: %v", s, err)
			}
			for _, r := range step {
				if err := refRange(r, &paramMirror[T]{real: param}, grad.want, &stateMirrors[T]{real: sum}); err != nil {
					t.Fatal(err)
				}
			}
		}
		what := fmt.Sprintf("step %d", s)
		if !param.check(t, dev, what+" param") || !sum.check(t, dev, what+" sum") {
			t.FailNow()
		}
	}
	fits := make([]TorchFit, len(c.Params))
	for k, r := range ranges {
		p := widened(param.want[r.Off : r.Off+r.Len])
		s := widened(sum.want[r.StateOff[0] : r.StateOff[0]+r.Len])
		fits[k] = c.Check(t, k, p, s)
	}
	return fits
}
