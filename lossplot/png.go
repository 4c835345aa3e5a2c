package lossplot

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The PNG's size.
const (
	width  = 9 * vg.Inch
	height = 5 * vg.Inch
	dpi    = 96
)

// WritePNG draws every curve against the step: the raw losses faintly,
// their moving average over them, the legend to the right of the data.
func (f *Figure) WritePNG(w io.Writer) error {
	p := plot.New()
	p.Title.Text = f.Title
	p.X.Label.Text = f.XLabel
	p.Y.Label.Text = f.YLabel
	p.Add(plotter.NewGrid())
	span := f.SmoothingSpan()
	legend := plot.NewLegend() // drawn beside the plot, not by it
	var raw []float64
	for i, c := range f.Curves {
		if len(c.Steps) != len(c.Loss) {
			return fmt.Errorf("lossplot: curve %q has %d steps and %d losses", c.Name, len(c.Steps), len(c.Loss))
		}
		if len(c.Steps) == 0 {
			continue
		}
		faint, err := line(c.Steps, c.Loss, faded(Color(i)), vg.Points(0.6))
		if err != nil {
			return fmt.Errorf("lossplot: curve %q: %w", c.Name, err)
		}
		smooth, err := line(c.Steps, EMA(c.Loss, span), Color(i), vg.Points(2))
		if err != nil {
			return fmt.Errorf("lossplot: curve %q: %w", c.Name, err)
		}
		p.Add(faint, smooth)
		// The faint line's legend sample is drawn wider, to be seen.
		faintSample := *faint
		faintSample.Width = vg.Points(2)
		legend.Add(fmt.Sprintf("%s, EMA (span %d steps)", c.Name, span), smooth)
		legend.Add(c.Name+", each step", &faintSample)
		raw = append(raw, c.Loss...)
	}
	// A few outlying steps should not flatten the curves: the y axis spans
	// the middle 99.8% of the raw values and every average; lines are
	// clipped to it.
	if len(raw) > 0 {
		lo, hi := quantiles(raw, 0.001, 0.999)
		for _, c := range f.Curves {
			for _, v := range EMA(c.Loss, span) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		p.Y.Min, p.Y.Max = lo, hi
	}

	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))
	dc := draw.New(img)
	legend.Left, legend.Top = true, true
	legend.TextStyle.Font.Size = vg.Points(10)
	legendWidth := legend.Rectangle(dc).Size().X + vg.Points(12)
	p.Draw(draw.Crop(dc, 0, -legendWidth, 0, 0))
	legend.Draw(draw.Crop(dc, width-legendWidth+vg.Points(6), 0, 0, -vg.Points(30)))
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

func line(steps []int, ys []float64, c color.Color, w vg.Length) (*plotter.Line, error) {
	pts := make(plotter.XYs, len(steps))
	for j := range steps {
		pts[j] = plotter.XY{X: float64(steps[j]), Y: ys[j]}
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return nil, err
	}
	l.Color, l.Width = c, w
	return l, nil
}

// quantiles returns the a and b quantiles of the finite values (nearest
// rank).
func quantiles(values []float64, a, b float64) (lo, hi float64) {
	s := slices.DeleteFunc(slices.Clone(values), func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) })
	if len(s) == 0 {
		return 0, 1
	}
	slices.Sort(s)
	at := func(q float64) float64 { return s[min(int(q*float64(len(s))), len(s)-1)] }
	return at(a), at(b)
}
