package checkpoint

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
)

// ErrCheckpoint: a checkpoint file is malformed, truncated or damaged, or a
// State cannot be written as one.
var ErrCheckpoint = errors.New("checkpoint: bad checkpoint")

// Format is the value of the "format" metadata key of this package's files.
const Format = "adagrad-go/1"

const (
	// maxHeader bounds the JSON header read before anything else: a header
	// larger than this is not one of ours (nor a sane safetensors file).
	maxHeader = 100 << 20
	// metadataKey is safetensors' key of the string-to-string metadata.
	metadataKey = "__metadata__"
)

// Reserved metadata keys: what this package keeps in __metadata__ besides
// the caller's keys.
const (
	metaFormat      = "format"
	metaParamGroups = "param_groups"
	metaNames       = "names"
	metaSteps       = "steps"
	metaSum         = "sha256"
	metaShard       = "shard"
)

func reservedMeta(k string) bool {
	switch k {
	case metaFormat, metaParamGroups, metaNames, metaSteps, metaSum, metaShard:
		return true
	}
	return false
}

// fail returns an ErrCheckpoint error.
func fail(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCheckpoint}, args...)...)
}

// wrap marks err as an ErrCheckpoint error, keeping it for errors.Is.
func wrap(err error) error { return fmt.Errorf("%w: %w", ErrCheckpoint, err) }

// entry is one tensor of a safetensors header.
type entry struct {
	DType       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// dtypeWidth is the width in bytes of each safetensors dtype, 0 for one
// that is not.
func dtypeWidth(dt string) int64 {
	switch dt {
	case "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3":
		return 1
	case "I16", "U16", "F16", "BF16":
		return 2
	case "I32", "U32", "F32":
		return 4
	case "I64", "U64", "F64":
		return 8
	}
	return 0
}

// elements returns the number of elements of a shape, or false when a
// dimension is negative or the count would exceed limit (which bounds it
// against the size of the file long before it overflows).
func elements(shape []int, limit int64) (int64, bool) {
	count := int64(1)
	for _, d := range shape {
		if d < 0 || (d > 0 && count > limit/int64(d)) {
			return 0, false
		}
		count *= int64(d)
	}
	return count, true
}

// header is a parsed safetensors header: its tensors and metadata, and the
// length of the data that follows it.
type header struct {
	entries map[string]entry
	meta    map[string]string
	dataLen int64
}

// readHeader reads the 8-byte length and the JSON header of a file of size
// bytes, and checks that the tensors it lists tile the data that follows.
// It reads nothing past the header and allocates no more than the header's
// length, itself bounded by maxHeader and by size.
func readHeader(r io.Reader, size int64) (*header, error) {
	if size < 8 {
		return nil, fail("%d bytes is shorter than a header length", size)
	}
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, readErr("the header length", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > maxHeader || n > uint64(size-8) {
		return nil, fail("header of %d bytes in a file of %d", n, size)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, readErr("the header", err)
	}
	h := &header{entries: map[string]entry{}, dataLen: size - 8 - int64(n)}
	if err := h.decode(buf); err != nil {
		return nil, fail("header: %v", err)
	}
	if err := checkLayout(h.entries, h.dataLen); err != nil {
		return nil, fail("%v", err)
	}
	return h, nil
}

// decode parses the JSON header with one decoder, refusing duplicate keys
// (which encoding/json would silently merge), unknown fields of a tensor
// entry, and anything after the object but spaces.
func (h *header) decode(buf []byte) error {
	dec := json.NewDecoder(bytes.NewReader(buf))
	dec.DisallowUnknownFields()
	err := eachMember(dec, func(key string) error {
		if key == metadataKey {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			if string(raw) == "null" { // as good as none
				return nil
			}
			h.meta = map[string]string{}
			inner := json.NewDecoder(bytes.NewReader(raw))
			return eachMember(inner, func(k string) error {
				var v string
				if err := inner.Decode(&v); err != nil {
					return fmt.Errorf("metadata %q is not a string", k)
				}
				h.meta[k] = v
				return nil
			})
		}
		var e entry
		if err := dec.Decode(&e); err != nil {
			return fmt.Errorf("tensor %q: %v", key, err)
		}
		if e.Shape == nil {
			return fmt.Errorf("tensor %q has no shape", key)
		}
		h.entries[key] = e
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

// eachMember reads one JSON object from dec and calls each with every key;
// each decodes the value. A key seen twice is refused.
func eachMember(dec *json.Decoder, each func(key string) error) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key := tok.(string) // the decoder allows only strings as keys
		if seen[key] {
			return fmt.Errorf("key %q twice", key)
		}
		seen[key] = true
		if err := each(key); err != nil {
			return err
		}
	}
	_, err := dec.Token() // the closing brace
	return err
}

// readErr names what a read failed on: the end of the file is a truncated
// (ErrCheckpoint) file, anything else an I/O error.
func readErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fail("truncated: the file ends in %s", what)
	}
	return fmt.Errorf("checkpoint: reading %s: %w", what, err)
}

// checkLayout checks that every tensor's bytes lie inside the data, match
// its dtype and shape, and that the tensors tile the data exactly.
func checkLayout(entries map[string]entry, size int64) error {
	type span struct{ lo, hi int64 }
	spans := make([]span, 0, len(entries))
	for name, e := range entries {
		width := dtypeWidth(e.DType)
		if width == 0 {
			return fmt.Errorf("tensor %q has dtype %q", name, e.DType)
		}
		count, ok := elements(e.Shape, min(size/width, math.MaxInt)) // a slice's length is an int
		if !ok {
			return fmt.Errorf("tensor %q has shape %v, more than the %d bytes of data hold", name, e.Shape, size)
		}
		lo, hi := e.DataOffsets[0], e.DataOffsets[1]
		if lo < 0 || hi < lo || hi > size || hi-lo != count*width {
			return fmt.Errorf("tensor %q: bytes [%d,%d) for %d %s in %d bytes of data", name, lo, hi, count, e.DType, size)
		}
		spans = append(spans, span{lo, hi})
	}
	slices.SortFunc(spans, func(a, b span) int {
		if c := cmp.Compare(a.lo, b.lo); c != 0 {
			return c
		}
		return cmp.Compare(a.hi, b.hi)
	})
	at := int64(0)
	for _, s := range spans {
		if s.lo != at {
			return fmt.Errorf("tensor bytes overlap or leave a gap at %d", at)
		}
		at = s.hi
	}
	if at != size {
		return fmt.Errorf("%d bytes of data after the last tensor", size-at)
	}
	return nil
}

// headerHash starts the checksum of a file: a canonical form of its header
// (tensor entries and metadata sorted by key, the checksum itself left
// out). The tensor bytes follow, in file order.
func headerHash(entries map[string]entry, meta map[string]string) hash.Hash {
	h := sha256.New()
	keys := make([]string, 0, max(len(entries), len(meta)))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// The lines of fmt's "t %q %s %v %d %d\n" and "m %q %q\n", built
	// without fmt's allocations.
	var line []byte
	for _, k := range keys {
		e := entries[k]
		line = strconv.AppendQuote(append(line[:0], "t "...), k)
		line = append(append(append(line, ' '), e.DType...), " ["...)
		for i, d := range e.Shape {
			if i > 0 {
				line = append(line, ' ')
			}
			line = strconv.AppendInt(line, int64(d), 10)
		}
		line = strconv.AppendInt(append(line, "] "...), e.DataOffsets[0], 10)
		line = strconv.AppendInt(append(line, ' '), e.DataOffsets[1], 10)
		h.Write(append(line, '\n'))
	}
	keys = keys[:0]
	for k := range meta {
		if k != metaSum {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		line = strconv.AppendQuote(append(line[:0], "m "...), k)
		line = strconv.AppendQuote(append(line, ' '), meta[k])
		h.Write(append(line, '\n'))
	}
	return h
}

// marshalHeader returns the 8-byte length and the JSON header, padded with
// spaces so that the data starts 8-byte aligned as safetensors recommends.
func marshalHeader(entries map[string]entry, meta map[string]string) ([]byte, error) {
	full := make(map[string]any, len(entries)+1)
	full[metadataKey] = meta
	for k, e := range entries {
		full[k] = e
	}
	js, err := json.Marshal(full)
	if err != nil {
		return nil, err
	}
	pad := (8 - len(js)%8) % 8
	out := make([]byte, 8, 8+len(js)+pad)
	binary.LittleEndian.PutUint64(out, uint64(len(js)+pad))
	out = append(out, js...)
	for range pad {
		out = append(out, ' ')
	}
	return out, nil
}
