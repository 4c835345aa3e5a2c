package devicetest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// rowTables are the tables of the row-sparse layer, rows × width: a table
// without rows, a single row, 1-D tensors (rows of one element), widths
// either side of the 4-wide vectors and a wide embedding.
var rowTables = [][2]int{{0, 4}, {1, 5}, {200, 1}, {50, 8}, {37, 3}, {300, 64}, {64, 17}}

// UpdateRows is the row-sparse layer: for every rule the backend declares
// with row-sparse gradients and every parameter dtype (half parameters
// included, their values float32), tables laid out with guards in one
// parameter buffer and one buffer per kind of state, several steps of
// UpdateRows per table (no row, one, some, every row; values with
// non-finite ones), each bitwise against the rule's row-sparse reference:
// touched rows change as the rule says, nothing else changes, neither
// other rows nor other tables nor guards. Float32 runs are also checked
// against a float64 reference.
func UpdateRows(t *testing.T, open Opener) {
	dev := MustOpen(t, open)
	caps := dev.Capabilities()
	for _, dt := range paramDTypes {
		for _, r := range declaredRules(caps, dt, true) {
			t.Run(fmt.Sprintf("%v/%v", r, dt), func(t *testing.T) {
				if dt.Compute() == device.Float32 {
					runRows[float32](t, dev, dt, r)
				} else {
					runRows[float64](t, dev, dt, r)
				}
			})
		}
	}
}

func runRows[T Float](t *testing.T, dev device.Backend, dt device.DType, rule device.Rule) {
	upd := updater(t, dev)
	spec, _ := rule.Spec()
	rng := rand.New(rand.NewPCG(uint64(dt), uint64(rule)+40))
	// Layout: each table and each of its state regions behind guards.
	var ranges []device.Range
	n := 2
	var stateN [device.StateBuffers]int
	for i, tb := range rowTables {
		r := device.Range{Off: n, Len: tb[0] * tb[1], Width: tb[1], Rule: rule}
		for k, ss := range spec.State {
			b := ss.Buffer()
			stateN[b] += 1 + (i+k)%3
			r.StateOff[k] = stateN[b]
			stateN[b] += spec.StateLen(k, r.Len, r.Width)
		}
		ranges = append(ranges, r)
		n += r.Len + 1 + i%4
	}
	for b := range stateN {
		stateN[b] += 3
	}
	param := newParamMirror[T](t, dev, dt, n)
	state := newStateMirrors[T](t, dev, []device.Rule{rule}, stateN)
	for _, r := range ranges {
		param.init(rng, r.Off, r.Len)
		state.init(rng, r)
	}
	var wide *wideRun
	if dt == device.Float32 && state.bytes == nil {
		wide = newWideRun(param.real, state.real)
	}
	param.upload(t, dev)
	state.upload(t, dev)
	for s := range updateSteps {
		for i, r := range ranges {
			rows := r.Len / r.Width
			r.Coef = coefsFor(rule, i, s, true)
			r.Key = stepKey(i, s)
			indices := touchedRows(rng, rows, s)
			values := randoms[T](rng, len(indices)*r.Width, 0.5+float64(s))
			if i == 5 && len(values) > 10 {
				copy(values[3:], specials[T]())
			}
			u := device.RowUpdate{Param: param.buf(), State: state.bufs(), Range: r, Rows: rows, Indices: indices, Values: values}
			if err := upd.UpdateRows(u); err != nil {
				t.Fatalf("step %d, table %d×%d: UpdateRows: %v", s, rows, r.Width, err)
			}
			if err := refRows(r, param, state, indices, values); err != nil {
				t.Fatal(err)
			}
			if wide != nil && !(i == 5 && len(values) > 10) {
				wp, ws := wide.host()
				if err := refRows(r, wp, ws, indices, widened(values)); err != nil {
					t.Fatal(err)
				}
				wide.observe()
			}
			what := fmt.Sprintf("step %d, table %d×%d, rows %v", s, rows, r.Width, indices)
			if !param.check(t, dev, what+": param") || !state.check(t, dev, what) {
				t.FailNow()
			}
		}
	}
	if wide != nil {
		// The table with non-finite values is followed in float64 only
		// while it has none; it is left out of the comparison.
		wideRanges := append(append([]device.Range(nil), ranges[:5]...), ranges[6:]...)
		wide.compare(t, any(param.real).(*mirror[float32]), any(state.real).(*mirror[float32]), wideRanges, nil)
	}
}

// touchedRows returns strictly increasing rows of a table: none at the
// first step, every row at the second, a random subset with the first and
// last rows after that.
func touchedRows(rng *rand.Rand, rows, step int) []int64 {
	var out []int64
	for r := range rows {
		switch {
		case step == 0:
		case step == 1, r == 0, r == rows-1, rng.IntN(3) == 0:
			out = append(out, int64(r))
		}
	}
	return out
}

// refRows applies a row update by the rule's reference to whole host
// buffers, indexed as the device buffers.
func refRows[T Float](r device.Range, param *paramMirror[T], state *stateMirrors[T], indices []int64, values []T) error {
	if r.Width == 0 || r.Len == 0 {
		return nil
	}
	st, done := state.span(r)
	defer done()
	if param.codes == nil {
		return ReferenceRows(r.Rule, r.Coef, r.Width, param.values()[r.Off:r.Off+r.Len], st, indices, values)
	}
	return ReferenceHalfRows(param.dt, r.Rule, r.Coef, r.Width, r.Key, param.codes.want[r.Off:r.Off+r.Len],
		any(st).([device.MaxStates][]float32), indices, any(values).([]float32))
}
