package curve

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	a, b := &Curve{Name: "adagrad"}, &Curve{Name: "sgd"}
	for i := range 20 {
		a.Add(i, 1/float64(i+1))
		b.Add(i, 2/float64(i+1))
	}
	dir := t.TempDir()
	set := Set{a, b}
	if err := set.WriteCSV(filepath.Join(dir, "loss.csv")); err != nil {
		t.Fatal(err)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "loss.csv"))
	if lines := strings.Count(string(csv), "\n"); lines != 41 || !strings.HasPrefix(string(csv), "curve,step,loss\nadagrad,0,1\n") {
		t.Errorf("csv (%d lines):\n%s", lines, csv)
	}
	if err := set.WritePNG(filepath.Join(dir, "loss.png"), "test", "loss"); err != nil {
		t.Fatal(err)
	}
	png, _ := os.ReadFile(filepath.Join(dir, "loss.png"))
	if !bytes.HasPrefix(png, []byte("\x89PNG")) || len(png) < 1000 {
		t.Errorf("not a PNG plot (%d bytes)", len(png))
	}
}
