package optim

import (
	"math/bits"
	"runtime"
	"sync"
)

// coalesce sums duplicate rows, each in the order the caller gave them,
// and returns the rows sorted by index: the form device.RowUpdate takes.
// Doing it here, once, on the host makes every backend add the same
// numbers in the same order: a row's first occurrence, plus each later one
// in turn, rounded after each addition.
//
// It costs far less than sending the rows: indices already strictly
// increasing (a model that gathers its touched rows sorted) are returned
// as they are, values too, without a copy; otherwise a stable counting or
// radix sort of the positions by index (no comparison sort, nothing
// allocated per row) orders them, and the rows are summed into one
// allocation, on several cores when there are many.
func coalesce[T float32 | float64](indices []int64, values []T, width int) ([]int64, []T) {
	if increasing(indices) {
		return indices, values
	}
	order := sortedPositions(indices)
	// starts[r] is where unique row r's run begins in order.
	starts := make([]int, 0, len(order)+1)
	for i, p := range order {
		if i == 0 || indices[p] != indices[order[i-1]] {
			starts = append(starts, i)
		}
	}
	runs := len(starts)
	starts = append(starts, len(order))
	outIdx := make([]int64, runs)
	outVal := make([]T, runs*width)
	sum := func(lo, hi int) {
		for r := lo; r < hi; r++ {
			first := order[starts[r]]
			outIdx[r] = indices[first]
			acc := outVal[r*width : (r+1)*width]
			copy(acc, values[first*width:(first+1)*width])
			for _, p := range order[starts[r]+1 : starts[r+1]] {
				for w, v := range values[p*width : (p+1)*width] {
					acc[w] = T(acc[w] + v)
				}
			}
		}
	}
	const perWorker = 1 << 18 // values: below this a goroutine costs more than it saves
	workers := min(runtime.GOMAXPROCS(0), len(values)/perWorker)
	if workers <= 1 {
		sum(0, runs)
		return outIdx, outVal
	}
	var wg sync.WaitGroup
	per := (runs + workers - 1) / workers
	for lo := 0; lo < runs; lo += per {
		wg.Go(func() { sum(lo, min(lo+per, runs)) })
	}
	wg.Wait()
	return outIdx, outVal
}

// increasing reports whether indices are strictly increasing.
func increasing(indices []int64) bool {
	for i := 1; i < len(indices); i++ {
		if indices[i] <= indices[i-1] {
			return false
		}
	}
	return true
}

// sortedPositions returns 0..len(indices)-1 ordered by index, equal indices
// in their given order (a stable sort): one counting pass when the indices
// span little more than their number, else LSD radix passes of 11 bits
// over index − min.
func sortedPositions(indices []int64) []int {
	n := len(indices)
	lo, hi := indices[0], indices[0]
	for _, x := range indices {
		lo, hi = min(lo, x), max(hi, x)
	}
	span := uint64(hi - lo)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if span < uint64(4*n)+4096 {
		count := make([]int, span+2)
		for _, x := range indices {
			count[uint64(x-lo)+1]++
		}
		for k := 1; k < len(count); k++ {
			count[k] += count[k-1]
		}
		for i, x := range indices {
			k := uint64(x - lo)
			order[count[k]] = i
			count[k]++
		}
		return order
	}
	// LSD radix: each pass scatters keys and positions together, so that
	// every pass reads both in order.
	const digit = 11
	keys, tmpKeys := make([]uint64, n), make([]uint64, n)
	for i, x := range indices {
		keys[i] = uint64(x - lo)
	}
	tmp := make([]int, n)
	var count [1 << digit]int
	for shift := 0; shift < bits.Len64(span); shift += digit {
		count = [1 << digit]int{}
		for _, k := range keys {
			count[(k>>shift)&(1<<digit-1)]++
		}
		at := 0
		for d, c := range count {
			count[d] = at
			at += c
		}
		for i, k := range keys {
			d := (k >> shift) & (1<<digit - 1)
			tmpKeys[count[d]], tmp[count[d]] = k, order[i]
			count[d]++
		}
		keys, tmpKeys = tmpKeys, keys
		order, tmp = tmp, order
	}
	return order
}
