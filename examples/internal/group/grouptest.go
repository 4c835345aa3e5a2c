package group

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/adagrad-go/adagrad/collective"
)

// OnRanks runs run on every rank of an in-process world of n, each with
// its group writing to a buffer of its own, and returns what each wrote to
// stdout, and the first error. It is how the examples' tests try a run of
// n ranks without a launcher.
func OnRanks(n int, run func(g *Group) error) ([]string, error) {
	comms, err := collective.InProcess(n, collective.Options{Timeout: 5 * time.Minute})
	if err != nil {
		return nil, err
	}
	out := make([]bytes.Buffer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r, c := range comms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close() // a rank that fails lets the others' calls fail too
			g := New(c, &out[r], io.Discard)
			if errs[r] = run(g); errs[r] != nil {
				errs[r] = fmt.Errorf("rank %d of %d: %w", r, n, errs[r])
			}
		}()
	}
	wg.Wait()
	texts := make([]string, n)
	for r := range out {
		texts[r] = out[r].String()
	}
	for _, err := range errs {
		if err != nil {
			return texts, err
		}
	}
	return texts, nil
}

// Between returns the lines of a report from the first that starts with
// from up to the first that starts with to (excluded), less the lines that
// match drop: the part of a report whose numbers N ranks and one process
// with -slices N print alike.
func Between(report, from, to string, drop *regexp.Regexp) string {
	var out []string
	in := false
	for _, l := range strings.Split(report, "\n") {
		switch {
		case !in && strings.HasPrefix(l, from):
			in = true
		case in && strings.HasPrefix(l, to):
			return strings.Join(out, "\n")
		}
		if in && (drop == nil || !drop.MatchString(l)) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
