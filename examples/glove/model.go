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

// gloveStep computes the GloVe loss of a batch of co-occurrences and its
// row-sparse gradients, from the rows it gathers.
func gloveStep(s rowAccess, batch []cooc, D int, xmax, alpha float64) (float64, error) {
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
			return 0, err
		}
	}
	atW, atC := positions(rowsW), positions(rowsC)
	gW, gC := make([]float32, len(batch)*D), make([]float32, len(batch)*D)
	gBW, gBC := make([]float32, len(batch)), make([]float32, len(batch))
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
			gW[k*D+d] = float32(fd * float64(C[b*D+d]))
			gC[k*D+d] = float32(fd * float64(W[a*D+d]))
		}
		gBW[k], gBC[k] = float32(fd), float32(fd)
	}
	// Duplicated rows (a word in several pairs) are summed by the optimizer.
	for _, g := range []struct {
		name string
		rows []int64
		vals []float32
	}{{"w", wi, gW}, {"c", cj, gC}, {"bw", wi, gBW}, {"bc", cj, gBC}} {
		if err := s.SetSparseGrad(g.name, g.rows, g.vals); err != nil {
			return 0, err
		}
	}
	return loss / float64(len(batch)), nil
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
