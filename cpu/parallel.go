package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/adagrad-go/adagrad/device"
)

// minChunk is the fewest elements worth handing to another goroutine: below
// it the start-up cost of a goroutine outweighs the work.
const minChunk = 1 << 15

type chunk struct {
	r      device.Range
	lo, hi int
}

// unitAlign is the granularity a range may be split at: its rule's unit of
// work (whole rows, whole blocks from the range's start), whole rows or
// blocks for a rule with per-row or per-block state, whole rows for the
// row-sparse pieces (ranges of no rule carrying the row width), else any
// element.
func unitAlign(r device.Range) int {
	if r.Rule == 0 { // a run of touched rows (updateRows)
		return max(r.Width, 1)
	}
	spec, _ := r.Rule.Spec()
	if u := spec.UnitLen(r.Width); u > 1 {
		return u
	}
	for _, s := range spec.State {
		switch s.Per {
		case device.PerRow:
			return max(r.Width, 1)
		case device.PerBlock:
			return spec.Block
		}
	}
	return 1
}

// forChunks calls fn for pieces [lo, hi) that together cover every range
// exactly once, on up to GOMAXPROCS goroutines. It returns when all are done.
func forChunks(ranges []device.Range, fn func(r device.Range, lo, hi int)) {
	total := 0
	for _, r := range ranges {
		total += r.Len
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, total/minChunk))
	if workers <= 1 {
		for _, r := range ranges {
			fn(r, r.Off, r.Off+r.Len)
		}
		return
	}
	// Chunks of about total/(4*workers) balance uneven ranges without
	// making the pieces small.
	base := max(minChunk, total/(4*workers))
	var chunks []chunk
	for _, r := range ranges {
		a := unitAlign(r)
		size := (base + a - 1) / a * a
		for lo := r.Off; lo < r.Off+r.Len; lo += size {
			chunks = append(chunks, chunk{r, lo, min(lo+size, r.Off+r.Len)})
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(chunks) {
					return
				}
				c := chunks[i]
				fn(c.r, c.lo, c.hi)
			}
		})
	}
	wg.Wait()
}

// parallelCopy is copy(dst, src) on all cores.
func parallelCopy[T any](dst, src []T) {
	forChunks([]device.Range{{Len: len(src)}}, func(_ device.Range, lo, hi int) {
		copy(dst[lo:hi], src[lo:hi])
	})
}
