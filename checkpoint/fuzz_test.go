package checkpoint

import (
	"bytes"
	"errors"
	"testing"

	"github.com/adagrad-go/adagrad/optim"
)

// rewrite writes a state read back and returns the bytes, so that two
// states compare by their encoding (NaN included).
func rewrite(t *testing.T, st optim.State, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, st, meta); err != nil {
		t.Fatalf("an accepted state does not write again: %v", err)
	}
	return buf.Bytes()
}

// roundTrip checks that what Read or ImportTorch accepted writes again,
// and reads back as the same.
func roundTrip(t *testing.T, st optim.State, meta map[string]string) {
	t.Helper()
	b := rewrite(t, st, meta)
	back, backMeta, err := read(b)
	if err != nil {
		t.Fatalf("a rewritten state does not read back: %v", err)
	}
	if !bytes.Equal(rewrite(t, back, backMeta), b) {
		t.Fatalf("a rewritten state reads back as another")
	}
}

// FuzzRead feeds Read arbitrary bytes, starting from valid files (with a
// valid checksum), and each input also resealed (its checksum recomputed)
// so that changed files reach the checks after the checksum: Read must
// refuse (with ErrCheckpoint) or accept, never panic, and whatever it
// accepts must write again and read back the same.
func FuzzRead(f *testing.F) {
	valid := encoded(f)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte{})
	old, err := oldEncodeCheckpoint(trainedState(f), map[string]string{"k": "v"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(old)
	var buf bytes.Buffer
	parts, err := Split(shardedState(f), 2)
	if err != nil {
		f.Fatal(err)
	}
	e, err := encode(parts[1].records(), nil, parts[1].meta())
	if err != nil {
		f.Fatal(err)
	}
	if err := e.writeTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, reseal(data)} {
			st, meta, err := read(b)
			if err != nil {
				if !errors.Is(err, ErrCheckpoint) {
					t.Fatalf("error without ErrCheckpoint: %v", err)
				}
				continue
			}
			roundTrip(t, st, meta)
		}
	})
}

// FuzzImportTorch feeds ImportTorch arbitrary bytes, starting from files as
// PyTorch users write them and from this package's: it must refuse (with
// ErrCheckpoint) or accept, never panic, and what it accepts must write as
// a checkpoint and read back the same.
func FuzzImportTorch(f *testing.F) {
	f.Add(torchFile(f, torchMeta(), "F32"))
	f.Add(torchFile(f, torchMeta(), "I64", rawTensor{name: "buf", dtype: "U8", shape: []int{3}, data: []byte{1, 2, 3}}))
	f.Add(encoded(f))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, reseal(data)} {
			st, info, err := importBytes(b)
			if err != nil {
				if !errors.Is(err, ErrCheckpoint) {
					t.Fatalf("error without ErrCheckpoint: %v", err)
				}
				continue
			}
			roundTrip(t, st, info.Metadata)
		}
	})
}
