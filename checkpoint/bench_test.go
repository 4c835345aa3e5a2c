package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/adagrad-go/adagrad/internal/atomicfile"
	"github.com/adagrad-go/adagrad/optim"
)

// model2to24 is the state of a model of 2^24 float32 parameters: one
// 65536×256 embedding table and its accumulator, 128 MiB of tensors.
func model2to24() optim.State {
	const rows, width = 1 << 16, 256
	p, s := make([]float32, rows*width), make([]float32, rows*width)
	for i := range p {
		p[i] = float32(i%1000) * 0.001
		s[i] = float32(i%777) + 0.5
	}
	return optim.State{Tensors: []optim.TensorState{{Name: "emb", Shape: []int{rows, width},
		Hyper: optim.DefaultHyper(), Step: 1000, Param: p, State: []any{s}}}}
}

// cost is what one call took: time, allocations and bytes allocated.
type cost struct {
	ns, allocs, bytes float64
}

// measure runs f once and returns its cost (the memory counters of the
// whole process: run with nothing else going on).
func measure(b *testing.B, f func() error) cost {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	if err := f(); err != nil {
		b.Fatal(err)
	}
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return cost{ns: float64(d.Nanoseconds()), allocs: float64(after.Mallocs - before.Mallocs),
		bytes: float64(after.TotalAlloc - before.TotalAlloc)}
}

// BenchmarkCheckpointOldVsNew compares, in one run and on one 2^24-parameter
// model, the codec of commit 4255f35 (optim.EncodeCheckpoint and
// DecodeCheckpoint, kept in old_codec_test.go) with this package's
// streaming Write and Read, in memory (encode: to io.Discard for the new
// one, to a byte slice for the old; decode: from a bytes.Reader, from a byte
// slice), and through files (Save and Load against the old encoder plus an
// atomic write, os.ReadFile plus the old decoder). Every iteration runs
// both, alternately; the metrics are per call of each, and the ratios
// old/new:
//
//	go test -run '^$' -bench CheckpointOldVsNew -benchtime 3x ./checkpoint
//
// "sha256-ms" is the floor of any verified decode: hashing the 128 MiB of
// tensors alone.
func BenchmarkCheckpointOldVsNew(b *testing.B) {
	st := model2to24()
	tensorBytes := float64(2 * 4 * length(st.Tensors[0].Param))
	file, err := oldEncodeCheckpoint(st, nil)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	oldPath, newPath := filepath.Join(dir, "old.safetensors"), filepath.Join(dir, "new.safetensors")
	cases := []struct {
		name     string
		old, new func() error
		tensors  bool // the call's result is the tensors themselves
	}{
		{name: "encode",
			old: func() error { _, err := oldEncodeCheckpoint(st, nil); return err },
			new: func() error { return Write(io.Discard, st, nil) }},
		{name: "decode", tensors: true,
			old: func() error { _, _, err := oldDecodeCheckpoint(file); return err },
			new: func() error { _, _, err := Read(bytes.NewReader(file), int64(len(file))); return err }},
		{name: "save",
			old: func() error {
				b, err := oldEncodeCheckpoint(st, nil)
				if err != nil {
					return err
				}
				return atomicfile.WriteFile(oldPath, b)
			},
			new: func() error { return Save(newPath, st, nil) }},
		{name: "load", tensors: true,
			old: func() error {
				b, err := os.ReadFile(oldPath)
				if err != nil {
					return err
				}
				_, _, err = oldDecodeCheckpoint(b)
				return err
			},
			new: func() error { _, _, err := Load(newPath); return err }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var old, new cost
			n := 0.0
			for b.Loop() {
				o, w := measure(b, c.old), measure(b, c.new)
				old.ns, old.allocs, old.bytes = old.ns+o.ns, old.allocs+o.allocs, old.bytes+o.bytes
				new.ns, new.allocs, new.bytes = new.ns+w.ns, new.allocs+w.allocs, new.bytes+w.bytes
				n++
			}
			b.ReportMetric(old.ns/n/1e6, "old-ms")
			b.ReportMetric(new.ns/n/1e6, "new-ms")
			b.ReportMetric(old.ns/new.ns, "x-faster")
			b.ReportMetric(old.allocs/n, "old-allocs")
			b.ReportMetric(new.allocs/n, "new-allocs")
			b.ReportMetric(old.allocs/max(new.allocs, 1), "x-fewer-allocs")
			extra := 0.0
			if c.tensors {
				extra = tensorBytes
			}
			b.ReportMetric((old.bytes/n-extra)/(1<<20), "old-MiB-beyond-tensors")
			b.ReportMetric((new.bytes/n-extra)/(1<<20), "new-MiB-beyond-tensors")
		})
	}
	b.Run("sha256", func(b *testing.B) {
		data := file[len(file)-int(tensorBytes):]
		var total time.Duration
		n := 0
		for b.Loop() {
			start := time.Now()
			sha256.Sum256(data)
			total += time.Since(start)
			n++
		}
		b.ReportMetric(float64(total.Milliseconds())/float64(n), "sha256-ms")
	})
}

// BenchmarkWriteRead measures the streaming codec alone, per model size.
func BenchmarkWriteRead(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 16, 1 << 20} {
		st := optim.State{Tensors: []optim.TensorState{{Name: "w", Shape: []int{n}, Hyper: optim.DefaultHyper(),
			Param: make([]float32, n), State: []any{make([]float32, n)}}}}
		var buf bytes.Buffer
		if err := Write(&buf, st, nil); err != nil {
			b.Fatal(err)
		}
		file := buf.Bytes()
		b.Run(fmt.Sprintf("write/%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(file)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Write(io.Discard, st, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("read/%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(file)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Read(bytes.NewReader(file), int64(len(file))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
