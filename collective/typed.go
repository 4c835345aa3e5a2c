package collective

import (
	"fmt"
	"unsafe"
)

// Elem is an element type that travels as its in-memory bytes.
type Elem interface {
	~uint8 | ~int32 | ~uint32 | ~int64 | ~uint64 | ~float32 | ~float64
}

// Float is an element type the reductions sum.
type Float interface{ ~float32 | ~float64 }

// Bytes returns s's memory as bytes, without copying.
func Bytes[T Elem](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(zero)))
}

func byteViews[T Elem](s [][]T) [][]byte {
	out := make([][]byte, len(s))
	for i, x := range s {
		out[i] = Bytes(x)
	}
	return out
}

// AllToAllOf is Comm.AllToAll for slices of T: recv[r] receives what rank
// r sends here, and its length says how many elements that is.
func AllToAllOf[T Elem](c Comm, send, recv [][]T) error {
	return c.AllToAll(byteViews(send), byteViews(recv))
}

// AllGatherOf is Comm.AllGather for slices of T.
func AllGatherOf[T Elem](c Comm, send []T, recv [][]T) error {
	return c.AllGather(Bytes(send), byteViews(recv))
}

// ExchangeCounts tells every rank r how many elements this rank will send
// it (counts[r]) and returns how many each rank will send here: the
// all-to-all that sizes an all-to-all whose sizes only the senders know.
func ExchangeCounts(c Comm, counts []int) ([]int, error) {
	n := c.Size()
	if len(counts) != n {
		return nil, fmt.Errorf("%w: %d counts for %d ranks", ErrSize, len(counts), n)
	}
	send, recv := make([][]int64, n), make([][]int64, n)
	for r, k := range counts {
		if k < 0 {
			return nil, fmt.Errorf("%w: negative count %d for rank %d", ErrSize, k, r)
		}
		send[r], recv[r] = []int64{int64(k)}, make([]int64, 1)
	}
	if err := AllToAllOf(c, send, recv); err != nil {
		return nil, err
	}
	out := make([]int, n)
	for r := range recv {
		out[r] = int(recv[r][0])
	}
	return out, nil
}

// AllToAllV sends send[r] to rank r and returns what every rank sent
// here, sizing the receive buffers by an ExchangeCounts first.
func AllToAllV[T Elem](c Comm, send [][]T) ([][]T, error) {
	if len(send) != c.Size() {
		return nil, fmt.Errorf("%w: %d send buffers for %d ranks", ErrSize, len(send), c.Size())
	}
	counts := make([]int, len(send))
	for r, s := range send {
		counts[r] = len(s)
	}
	in, err := ExchangeCounts(c, counts)
	if err != nil {
		return nil, err
	}
	recv := make([][]T, len(in))
	for r, k := range in {
		recv[r] = make([]T, k)
	}
	if err := AllToAllOf(c, send, recv); err != nil {
		return nil, err
	}
	return recv, nil
}
