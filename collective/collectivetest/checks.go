package collectivetest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/adagrad-go/adagrad/collective"
)

func checkRankSize(c collective.Comm) error {
	n, me := c.Size(), c.Rank()
	if n < 1 || me < 0 || me >= n {
		return fmt.Errorf("rank %d of size %d", me, n)
	}
	ranks := make([][]int64, n)
	for r := range ranks {
		ranks[r] = make([]int64, 1)
	}
	if err := collective.AllGatherOf(c, []int64{int64(me)}, ranks); err != nil {
		return err
	}
	for r, got := range ranks {
		if got[0] != int64(r) {
			return fmt.Errorf("slot %d of an all-gather of ranks holds %d", r, got[0])
		}
	}
	return nil
}

func checkBarrier(c collective.Comm) error {
	for range 3 {
		if err := c.Barrier(); err != nil {
			return err
		}
	}
	return nil
}

// message is what rank from sends rank to in the all-to-all checks: a
// length that varies with both (zero included) and bytes that say who sent
// them.
func message(from, to, scale int) []byte {
	n := ((from*7 + to*3) % 11) * scale
	if scale > 1 {
		n += from + to // not a multiple of any chunk size
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(from*31 + to*17 + i)
	}
	return b
}

func allToAll(c collective.Comm, scale int) error {
	n, me := c.Size(), c.Rank()
	send, recv := make([][]byte, n), make([][]byte, n)
	for r := range n {
		send[r] = message(me, r, scale)
		recv[r] = make([]byte, len(message(r, me, scale)))
	}
	if err := c.AllToAll(send, recv); err != nil {
		return err
	}
	for r := range n {
		if want := message(r, me, scale); !bytes.Equal(recv[r], want) {
			return fmt.Errorf("from rank %d: got %d bytes %v…, want %d bytes %v…", r, len(recv[r]), head(recv[r]), len(want), head(want))
		}
	}
	return nil
}

func head(b []byte) []byte { return b[:min(len(b), 8)] }

func checkAllToAll(c collective.Comm) error { return allToAll(c, 1) }

// checkAllToAllLarge sends messages of up to about a megabyte, which an
// implementation with a small message limit cuts into chunks.
func checkAllToAllLarge(c collective.Comm) error { return allToAll(c, 100_003) }

func checkAllGather(c collective.Comm) error {
	n, me := c.Size(), c.Rank()
	recv := make([][]byte, n)
	for r := range n {
		recv[r] = make([]byte, len(message(r, r+1, 1000)))
	}
	if err := c.AllGather(message(me, me+1, 1000), recv); err != nil {
		return err
	}
	for r := range n {
		if !bytes.Equal(recv[r], message(r, r+1, 1000)) {
			return fmt.Errorf("rank %d's part differs", r)
		}
	}
	return nil
}

func checkTyped(c collective.Comm) error {
	n, me := c.Size(), c.Rank()
	// float64 all-to-all, values that say who sent them to whom.
	send, recv := make([][]float64, n), make([][]float64, n)
	for r := range n {
		send[r] = []float64{float64(me), float64(r), math.Pi * float64(me+1)}
		recv[r] = make([]float64, 3)
	}
	if err := collective.AllToAllOf(c, send, recv); err != nil {
		return err
	}
	for r := range n {
		if want := []float64{float64(r), float64(me), math.Pi * float64(r+1)}; !slices.Equal(recv[r], want) {
			return fmt.Errorf("float64 from rank %d: %v, want %v", r, recv[r], want)
		}
	}
	// Sizes only the senders know: rank me sends r+me elements to rank r.
	out := make([][]int32, n)
	for r := range n {
		out[r] = make([]int32, r+me)
		for i := range out[r] {
			out[r][i] = int32(1000*me + i)
		}
	}
	in, err := collective.AllToAllV(c, out)
	if err != nil {
		return err
	}
	for r := range n {
		if len(in[r]) != me+r {
			return fmt.Errorf("AllToAllV: %d int32 from rank %d, want %d", len(in[r]), r, me+r)
		}
		for i, v := range in[r] {
			if v != int32(1000*r+i) {
				return fmt.Errorf("AllToAllV: element %d from rank %d is %d", i, r, v)
			}
		}
	}
	return nil
}

// contribution is rank r's vector in the reduction checks: magnitudes far
// apart, so that the order of the additions shows in the rounded sum.
func contribution[T collective.Float](r, n int) []T {
	v := make([]T, n)
	for i := range v {
		switch (i + r) % 4 {
		case 0:
			v[i] = T(1e8 * float64(r+1))
		case 1:
			v[i] = T(-1e8*float64(r+1)) + T(0.1*float64(i))
		case 2:
			v[i] = T(math.Ldexp(1, -30) * float64(i+r))
		default:
			v[i] = T(float64(i%7) - 3.3*float64(r))
		}
	}
	return v
}

// rankOrderSum is the reference: ((v₀ + v₁) + v₂) + … in T.
func rankOrderSum[T collective.Float](size, n int) []T {
	sum := contribution[T](0, n)
	for r := 1; r < size; r++ {
		for i, x := range contribution[T](r, n) {
			sum[i] += x
		}
	}
	return sum
}

func reduceScatter[T collective.Float](c collective.Comm) error {
	n, me := c.Size(), c.Rank()
	counts := make([]int, n)
	total := 0
	for r := range counts {
		counts[r] = (r*5 + 3) % 7 * 300 // uneven
		if r == 1 {
			counts[r] = 0 // a rank may own nothing
		}
		total += counts[r]
	}
	off := 0
	for r := range me {
		off += counts[r]
	}
	want := rankOrderSum[T](n, total)[off : off+counts[me]]
	got := make([]T, counts[me])
	if err := collective.ReduceScatter(c, contribution[T](me, total), counts, got, nil); err != nil {
		return err
	}
	if i := firstBitDiff(got, want); i >= 0 {
		return fmt.Errorf("%T reduce-scatter element %d: %v, rank-order sum %v", got, i, got[i], want[i])
	}
	return nil
}

func firstBitDiff[T collective.Float](a, b []T) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float64bits(float64(a[i])) != math.Float64bits(float64(b[i])) {
			return i
		}
	}
	return -1
}

func checkReduceScatter(c collective.Comm) error {
	return errors.Join(reduceScatter[float32](c), reduceScatter[float64](c))
}

func allReduce[T collective.Float](c collective.Comm) error {
	const n = 10_007
	buf := contribution[T](c.Rank(), n)
	if err := collective.AllReduce(c, buf); err != nil {
		return err
	}
	if i := firstBitDiff(buf, rankOrderSum[T](c.Size(), n)); i >= 0 {
		return fmt.Errorf("%T all-reduce element %d differs from the rank-order sum", buf, i)
	}
	return nil
}

func checkAllReduce(c collective.Comm) error {
	return errors.Join(allReduce[float32](c), allReduce[float64](c))
}

// checkStats: an all-to-all counts exactly the bytes to and from other
// ranks.
func checkStats(c collective.Comm) error {
	n, me := c.Size(), c.Rank()
	before := c.Stats()
	if err := allToAll(c, 10); err != nil {
		return err
	}
	var sent, received int64
	for r := range n {
		if r != me {
			sent += int64(len(message(me, r, 10)))
			received += int64(len(message(r, me, 10)))
		}
	}
	d := c.Stats().Sub(before)
	if d.Calls != 1 || d.BytesSent != sent || d.BytesReceived != received {
		return fmt.Errorf("one all-to-all counted %+v, want 1 call, %d bytes sent, %d received", d, sent, received)
	}
	return nil
}
