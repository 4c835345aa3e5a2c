package optim_test

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/adagrad-go/adagrad/optim"
)

// snapshot is everything a refused call must leave as it was: the state
// (parameters, accumulators, steps, hyperparameters) and the tensor list.
type snapshot struct {
	state   optim.State
	tensors []optim.TensorInfo
}

func takeSnapshot(t testing.TB, opt *optim.Adagrad) snapshot {
	t.Helper()
	st, err := opt.State()
	if err != nil {
		t.Fatalf("State: %v", err)
	}
	return snapshot{st, opt.Tensors()}
}

// diff describes the first difference between two snapshots, comparing
// every float by its bits (so that NaN equals itself), or returns "".
func (s snapshot) diff(o snapshot) string {
	if !reflect.DeepEqual(s.tensors, o.tensors) {
		return fmt.Sprintf("tensors %+v, then %+v", s.tensors, o.tensors)
	}
	a, b := s.state.Tensors, o.state.Tensors
	if len(a) != len(b) {
		return fmt.Sprintf("%d tensors in the state, then %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.Step != y.Step || x.Hyper != y.Hyper || !reflect.DeepEqual(x.Shape, y.Shape) {
			return fmt.Sprintf("tensor %d: %q %v step %d %+v, then %q %v step %d %+v", i, x.Name, x.Shape, x.Step, x.Hyper, y.Name, y.Shape, y.Step, y.Hyper)
		}
		if d := bitsDiff(x.Param, y.Param); d != "" {
			return fmt.Sprintf("tensor %q parameters: %s", x.Name, d)
		}
		if len(x.State) != len(y.State) {
			return fmt.Sprintf("tensor %q: %d states, then %d", x.Name, len(x.State), len(y.State))
		}
		for k := range x.State {
			if d := bitsDiff(x.State[k], y.State[k]); d != "" {
				return fmt.Sprintf("tensor %q state %d: %s", x.Name, k, d)
			}
		}
	}
	return ""
}

// bitsDiff compares two host slices ([]float32, []float64, or codes:
// []uint16, []uint8) bit for bit.
func bitsDiff(x, y any) string {
	bx, by := bitsOf(x), bitsOf(y)
	if bx == nil || by == nil {
		return fmt.Sprintf("%T and %T", x, y)
	}
	if len(bx) != len(by) {
		return fmt.Sprintf("%d elements, then %d", len(bx), len(by))
	}
	for i := range bx {
		if bx[i] != by[i] {
			return fmt.Sprintf("element %d: bits %#x, then %#x", i, bx[i], by[i])
		}
	}
	return ""
}

func bitsOf(s any) []uint64 {
	switch v := s.(type) {
	case []float32:
		out := make([]uint64, len(v))
		for i, f := range v {
			out[i] = uint64(math.Float32bits(f))
		}
		return out
	case []float64:
		out := make([]uint64, len(v))
		for i, f := range v {
			out[i] = math.Float64bits(f)
		}
		return out
	case []uint16: // half parameters' codes
		out := make([]uint64, len(v))
		for i, c := range v {
			out[i] = uint64(c)
		}
		return out
	case []uint8: // 8-bit state's codes
		out := make([]uint64, len(v))
		for i, c := range v {
			out[i] = uint64(c)
		}
		return out
	}
	return nil
}

// cloneState copies a State deeply, so that a test can change the copy.
func cloneState(st optim.State) optim.State {
	out := optim.State{Tensors: make([]optim.TensorState, len(st.Tensors))}
	for i, ts := range st.Tensors {
		c := ts
		c.Shape = append([]int(nil), ts.Shape...)
		c.Param = cloneSlice(ts.Param)
		c.State = make([]any, len(ts.State))
		for k, s := range ts.State {
			c.State[k] = cloneSlice(s)
		}
		out.Tensors[i] = c
	}
	return out
}

func cloneSlice(s any) any {
	switch v := s.(type) {
	case []float32:
		return append([]float32(nil), v...)
	case []float64:
		return append([]float64(nil), v...)
	case []uint16:
		return append([]uint16(nil), v...)
	case []uint8:
		return append([]uint8(nil), v...)
	}
	return s
}
