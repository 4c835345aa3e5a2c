package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// example is one sample of a sparse binary classification problem.
type example struct {
	label    float64 // 0 or 1
	features []int64 // 0-based feature indices, increasing
	values   []float32
}

// readLIBSVM reads the LIBSVM/SVMlight text format: one sample a line,
// "label index:value index:value ...", indices 1-based and increasing,
// labels +1/-1 or 1/0; '#' starts a comment. It returns the samples and the
// number of features (the largest index seen).
func readLIBSVM(r io.Reader) ([]example, int, error) {
	var out []example
	features := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		label, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, 0, fmt.Errorf("line %d: label %q: %v", line, fields[0], err)
		}
		ex := example{label: 0}
		if label > 0 {
			ex.label = 1
		}
		prev := int64(0)
		for _, f := range fields[1:] {
			is, vs, ok := strings.Cut(f, ":")
			idx, err1 := strconv.ParseInt(is, 10, 64)
			val, err2 := strconv.ParseFloat(vs, 32)
			if !ok || err1 != nil || err2 != nil || idx < 1 || idx <= prev {
				return nil, 0, fmt.Errorf("line %d: feature %q (want index:value, indices from 1, increasing)", line, f)
			}
			prev = idx
			ex.features = append(ex.features, idx-1)
			ex.values = append(ex.values, float32(val))
			features = max(features, int(idx))
		}
		out = append(out, ex)
	}
	return out, features, sc.Err()
}

// writeLIBSVM writes samples in the same format (labels +1/-1).
func writeLIBSVM(w io.Writer, data []example) error {
	bw := bufio.NewWriter(w)
	for _, ex := range data {
		label := "-1"
		if ex.label == 1 {
			label = "+1"
		}
		bw.WriteString(label)
		for i, f := range ex.features {
			fmt.Fprintf(bw, " %d:%g", f+1, ex.values[i])
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
