package cmdflag

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/adagrad-go/adagrad/cpu" // registers "cpu"
)

func TestParse(t *testing.T) {
	newSet := func() *flag.FlagSet {
		fs := flag.NewFlagSet("prog", flag.ContinueOnError)
		fs.Int("n", 1, "a number")
		return fs
	}
	var help bytes.Buffer
	err := Parse(newSet(), []string{"-h"}, "prog: does things.\n\n", &help)
	if !errors.Is(err, flag.ErrHelp) || !strings.HasPrefix(help.String(), "prog: does things.\n") || !strings.Contains(help.String(), "-n int") {
		t.Errorf("-h: %v\n%s", err, help.String())
	}
	if Status("prog", err, &help) != 0 {
		t.Error("-h is not status 0")
	}
	for _, args := range [][]string{{"-n", "x"}, {"-m"}, {"-n", "2", "extra"}} {
		help.Reset()
		err := Parse(newSet(), args, "about", &help)
		var stderr bytes.Buffer
		if err == nil || help.Len() != 0 || Status("prog", err, &stderr) != 2 ||
			strings.Count(stderr.String(), "\n") != 1 || !strings.HasPrefix(stderr.String(), "prog: ") {
			t.Errorf("%q: %v, help %q, stderr %q", args, err, help.String(), stderr.String())
		}
	}
	fs := newSet()
	if err := Parse(fs, []string{"-n", "2"}, "", &help); err != nil || !Given(fs)["n"] || Given(fs)["m"] {
		t.Errorf("-n 2: %v, given %v", err, Given(fs))
	}
}

func TestChecks(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.csv")
	os.WriteFile(existing, []byte("keep"), 0o644)
	folder := filepath.Join(dir, "folder.csv")
	os.Mkdir(folder, 0o755)
	for _, c := range []struct {
		name string
		err  error
		want string // "" for no error
	}{
		{"int in range", Int("epochs", 3, 1, 10), ""},
		{"first", First(nil, errors.New("one"), errors.New("two")), "one"},
		{"first of none", First(nil, nil), ""},
		{"int zero", Int("epochs", 0, 1, 10), "-epochs 0: want 1 to 10"},
		{"int negative", Int("epochs", -2, 1, 10), "-epochs -2: want 1 to 10"},
		{"float", Float("lr", 0.5, 0, 1), ""},
		{"float NaN", Float("lr", math.NaN(), 0, 1), "-lr NaN"},
		{"float Inf", Float("lr", math.Inf(1), 0, 1), "-lr +Inf"},
		{"device cpu", Device("device", "cpu"), ""},
		{"device auto", Device("device", "auto"), ""},
		{"device empty", Device("device", ""), ""},
		{"device bogus", Device("device", "bogus:1"), `unknown backend "bogus"`},
		{"input missing", Input("data", filepath.Join(dir, "none")), "-data: stat"},
		{"input folder", Input("data", dir), "not a regular file"},
		{"input file", Input("data", existing), ""},
		{"output new", Output("csv", filepath.Join(dir, "new.csv"), ".csv"), ""},
		{"output existing", Output("csv", existing, ".csv"), ""},
		{"output upper-case", Output("png", filepath.Join(dir, "A.PNG"), ".png"), ""},
		{"output extension", Output("csv", filepath.Join(dir, "x.txt"), ".csv"), "want a file name ending in .csv"},
		{"output folder", Output("csv", filepath.Join(dir, "no", "x.csv"), ".csv"), "no such file or directory"},
		{"output is a folder", Output("csv", folder, ".csv"), "is a directory"},
	} {
		switch {
		case c.want == "" && c.err != nil:
			t.Errorf("%s: %v", c.name, c.err)
		case c.want != "" && (c.err == nil || !strings.Contains(c.err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.name, c.err, c.want)
		}
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep" {
		t.Errorf("existing file now %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("checks left %d files in the folder", len(entries))
	}
}
