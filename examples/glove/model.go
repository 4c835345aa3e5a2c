package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
)

// rowAccess is what a training step needs of the trainer: the current rows
// of the tables, and a place for their row-sparse gradients.
type rowAccess interface {
	Rows32(name string, rows []int64, dst []float32) error
	SetSparseGrad(name string, rows []int64, values any) error
}

// sliceGrads are row-sparse gradients of the four tables: a row per
// co-occurrence entry (a word in several pairs has several rows, which the
// optimizer sums).
type sliceGrads struct {
	wi, cj           []int64
	gW, gC, gBW, gBC []float32
}

// add appends another slice's gradients after these: the optimizer sums
// duplicated rows in this order.
func (g *sliceGrads) add(o sliceGrads) {
	g.wi, g.cj = append(g.wi, o.wi...), append(g.cj, o.cj...)
	g.gW, g.gC = append(g.gW, o.gW...), append(g.gC, o.gC...)
	g.gBW, g.gBC = append(g.gBW, o.gBW...), append(g.gBC, o.gBC...)
}

// give hands the gradients to the optimizer.
func (g sliceGrads) give(s rowAccess) error {
	for _, t := range []struct {
		name string
		rows []int64
		vals []float32
	}{{"w", g.wi, g.gW}, {"c", g.cj, g.gC}, {"bw", g.wi, g.gBW}, {"bc", g.cj, g.gBC}} {
		if err := s.SetSparseGrad(t.name, t.rows, t.vals); err != nil {
			return err
		}
	}
	return nil
}

// gloveSlice computes the GloVe loss of a slice of a batch of n entries
// (the sum over the slice divided by n: the slices' losses add up to the
// batch's mean) and its row-sparse gradients, from the rows it gathers.
func gloveSlice(s rowAccess, batch []cooc, n, D int, xmax, alpha float64) (float64, sliceGrads, error) {
	var wi, cj []int64
	for _, e := range batch {
		wi, cj = append(wi, int64(e.i)), append(cj, int64(e.j))
	}
	rowsW, rowsC := slices.Compact(sortedCopy(wi)), slices.Compact(sortedCopy(cj))
	W, C := make([]float32, len(rowsW)*D), make([]float32, len(rowsC)*D)
	BW, BC := make([]float32, len(rowsW)), make([]float32, len(rowsC))
	for _, g := range []struct {
		name string
		rows []int64
		dst  []float32
	}{{"w", rowsW, W}, {"c", rowsC, C}, {"bw", rowsW, BW}, {"bc", rowsC, BC}} {
		if err := s.Rows32(g.name, g.rows, g.dst); err != nil {
			return 0, sliceGrads{}, err
		}
	}
	atW, atC := positions(rowsW), positions(rowsC)
	g := sliceGrads{wi: wi, cj: cj, gW: make([]float32, len(batch)*D), gC: make([]float32, len(batch)*D),
		gBW: make([]float32, len(batch)), gBC: make([]float32, len(batch))}
	loss := 0.0
	for k, e := range batch {
		a, b := atW[int64(e.i)], atC[int64(e.j)]
		dot := 0.0
		for d := range D {
			dot += float64(W[a*D+d]) * float64(C[b*D+d])
		}
		diff := dot + float64(BW[a]) + float64(BC[b]) - math.Log(e.x)
		f := 1.0
		if e.x < xmax {
			f = math.Pow(e.x/xmax, alpha)
		}
		loss += 0.5 * f * diff * diff
		fd := f * diff
		for d := range D {
			g.gW[k*D+d] = float32(fd * float64(C[b*D+d]))
			g.gC[k*D+d] = float32(fd * float64(W[a*D+d]))
		}
		g.gBW[k], g.gBC[k] = float32(fd), float32(fd)
	}
	return loss / float64(n), g, nil
}

func sortedCopy(s []int64) []int64 {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func positions(rows []int64) map[int64]int {
	m := make(map[int64]int, len(rows))
	for i, r := range rows {
		m[r] = i
	}
	return m
}

// neighbours returns the k words whose vectors are closest to word's by
// cosine, nearest first, or nil when word is unknown.
func (m *model) neighbours(word string, k int) []string {
	q, ok := m.index[word]
	if !ok {
		return nil
	}
	type scored struct {
		w string
		s float64
	}
	var all []scored
	for i, v := range m.vectors {
		if i != q {
			all = append(all, scored{m.vocab[i], cosine(m.vectors[q], v)})
		}
	}
	sort.Slice(all, func(a, b int) bool { return all[a].s > all[b].s })
	out := make([]string, 0, k)
	for _, s := range all[:min(k, len(all))] {
		out = append(out, s.w)
	}
	return out
}

func cosine(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}

// write saves the vectors in the usual text format.
func (m *model) write(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i, word := range m.vocab {
		w.WriteString(word)
		for _, x := range m.vectors[i] {
			fmt.Fprintf(w, " %.6f", x)
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
