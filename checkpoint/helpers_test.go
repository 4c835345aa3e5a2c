package checkpoint

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/optim"
)

// trainedParams are the tensors of trainedOptimizer: two dtypes and shapes,
// per-tensor hyperparameters, and an empty tensor.
func trainedParams(zero bool) []optim.Param {
	emb, bias := []float32{1, 2, 3, 4, 5, 6}, []float64{0.5, -0.5}
	if zero {
		emb, bias = make([]float32, 6), make([]float64, 2)
	}
	return []optim.Param{
		{Name: "emb", Init: emb, Shape: []int{3, 2}},
		{Name: "bias", Init: bias, Options: []optim.Option{optim.LR(0.3), optim.Maximize(true)}},
		{Name: "empty", Init: []float32{}},
	}
}

// trainedOptimizer returns an optimizer of two dtypes and shapes, a few
// steps in.
func trainedOptimizer(t testing.TB) *optim.Adagrad {
	t.Helper()
	dev := cpu.New()
	t.Cleanup(func() { dev.Close() })
	opt, err := optim.New(dev, trainedParams(false), optim.LRDecay(0.1), optim.InitialAccumulatorValue(0.2))
	if err != nil {
		t.Fatal(err)
	}
	for step := range 3 {
		g := []float32{1, -1, 0.5, float32(step), 2, 3}
		if err := opt.SetGrad("emb", g); err != nil {
			t.Fatal(err)
		}
		if step != 1 {
			if err := opt.SetGrad("bias", []float64{0.25, float64(step)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := opt.Step(); err != nil {
			t.Fatal(err)
		}
	}
	return opt
}

// freshLike returns an untrained optimizer with the same tensors.
func freshLike(t testing.TB) *optim.Adagrad {
	t.Helper()
	dev := cpu.New()
	t.Cleanup(func() { dev.Close() })
	opt, err := optim.New(dev, trainedParams(true))
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

// state returns an optimizer's state, failing the test on error.
func state(t testing.TB, opt *optim.Adagrad) optim.State {
	t.Helper()
	st, err := opt.State()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// trainedState is the state of trainedOptimizer.
func trainedState(t testing.TB) optim.State { return state(t, trainedOptimizer(t)) }

// encoded is a checkpoint of trainedOptimizer, with one metadata key.
func encoded(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, trainedState(t), map[string]string{"trainer.step": "42"}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// read is Read of a byte slice.
func read(b []byte) (optim.State, map[string]string, error) {
	return Read(bytes.NewReader(b), int64(len(b)))
}

// rawTensor is one tensor of a forged file.
type rawTensor struct {
	name, dtype string
	shape       []int
	data        []byte
}

// forge writes a safetensors file of these tensors (in this order) and
// metadata, with this package's checksum when sign is set: files that Write
// would never produce, to see that Read refuses them for what they are and
// not for their checksum.
func forge(t testing.TB, tensors []rawTensor, meta map[string]string, sign bool) []byte {
	t.Helper()
	entries := map[string]entry{}
	var data []byte
	for _, r := range tensors {
		entries[r.name] = entry{DType: r.dtype, Shape: r.shape, DataOffsets: [2]int64{int64(len(data)), int64(len(data) + len(r.data))}}
		data = append(data, r.data...)
	}
	if sign {
		h := headerHash(entries, meta)
		h.Write(data)
		meta[metaSum] = hex.EncodeToString(h.Sum(nil))
	}
	head, err := marshalHeader(entries, meta)
	if err != nil {
		t.Fatal(err)
	}
	return append(head, data...)
}

// reseal recomputes the checksum of a file whose header parses, so that a
// changed file reaches the checks after the checksum; it returns b as it is
// otherwise.
func reseal(b []byte) []byte {
	h, err := readHeader(bytes.NewReader(b), int64(len(b)))
	if err != nil || h.meta == nil {
		return b
	}
	if _, ok := h.meta[metaSum]; !ok {
		return b
	}
	hh := headerHash(h.entries, h.meta)
	hh.Write(b[int64(len(b))-h.dataLen:])
	h.meta[metaSum] = hex.EncodeToString(hh.Sum(nil))
	head, err := marshalHeader(h.entries, h.meta)
	if err != nil {
		return b
	}
	return append(head, b[int64(len(b))-h.dataLen:]...)
}

// jsonOf is the JSON of v, for metadata.
func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// f32 is the little-endian bytes of float32 values.
func f32(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = append(b, hostBytes([]float32{x})...)
	}
	return b
}

// hostBytes is a copy of the little-endian bytes of a float slice.
func hostBytes(s any) []byte {
	var out []byte
	var buf buffer
	_ = eachChunk(s, &buf, func(b []byte) error { out = append(out, b...); return nil })
	return out
}

// jsonUnmarshal decodes a metadata string.
func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// headerGroups parses a file's header and its param groups.
func headerGroups(t testing.TB, b []byte) (*header, []torchGroup) {
	t.Helper()
	h, err := readHeader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var groups []torchGroup
	if err := jsonUnmarshal(h.meta[metaParamGroups], &groups); err != nil {
		t.Fatal(err)
	}
	return h, groups
}
