package lossplot

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Figure is one plot of loss curves against the step, or one CSV table of
// them.
type Figure struct {
	Title  string
	XLabel string // with its unit, e.g. "step (one batch of 32 samples)"
	YLabel string // with its unit, e.g. "training log-loss (nats per sample)"
	// Span is the EMA's span in steps; 0 picks a 50th of the longest
	// curve (at least 1).
	Span   int
	Curves []*Curve
}

// SmoothingSpan returns the EMA span the figure uses.
func (f *Figure) SmoothingSpan() int {
	if f.Span > 0 {
		return f.Span
	}
	n := 0
	for _, c := range f.Curves {
		n = max(n, len(c.Loss))
	}
	return max(n/50, 1)
}

// Save writes the figure to path as a CSV table (.csv) or a PNG plot
// (.png), by the file name's extension.
func (f *Figure) Save(path string) error {
	var write func(io.Writer) error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		write = f.WriteCSV
	case ".png":
		write = f.WritePNG
	default:
		return fmt.Errorf("lossplot: %s: unknown extension (want .csv or .png)", path)
	}
	file, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("lossplot: %w", err)
	}
	bw := bufio.NewWriter(file)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("lossplot: writing %s: %w", path, err)
	}
	return nil
}

// WriteCSV writes "curve,step,loss,loss_ema" rows, the last column the
// moving average the plot draws.
func (f *Figure) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"curve", "step", "loss", "loss_ema"})
	span := f.SmoothingSpan()
	for _, c := range f.Curves {
		if len(c.Steps) != len(c.Loss) {
			return fmt.Errorf("lossplot: curve %q has %d steps and %d losses", c.Name, len(c.Steps), len(c.Loss))
		}
		for i, avg := range EMA(c.Loss, span) {
			cw.Write([]string{c.Name, strconv.Itoa(c.Steps[i]),
				strconv.FormatFloat(c.Loss[i], 'g', -1, 64), strconv.FormatFloat(avg, 'g', -1, 64)})
		}
	}
	cw.Flush()
	return cw.Error()
}
