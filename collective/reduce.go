package collective

import "fmt"

// ReduceScatter sums the ranks' send vectors and leaves piece Rank() of the
// sum in recv. send is cut in pieces of counts[0], counts[1], … elements in
// rank order (the same counts on every rank); recv holds counts[Rank()].
//
// The pieces go to their ranks in one all-to-all and are summed there in
// rank order, ((send₀ + send₁) + send₂) + …, rounding each addition to T:
// the result does not depend on the transport or on how an MPI library
// would order a reduction, so it is the same bits on any Comm and equals a
// sequential sum of the ranks' vectors in rank order.
//
// scratch, when it holds at least (Size()-1)·counts[Rank()] elements, takes
// the pieces received (so that a caller in a loop allocates nothing);
// otherwise one is allocated. recv must not overlap send or scratch.
func ReduceScatter[T Float](c Comm, send []T, counts []int, recv, scratch []T) error {
	n, me := c.Size(), c.Rank()
	if len(counts) != n {
		return fmt.Errorf("%w: %d counts for %d ranks", ErrSize, len(counts), n)
	}
	total := 0
	for r, k := range counts {
		if k < 0 {
			return fmt.Errorf("%w: negative count %d for rank %d", ErrSize, k, r)
		}
		total += k
	}
	if total != len(send) || len(recv) != counts[me] {
		return fmt.Errorf("%w: reduce-scatter of %d elements in pieces summing to %d, into %d for piece %d of %d",
			ErrSize, len(send), total, len(recv), me, counts[me])
	}
	piece := counts[me]
	if len(scratch) < (n-1)*piece {
		scratch = make([]T, (n-1)*piece)
	}
	out, in, parts := make([][]T, n), make([][]T, n), make([][]T, n)
	off, next := 0, 0
	for r, k := range counts {
		if r == me {
			// The own piece travels nowhere: it is summed from send.
			parts[r] = send[off : off+k]
		} else {
			out[r] = send[off : off+k]
			in[r] = scratch[next : next+piece]
			parts[r] = in[r]
			next += piece
		}
		off += k
	}
	if err := AllToAllOf(c, out, in); err != nil {
		return err
	}
	sumInRankOrder(recv, parts)
	return nil
}

// sumInRankOrder sets dst to ((parts[0] + parts[1]) + parts[2]) + …, in
// blocks that stay in cache. dst may be parts[0], and no other part.
func sumInRankOrder[T Float](dst []T, parts [][]T) {
	const block = 4096
	for lo := 0; lo < len(dst); lo += block {
		hi := min(lo+block, len(dst))
		d := dst[lo:hi]
		copy(d, parts[0][lo:hi])
		for _, p := range parts[1:] {
			p := p[lo:hi]
			for i := range d {
				d[i] += p[i]
			}
		}
	}
}

// AllReduce replaces buf on every rank by the sum of the ranks' bufs, in
// rank order as ReduceScatter sums: a ReduceScatter into even pieces, then
// an AllGather of the pieces. Every rank gets the same bits.
func AllReduce[T Float](c Comm, buf []T) error {
	n := c.Size()
	counts := Split(len(buf), n)
	off := 0
	pieces := make([][]T, n)
	for r, k := range counts {
		pieces[r] = buf[off : off+k]
		off += k
	}
	mine := make([]T, counts[c.Rank()])
	if err := ReduceScatter(c, buf, counts, mine, nil); err != nil {
		return err
	}
	return AllGatherOf(c, mine, pieces)
}

// Split cuts n items into parts contiguous pieces, in order, whose sizes
// differ by at most one: piece r is [n·r/parts, n·(r+1)/parts).
func Split(n, parts int) []int {
	counts := make([]int, parts)
	for r := range counts {
		counts[r] = Bound(n, parts, r+1) - Bound(n, parts, r)
	}
	return counts
}

// Bound is where piece r of Split(n, parts) starts: n·r/parts, computed
// without overflow.
func Bound(n, parts, r int) int {
	q, m := n/parts, n%parts
	return q*r + m*r/parts
}
