// Package curve records a training run's losses and writes them as CSV and
// as a PNG plot (gonum.org/v1/plot, which carries its own fonts).
package curve

import (
	"encoding/csv"
	"fmt"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Curve is a named series of (step, loss) points; a Set holds several, to
// draw on one plot (Adagrad beside SGD, say).
type Curve struct {
	Name  string
	Steps []int
	Loss  []float64
}

// Add records one point.
func (c *Curve) Add(step int, loss float64) {
	c.Steps = append(c.Steps, step)
	c.Loss = append(c.Loss, loss)
}

// Set is the curves of one run.
type Set []*Curve

// WriteCSV writes "curve,step,loss" rows.
func (s Set) WriteCSV(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"curve", "step", "loss"})
	for _, c := range s {
		for i := range c.Steps {
			w.Write([]string{c.Name, strconv.Itoa(c.Steps[i]), strconv.FormatFloat(c.Loss[i], 'g', -1, 64)})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WritePNG draws every curve against the step on one plot.
func (s Set) WritePNG(path, title, ylabel string) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "step"
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	for i, c := range s {
		pts := make(plotter.XYs, len(c.Steps))
		for j := range c.Steps {
			pts[j] = plotter.XY{X: float64(c.Steps[j]), Y: c.Loss[j]}
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("curve %q: %w", c.Name, err)
		}
		line.Color = Color(i)
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(c.Name, line)
	}
	p.Legend.Top = true
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}
