package lossplot

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEMA(t *testing.T) {
	got := EMA([]float64{4, 4, 4}, 10)
	for _, v := range got {
		if v != 4 {
			t.Fatalf("EMA of a constant: %v", got)
		}
	}
	// Span 3: α = 1/2, debiased: 1, (0.5·0.5·1+0.5·3)/(0.75) = (0.25+1.5)/0.75.
	got = EMA([]float64{1, 3}, 3)
	if got[0] != 1 || math.Abs(got[1]-(0.25+1.5)/0.75) > 1e-15 {
		t.Errorf("EMA span 3: %v", got)
	}
	if got := EMA([]float64{1, 5, 2}, 0); got[1] != 5 || got[2] != 2 {
		t.Errorf("span 0 smooths: %v", got)
	}
}

func testFigure() *Figure {
	a, b := &Curve{Name: "adagrad"}, &Curve{Name: "sgd"}
	for i := range 200 {
		noise := 0.2 * math.Sin(float64(i)*1.7)
		a.Add(i+1, 1/math.Sqrt(float64(i+1))+noise)
		b.Add(i+1, 2/math.Sqrt(float64(i+1))+noise)
	}
	return &Figure{Title: "test", XLabel: "step (batch of 8)", YLabel: "loss (nats)", Curves: []*Curve{a, b}}
}

func TestSave(t *testing.T) {
	dir := t.TempDir()
	f := testFigure()
	if f.SmoothingSpan() != 4 {
		t.Errorf("span %d for 200 steps, want 4", f.SmoothingSpan())
	}
	if err := f.Save(filepath.Join(dir, "loss.csv")); err != nil {
		t.Fatal(err)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "loss.csv"))
	if lines := strings.Count(string(csv), "\n"); lines != 401 || !strings.HasPrefix(string(csv), "curve,step,loss,loss_ema\nadagrad,1,1,1\n") {
		t.Errorf("csv (%d lines):\n%.200s", lines, csv)
	}
	if err := f.Save(filepath.Join(dir, "loss.png")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "loss.png"))
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if sz := img.Bounds().Size(); sz.X != 9*dpi || sz.Y != 5*dpi {
		t.Errorf("PNG of %v pixels", sz)
	}
	if err := f.Save(filepath.Join(dir, "loss.jpg")); err == nil || !strings.Contains(err.Error(), "want .csv or .png") {
		t.Errorf("jpg: %v", err)
	}
	if err := f.Save(filepath.Join(dir, "no", "loss.png")); err == nil {
		t.Error("saved into a missing folder")
	}
}

func TestMismatchedCurve(t *testing.T) {
	f := &Figure{Curves: []*Curve{{Name: "x", Steps: []int{1, 2}, Loss: []float64{1}}}}
	var buf bytes.Buffer
	if f.WriteCSV(&buf) == nil || f.WritePNG(&buf) == nil {
		t.Error("a curve of 2 steps and 1 loss was written")
	}
}

// TestWriteSample writes a sample plot where LOSSPLOT_SAMPLE says, to look at.
func TestWriteSample(t *testing.T) {
	if p := os.Getenv("LOSSPLOT_SAMPLE"); p != "" {
		if err := testFigure().Save(p); err != nil {
			t.Fatal(err)
		}
	}
}
