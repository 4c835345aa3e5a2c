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
// with row-sparse gradients and every parameter dtype, tables laid out
// with guards in one parameter buffer and one buffer per state, several
// steps of UpdateRows per table (no row, one, some, every row; values
// with non-finite ones), each bitwise against the rule's row-sparse
// reference: touched rows change as the rule says, nothing else changes,
// neither other rows nor other tables nor guards. Float32 runs are also
// checked against a float64 reference.
func UpdateRows(t *testing.T, open Opener) {
	dev := MustOpen(t, open)
	caps := dev.Capabilities()
	for _, dt := range dtypes {
		for _, r := range declaredRules(caps, dt, true) {
			t.Run(fmt.Sprintf("%v/%v", r, dt), func(t *testing.T) {
				if dt == device.Float32 {
					runRows[float32](t, dev, r)
				} else {
					runRows[float64](t, dev, r)
				}
			})
		}
	}
}

func runRows[T Float](t *testing.T, dev device.Backend, rule device.Rule) {
	upd := updater(t, dev)
	spec, _ := rule.Spec()
	rng := rand.New(rand.NewPCG(uint64(dtypeOf[T]()), uint64(rule)+40))
	// Layout: each table and each of its state regions behind guards.
	var ranges []device.Range
	n := 2
	var stateN [device.MaxStates]int
	for i, tb := range rowTables {
		r := device.Range{Off: n, Len: tb[0] * tb[1], Width: tb[1], Rule: rule}
		for k := range spec.State {
			stateN[k] += 1 + (i+k)%3
			r.StateOff[k] = stateN[k]
			stateN[k] += stateLen(r, spec, k)
		}
		ranges = append(ranges, r)
		n += r.Len + 1 + i%4
	}
	param := newMirror[T](t, dev, n)
	var state [device.MaxStates]*mirror[T]
	var bufs [device.MaxStates]device.Buffer
	for k := range spec.State {
		state[k] = newMirror[T](t, dev, stateN[k]+3)
		bufs[k] = state[k].buf
	}
	for _, r := range ranges {
		param.open(r.Off, randoms[T](rng, r.Len, 1))
		for k := range spec.State {
			state[k].open(r.StateOff[k], magnitudes(randoms[T](rng, stateLen(r, spec, k), 0.5)))
		}
	}
	wide := newWideRun(param, state)
	param.upload(t, dev)
	for k := range spec.State {
		state[k].upload(t, dev)
	}
	for s := range updateSteps {
		for i, r := range ranges {
			rows := r.Len / r.Width
			r.Coef = coefsFor(rule, i, s, true)
			indices := touchedRows(rng, rows, s)
			values := randoms[T](rng, len(indices)*r.Width, 0.5+float64(s))
			if i == 5 && len(values) > 10 {
				copy(values[3:], specials[T]())
			}
			u := device.RowUpdate{Param: param.buf, State: bufs, Range: r, Rows: rows, Indices: indices, Values: values}
			if err := upd.UpdateRows(u); err != nil {
				t.Fatalf("step %d, table %d×%d: UpdateRows: %v", s, rows, r.Width, err)
			}
			if err := refRows(r, param.want, mirrorStates(state), indices, values); err != nil {
				t.Fatal(err)
			}
			if wide != nil && !(i == 5 && len(values) > 10) {
				if err := refRows(r, wide.param, wide.state, indices, widened(values)); err != nil {
					t.Fatal(err)
				}
				wide.observe()
			}
			what := fmt.Sprintf("step %d, table %d×%d, rows %v", s, rows, r.Width, indices)
			ok := param.check(t, dev, what+": param")
			for k := range spec.State {
				ok = ok && state[k].check(t, dev, fmt.Sprintf("%s: state %d", what, k))
			}
			if !ok {
				t.FailNow()
			}
		}
	}
	if wide != nil {
		// The table with non-finite values is followed in float64 only
		// while it has none; it is left out of the comparison.
		wideRanges := append(append([]device.Range(nil), ranges[:5]...), ranges[6:]...)
		wide.compare(t, any(param).(*mirror[float32]), any(state).([device.MaxStates]*mirror[float32]), wideRanges, nil)
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
func refRows[T Float](r device.Range, p []T, state [device.MaxStates][]T, indices []int64, values []T) error {
	spec, _ := r.Rule.Spec()
	var st [device.MaxStates][]T
	for k := range spec.State {
		st[k] = state[k][r.StateOff[k] : r.StateOff[k]+stateLen(r, spec, k)]
	}
	if r.Width == 0 || r.Len == 0 {
		return nil
	}
	return ReferenceRows(r.Rule, r.Coef, r.Width, p[r.Off:r.Off+r.Len], st, indices, values)
}
