package optim

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// coalesceBySort is the comparison sort coalesce replaced: the reference
// for its results, and the baseline of BenchmarkCoalesce.
func coalesceBySort[T float32 | float64](indices []int64, values []T, width int) ([]int64, []T) {
	order := make([]int, len(indices))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(indices[x], indices[y]) })
	var outIdx []int64
	var outVal []T
	for _, i := range order {
		row := values[i*width : (i+1)*width]
		if k := len(outIdx) - 1; k >= 0 && outIdx[k] == indices[i] {
			acc := outVal[k*width:]
			for w, v := range row {
				acc[w] = T(acc[w] + v)
			}
			continue
		}
		outIdx = append(outIdx, indices[i])
		outVal = append(outVal, row...)
	}
	return outIdx, outVal
}

// sameBits: equal bits, or both NaN. Which NaN the sum of two NaNs is (its
// sign and payload) depends on the order of the addition's operands in the
// machine code, the compiler's choice: x86 returns the first one.
func sameBits(got, want float64, equalBits bool) bool {
	return equalBits || math.IsNaN(got) && math.IsNaN(want)
}

// sparseCase makes n indices below rows (duplicates when n is near rows or
// above) and their values, with signed zeros, NaNs, infinities and values
// whose sums round differently in another order.
func sparseCase(rng *rand.Rand, n, rows, width int, sorted bool) ([]int64, []float32) {
	idx := make([]int64, n)
	for i := range idx {
		idx[i] = rng.Int64N(int64(rows))
	}
	if sorted {
		slices.Sort(idx)
		idx = slices.Compact(idx)
	}
	vals := make([]float32, len(idx)*width)
	for i := range vals {
		switch rng.IntN(50) {
		case 0:
			vals[i] = float32(math.Copysign(0, -1))
		case 1:
			vals[i] = float32(math.NaN())
		case 2:
			vals[i] = float32(math.Inf(1 - 2*rng.IntN(2)))
		default:
			vals[i] = float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(40)-20)))
		}
	}
	return idx, vals
}

func TestCoalesceMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ n, rows, width int }{
		{0, 10, 3}, {1, 10, 3}, {5, 3, 1}, {100, 10, 2}, {100, 1000, 4}, {1000, 1 << 40, 1},
		{16384, 1 << 20, 64}, {20000, 300, 3}, {5000, 5000, 1}, {300000, 1 << 30, 2}, {70000, 1 << 16, 8},
	} {
		for _, sorted := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d-of-%d-rows-x%d-sorted=%v", c.n, c.rows, c.width, sorted), func(t *testing.T) {
				idx, vals := sparseCase(rng, c.n, c.rows, c.width, sorted)
				before := slices.Clone(idx)
				wantIdx, wantVal := coalesceBySort(idx, vals, c.width)
				gotIdx, gotVal := coalesce(idx, vals, c.width)
				if !slices.Equal(gotIdx, wantIdx) || len(gotVal) != len(wantVal) {
					t.Fatalf("%d rows, %d values; want %d rows, %d values", len(gotIdx), len(gotVal), len(wantIdx), len(wantVal))
				}
				for i := range gotVal {
					if !sameBits(float64(gotVal[i]), float64(wantVal[i]), math.Float32bits(gotVal[i]) == math.Float32bits(wantVal[i])) {
						t.Fatalf("value %d: %v (%#x), want %v (%#x)", i, gotVal[i], math.Float32bits(gotVal[i]), wantVal[i], math.Float32bits(wantVal[i]))
					}
				}
				if !slices.Equal(idx, before) {
					t.Fatalf("the input indices changed")
				}
				// float64 through the same code.
				v64 := make([]float64, len(vals))
				for i, v := range vals {
					v64[i] = float64(v) * (1 + 1e-9*float64(i%7))
				}
				_, want64 := coalesceBySort(idx, v64, c.width)
				_, got64 := coalesce(idx, v64, c.width)
				for i := range got64 {
					if !sameBits(got64[i], want64[i], math.Float64bits(got64[i]) == math.Float64bits(want64[i])) {
						t.Fatalf("float64 value %d: %v, want %v", i, got64[i], want64[i])
					}
				}
			})
		}
	}
}

// BenchmarkCoalesce compares coalesce with the comparison sort it replaced,
// in one run, on a logreg step's rows (sorted, unique: no work), an
// embedding step's (16,384 rows of 64 from a 2^20 table, duplicates
// included) and a wide-range unique set; x-sort is the speed-up.
func BenchmarkCoalesce(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		name           string
		n, rows, width int
		sorted         bool
	}{
		{"logreg-640-sorted", 640, 50000, 1, true},
		{"embedding-16384x64", 16384, 1 << 20, 64, false},
		{"embedding-16384x64-hot", 16384, 4096, 64, false},
		{"wide-65536x1", 65536, 1 << 40, 1, false},
	} {
		idx, vals := sparseCase(rng, c.n, c.rows, c.width, c.sorted)
		var sortNs float64
		b.Run(c.name+"/sort", func(b *testing.B) {
			b.SetBytes(int64(8*len(idx) + 4*len(vals)))
			for b.Loop() {
				coalesceBySort(idx, vals, c.width)
			}
			sortNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		})
		b.Run(c.name+"/coalesce", func(b *testing.B) {
			b.SetBytes(int64(8*len(idx) + 4*len(vals)))
			for b.Loop() {
				coalesce(idx, vals, c.width)
			}
			if sortNs > 0 {
				b.ReportMetric(sortNs/(float64(b.Elapsed().Nanoseconds())/float64(b.N)), "x-sort")
			}
		})
	}
}
