package group

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/adagrad-go/adagrad/collective"
)

func TestSlices(t *testing.T) {
	alone := New(collective.One(), io.Discard, io.Discard)
	comms, err := collective.InProcess(3, collective.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	three := New(comms[1], io.Discard, io.Discard)
	defer three.Close(false)
	for _, c := range []struct {
		g            *Group
		given, batch int
		want         int
		err          string
	}{
		{alone, 0, 32, 1, ""},
		{alone, 5, 32, 5, ""},
		{alone, 33, 32, 0, "33 slices: more than the 32 samples of a batch"},
		{alone, -1, 32, 0, "want 1 or more"},
		{three, 0, 32, 3, ""},
		{three, 3, 32, 3, ""},
		{three, 2, 32, 0, "-slices 2 with 3 ranks"},
		{three, 0, 2, 0, "3 slices: more than the 2 samples"},
	} {
		got, err := c.g.Slices(c.given, c.batch, "samples")
		if got != c.want || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%d ranks, -slices %d, batch %d: %d, %v; want %d, %q", c.g.Size(), c.given, c.batch, got, err, c.want, c.err)
		}
	}
	if first, last := alone.Mine(4); first != 0 || last != 4 {
		t.Errorf("alone computes slices [%d,%d) of 4", first, last)
	}
	if first, last := three.Mine(3); first != 1 || last != 2 {
		t.Errorf("rank 1 of 3 computes slices [%d,%d)", first, last)
	}
	for _, c := range []struct {
		batch, slices int
		want          string
	}{{32, 3, "10 to 11"}, {32, 4, "8"}, {2, 3, "0 to 1"}} {
		if got := SliceSizes(c.batch, c.slices); got != c.want {
			t.Errorf("SliceSizes(%d, %d) = %q, want %q", c.batch, c.slices, got, c.want)
		}
	}
}

// TestOutput: only rank 0 prints; errors name the rank in a group.
func TestOutput(t *testing.T) {
	comms, err := collective.InProcess(2, collective.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var out0, out1, err0, err1 bytes.Buffer
	g0, g1 := New(comms[0], &out0, &err0), New(comms[1], &out1, &err1)
	defer g0.Close(false)
	defer g1.Close(false)
	for _, g := range []*Group{g0, g1} {
		io.WriteString(g.Stdout, "report\n")
		io.WriteString(g.Stderr, "progress\n")
	}
	g1.Fail("prog", errors.New("boom"))
	if out0.String() != "report\n" || err0.String() != "progress\n" || out1.Len() != 0 || err1.String() != "prog: rank 1 of 2: boom\n" {
		t.Errorf("rank 0 wrote %q, %q; rank 1 %q, %q", out0.String(), err0.String(), out1.String(), err1.String())
	}
	var e bytes.Buffer
	New(collective.One(), io.Discard, &e).Fail("prog", errors.New("boom"))
	if e.String() != "prog: boom\n" {
		t.Errorf("alone: %q", e.String())
	}
}

func TestDigest(t *testing.T) {
	a, b := Digest([]float32{1, 2}, []float32{3}), Digest([]float32{1, 2, 3})
	if a != b || len(a) != 16 || Digest([]float32{1, 2, 3.0000002}) == a {
		t.Errorf("digests %s %s", a, b)
	}
}
