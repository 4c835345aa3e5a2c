package checkpoint

import (
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"math"

	"github.com/adagrad-go/adagrad/internal/launch"
)

// nativeLittleEndian reports whether the host keeps floats in the file's
// byte order, so that tensors are hashed, written and read as they lie in
// memory, without a copy. Elsewhere they go through a small buffer,
// converted a chunk at a time; tests clear it to run that path too.
var nativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

const (
	// readChunk is how much of a tensor is read before it is hashed, so
	// that the hash finds the bytes still in cache.
	readChunk = 1 << 20
	// scratchSize is the buffer of the converting path and of skipped
	// tensors.
	scratchSize = 64 << 10
)

// buffer is the little scratch space of one read or write, made when first
// needed.
type buffer []byte

func (b *buffer) get() []byte {
	if *b == nil {
		*b = make([]byte, scratchSize)
	}
	return *b
}

// width returns the element width of a tensor's host slice ([]float32,
// []float64, []uint16 half codes, []uint8), or 0.
func width(s any) int64 {
	switch s.(type) {
	case []float32:
		return 4
	case []float64:
		return 8
	case []uint16:
		return 2
	case []uint8:
		return 1
	}
	return 0
}

// length returns the number of elements of a tensor's host slice.
func length(s any) int {
	switch v := s.(type) {
	case []float32:
		return len(v)
	case []float64:
		return len(v)
	case []uint16:
		return len(v)
	case []uint8:
		return len(v)
	}
	return 0
}

// eachChunk calls fn with the little-endian bytes of s (a tensor's host
// slice): on little-endian hosts, and for bytes, the slice's own memory in
// one piece; elsewhere converted into buf a chunk at a time.
func eachChunk(s any, buf *buffer, fn func([]byte) error) error {
	if b, ok := s.([]uint8); ok {
		if len(b) > 0 {
			return fn(b)
		}
		return nil
	}
	if nativeLittleEndian {
		if b := launch.HostBytes(s); len(b) > 0 {
			return fn(b)
		}
		return nil
	}
	scratch := buf.get()
	switch v := s.(type) {
	case []float32:
		for len(v) > 0 {
			n := min(len(v), len(scratch)/4)
			for i, x := range v[:n] {
				binary.LittleEndian.PutUint32(scratch[4*i:], math.Float32bits(x))
			}
			if err := fn(scratch[:4*n]); err != nil {
				return err
			}
			v = v[n:]
		}
	case []float64:
		for len(v) > 0 {
			n := min(len(v), len(scratch)/8)
			for i, x := range v[:n] {
				binary.LittleEndian.PutUint64(scratch[8*i:], math.Float64bits(x))
			}
			if err := fn(scratch[:8*n]); err != nil {
				return err
			}
			v = v[n:]
		}
	case []uint16:
		for len(v) > 0 {
			n := min(len(v), len(scratch)/2)
			for i, x := range v[:n] {
				binary.LittleEndian.PutUint16(scratch[2*i:], x)
			}
			if err := fn(scratch[:2*n]); err != nil {
				return err
			}
			v = v[n:]
		}
	}
	return nil
}

// target is where the bytes of one stored tensor go when a file is read.
type target struct {
	name   string
	lo, hi int64 // its bytes in the data
	// dst is the tensor's host slice of its dtype and length ([]uint8 is
	// kept as read), or nil (hashed and dropped).
	dst any
}

// readData reads the tensors' bytes in file order (targets sorted by
// offset, tiling the data as checkLayout ensured) into their destinations,
// hashing every byte as it arrives.
func readData(r io.Reader, targets []target, h hash.Hash) error {
	var buf buffer
	for _, t := range targets {
		var err error
		switch dst := t.dst.(type) {
		case nil:
			err = skip(r, t.hi-t.lo, buf.get(), h)
		case []byte:
			_, err = io.ReadFull(r, dst)
			h.Write(dst)
		default:
			err = readFloats(r, dst, &buf, h)
		}
		if err != nil {
			return readErr(fmt.Sprintf("tensor %q", t.name), err)
		}
	}
	return nil
}

// skip reads and hashes n bytes it does not keep.
func skip(r io.Reader, n int64, scratch []byte, h hash.Hash) error {
	for n > 0 {
		m := min(n, int64(len(scratch)))
		if _, err := io.ReadFull(r, scratch[:m]); err != nil {
			return err
		}
		h.Write(scratch[:m])
		n -= m
	}
	return nil
}

// readFloats fills dst ([]float32, []float64 or []uint16) from
// little-endian bytes.
func readFloats(r io.Reader, dst any, buf *buffer, h hash.Hash) error {
	if nativeLittleEndian {
		b := launch.HostBytes(dst)
		for len(b) > 0 {
			m := min(len(b), readChunk)
			if _, err := io.ReadFull(r, b[:m]); err != nil {
				return err
			}
			h.Write(b[:m])
			b = b[m:]
		}
		return nil
	}
	scratch := buf.get()
	switch v := dst.(type) {
	case []float32:
		for len(v) > 0 {
			n := min(len(v), len(scratch)/4)
			if _, err := io.ReadFull(r, scratch[:4*n]); err != nil {
				return err
			}
			h.Write(scratch[:4*n])
			for i := range v[:n] {
				v[i] = math.Float32frombits(binary.LittleEndian.Uint32(scratch[4*i:]))
			}
			v = v[n:]
		}
	case []float64:
		for len(v) > 0 {
			n := min(len(v), len(scratch)/8)
			if _, err := io.ReadFull(r, scratch[:8*n]); err != nil {
				return err
			}
			h.Write(scratch[:8*n])
			for i := range v[:n] {
				v[i] = math.Float64frombits(binary.LittleEndian.Uint64(scratch[8*i:]))
			}
			v = v[n:]
		}
	case []uint16:
		for len(v) > 0 {
			n := min(len(v), len(scratch)/2)
			if _, err := io.ReadFull(r, scratch[:2*n]); err != nil {
				return err
			}
			h.Write(scratch[:2*n])
			for i := range v[:n] {
				v[i] = binary.LittleEndian.Uint16(scratch[2*i:])
			}
			v = v[n:]
		}
	}
	return nil
}
