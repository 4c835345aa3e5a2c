package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
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
// "label index:value index:value ...", indices from 1 to maxFeatures and
// increasing, values finite, labels +1/-1 or 1/0 (one of the two in a
// file); '#' starts a comment. It returns the samples and the number of
// features (the largest index seen). Anything else is refused with the line
// it is on: a label of 2 is not silently a positive, and an index of 3e9
// does not size a weight table.
func readLIBSVM(r io.Reader) ([]example, int, error) {
	var out []example
	features := 0
	negative := "" // the negative label of the file: "-1" or "0"
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	line := 1
	for ; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		var ex example
		switch label, err := strconv.ParseFloat(fields[0], 64); {
		case err == nil && label == 1:
			ex.label = 1
		case err == nil && (label == -1 || label == 0):
			neg := strconv.FormatFloat(label, 'g', -1, 64)
			if negative != "" && neg != negative {
				return nil, 0, fmt.Errorf("line %d: label %s after %s on earlier lines: want +1/-1 or 1/0, not both", line, fields[0], negative)
			}
			negative = neg
		default:
			return nil, 0, fmt.Errorf("line %d: label %q: want +1 or -1 (or 1 or 0)", line, fields[0])
		}
		prev := int64(0)
		for _, f := range fields[1:] {
			is, vs, ok := strings.Cut(f, ":")
			idx, err1 := strconv.ParseInt(is, 10, 64)
			val, err2 := strconv.ParseFloat(vs, 32)
			switch {
			case !ok || err1 != nil || idx < 1 || idx <= prev:
				return nil, 0, fmt.Errorf("line %d: feature %q: want index:value, indices from 1, increasing", line, f)
			case idx > maxFeatures:
				return nil, 0, fmt.Errorf("line %d: feature index %d: more than the %d features this example sizes its weight table for", line, idx, maxFeatures)
			case err2 != nil || math.IsNaN(val) || math.IsInf(val, 0):
				return nil, 0, fmt.Errorf("line %d: feature %q: want a finite float32 value", line, f)
			}
			prev = idx
			ex.features = append(ex.features, idx-1)
			ex.values = append(ex.values, float32(val))
			features = max(features, int(idx))
		}
		out = append(out, ex)
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("line %d: %w", line, err)
	}
	if len(out) == 0 {
		return nil, 0, errors.New("no samples")
	}
	return out, features, nil
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
