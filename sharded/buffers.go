package sharded

import (
	"unsafe"

	"github.com/adagrad-go/adagrad/collective"
)

// grow returns s with length n, reusing its memory when it is large
// enough (the contents are not kept).
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// denseBuffers are one dtype's buffers for the dense reduce-scatter, kept
// between steps: the packed gradients, the rank's summed piece and the
// pieces received.
type denseBuffers[T collective.Float] struct {
	send, piece, scratch []T
}

// alignedBytes returns n bytes whose start is 8-byte aligned, so that
// sections at multiples of 8 can be viewed as int64 or float64.
func alignedBytes(n int) []byte {
	return collective.Bytes(make([]uint64, (n+7)/8))[:n]
}

// view returns b's bytes as a slice of T; b starts 8-byte aligned (see
// alignedBytes) and holds a whole number of T.
func view[T collective.Elem](b []byte) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if len(b) < size {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/size)
}
