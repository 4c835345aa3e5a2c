package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestSparsityFlags: -sparsity takes proximal, proximal-lazy or da, and -l1 needs it.
func TestSparsityFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-sparsity", "lasso"}, `-sparsity "lasso": want proximal, proximal-lazy or da`},
		{[]string{"-l1", "0.01"}, "-l1 is the L1 strength of -sparsity"},
		{[]string{"-sparsity", "da", "-l1", "-1"}, "-l1 -1"},
	} {
		var stdout, stderr bytes.Buffer
		if code := command(c.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, stderr.String(), c.want)
		}
	}
}

// TestSparsity runs the study with each rule on small generated data: a
// tuned run (every pair of its grid tried on the validation split, the
// chosen one within the slack of plain Adagrad's validation loss when one
// is) and a run at a given rate and L1, and checks the report and the
// counts of zero weights.
func TestSparsity(t *testing.T) {
	for _, rule := range []string{"proximal", "proximal-lazy", "da"} {
		for _, l1 := range []float64{0, 3e-3} {
			c := defaults()
			c.device, c.progress, c.samples, c.features, c.epochs = "cpu", "none", 2000, 3000, 2
			c.sparsity, c.l1 = rule, l1
			if l1 > 0 {
				c.lr = 0.2
			}
			var stdout bytes.Buffer
			res, err := run(c, &stdout, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			out := stdout.String()
			pr := res.proximal
			sr := sparsityRules[rule]
			for _, want := range []string{"Adagrad with L1 on the weights, rule " + sr.rule.String(), "exactly zero, rare features seen in training",
				"exactly zero, all features", "against plain Adagrad"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s: the report lacks %q:\n%s", rule, want, out)
				}
			}
			if l1 == 0 {
				if len(pr.tried) != len(sr.rates)*len(sr.l1s) || !strings.Contains(out, "*") {
					t.Errorf("%s: %d pairs tried, want %d, one marked", rule, len(pr.tried), len(sr.rates)*len(sr.l1s))
				}
				chosen := -1
				for i, tr := range pr.tried {
					if tr.lr == pr.lr && tr.l1 == pr.l1 {
						chosen = i
					}
				}
				for i, tr := range pr.tried {
					if chosen < 0 || i != chosen && better(tr, chosen, pr.tried, pr.plainVal) {
						t.Errorf("%s: the chosen pair (lr %g, l1 %g) is not the best of %+v", rule, pr.lr, pr.l1, pr.tried)
						break
					}
				}
			} else if len(pr.tried) != 0 || pr.l1 != l1 || pr.lr != 0.2 {
				t.Errorf("%s: given lr and l1 were tuned: %+v", rule, pr)
			}
			if !(pr.zeroRare <= pr.seenRare && pr.zeroAll >= pr.zeroRare && pr.zeroAll <= c.features && pr.test.loss > 0) {
				t.Errorf("%s: counts %+v", rule, pr)
			}
			if l1 > 0 && pr.zeroRare == 0 {
				t.Errorf("%s at l1 %g: no rare weight is exactly zero", rule, l1)
			}
		}
	}
}

// TestProximalDenseShrinksUntouched: with dense gradients every weight
// takes its proximal step at every step, so proximal zeroes more rare
// weights than proximal-lazy, which shrinks a row only when touched, at
// the same rate and L1.
func TestProximalDenseShrinksUntouched(t *testing.T) {
	zero := map[string]int{}
	for _, rule := range []string{"proximal", "proximal-lazy"} {
		c := defaults()
		c.device, c.progress, c.samples, c.features, c.epochs = "cpu", "none", 2000, 3000, 2
		c.sparsity, c.l1, c.lr = rule, 1e-3, 0.2
		res, err := run(c, io.Discard, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		zero[rule] = res.proximal.zeroRare
	}
	if zero["proximal"] <= zero["proximal-lazy"] {
		t.Errorf("rare weights exactly zero: dense %d, lazy %d; want dense more", zero["proximal"], zero["proximal-lazy"])
	}
	t.Logf("rare weights exactly zero at lr 0.2, l1 1e-3: dense %d, lazy %d", zero["proximal"], zero["proximal-lazy"])
}
