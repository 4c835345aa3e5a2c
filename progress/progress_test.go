package progress

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

// TestLogLines: a line every `every` steps and at the last, each with the
// mean loss of the steps since the previous line, and the caller's fields.
func TestLogLines(t *testing.T) {
	var buf bytes.Buffer
	r, err := New(Auto, &buf, 10, 4) // a buffer is no terminal: Log
	if err != nil {
		t.Fatal(err)
	}
	for done := 1; done <= 10; done++ {
		r.Step(done, float64(done), slog.Int("epoch", 1+(done-1)/4))
	}
	r.Finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		"step=4 of=10 mean_loss=2.5 over_steps=1-4 ",
		"step=8 of=10 mean_loss=6.5 over_steps=5-8 ",
		"step=10 of=10 mean_loss=9.5 over_steps=9-10 ",
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, l := range lines {
		if !strings.Contains(l, want[i]) || !regexp.MustCompile(`steps/s=\S+ epoch=\d`).MatchString(l) {
			t.Errorf("line %d: %q, want %q, a speed and the epoch", i, l, want[i])
		}
	}
}

// TestResumedRun: a run that starts at step 7 counts its first window from
// there.
func TestResumedRun(t *testing.T) {
	var buf bytes.Buffer
	r, _ := New(Log, &buf, 10, 5)
	for done := 7; done <= 10; done++ {
		r.Step(done, 1)
	}
	if got := buf.String(); !strings.Contains(got, "step=10 of=10 mean_loss=1 over_steps=7-10") || strings.Count(got, "\n") != 1 {
		t.Errorf("log %q", got)
	}
}

func TestQuietModes(t *testing.T) {
	var buf bytes.Buffer
	r, _ := New(None, &buf, 3, 1)
	for done := 1; done <= 3; done++ {
		r.Step(done, 1)
	}
	r.Finish()
	if buf.Len() != 0 {
		t.Errorf("None wrote %q", buf.String())
	}
	r, _ = New(Bar, &buf, 3, 1)
	for done := 1; done <= 3; done++ {
		r.Step(done, 0.25)
	}
	r.Finish()
	if !strings.Contains(buf.String(), "mean loss 0.25") {
		t.Errorf("bar %q", buf.String())
	}
}

func TestModeFlag(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	mode := Auto
	fs.Var(&mode, "progress", Usage)
	if err := fs.Parse([]string{"-progress", "log"}); err != nil || mode != Log {
		t.Errorf("log: %v, %v", mode, err)
	}
	if err := fs.Parse([]string{"-progress", "bars"}); err == nil || !strings.Contains(err.Error(), `unknown progress mode "bars"`) {
		t.Errorf("bars: %v", err)
	}
	if _, err := New("bars", io.Discard, 1, 1); err == nil {
		t.Error("New accepted mode bars")
	}
	if _, err := New(Log, io.Discard, -1, 1); err == nil {
		t.Error("New accepted -1 total steps")
	}
}
