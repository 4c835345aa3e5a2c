package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchTable(t *testing.T) {
	dir := t.TempDir()
	c := config{min: 12, max: 16, devices: "cpu", budget: 30e6, tensors: 20, manyLog2: 14, uploadLog2: 14, torch: false,
		sparse: "1000x4x50,300x1x300", latencyLog2: 8, familyLog2: 12, variantLog2: 12, width: 64, csv: filepath.Join(dir, "b.csv"), png: filepath.Join(dir, "b.png")}
	var out bytes.Buffer
	if err := run(c, &out); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	text := out.String()
	for _, want := range []string{"of copy", "2^12", "2^14", "2^16", "20 tensors", "cpu: cpu (", "bfloat16", "of write",
		"go copy GB/s", "of float32 step", "sparse: 50 of 1000×4 rows", "sparse: 300 of 300×1 rows", "dense step + wait, 2^8 params",
		"proximal-adagrad", "adagrad-da", "of adagrad GB/s",
		"row-wise", "8-bit state", "float16 params", "row-wise, bfloat16 params", "x plain"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	// The 20-tensor model is one backend call per step.
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "20 tensors") && !strings.Contains(line, " 1 ") {
			t.Errorf("many-tensor row does not show one launch: %q", line)
		}
	}
	if _, err := parseSparse("10x2x11"); err == nil {
		t.Errorf("more touched rows than the table has: no error")
	}
	csv, _ := os.ReadFile(c.csv)
	if n := strings.Count(string(csv), "\n"); n != 1+3+1 {
		t.Errorf("csv has %d lines:\n%s", n, csv)
	}
	if png, _ := os.ReadFile(c.png); !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("no PNG plot")
	}
}
