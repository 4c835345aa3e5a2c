package group

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
)

// Digest returns the first 16 hex digits of the SHA-256 of float32
// tables' bits: what a report prints so that runs on different numbers of
// ranks can be compared bit for bit, not only to the digits printed.
func Digest(tables ...[]float32) string {
	h := sha256.New()
	var b [4]byte
	for _, t := range tables {
		for _, v := range t {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
