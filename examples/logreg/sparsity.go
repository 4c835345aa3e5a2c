package main

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// The -sparsity study: Adagrad with an L1 penalty that sets weights to
// exactly zero, by one of the rules of the Adagrad family, against plain
// Adagrad at its tuned rate:
//
//   - proximal: device.ProximalAdagrad, TensorFlow's ProximalAdagradOptimizer
//     with its defaults (an accumulator starting at 0.1, no ε), given the
//     weights' gradient whole (zero for the features a batch does not use),
//     as TensorFlow's dense ApplyProximalAdagrad is: every weight takes its
//     proximal step at every step, so an untouched rare feature, whose
//     accumulator stays small, is shrunk by a large η·l1 until it is zero.
//   - proximal-lazy: the same rule given row-sparse gradients, as
//     TensorFlow's SparseApplyProximalAdagrad is (an embedding lookup's
//     gradient): a row is shrunk only at the steps that touch it, so an L1
//     strong enough to zero rare features starves the frequent ones.
//   - da: device.AdagradDA, TensorFlow's AdagradDAOptimizer with its
//     defaults (a squared accumulator starting at 0.1), row-sparse: each
//     weight is the closed form of its averaged gradient, with l1 × the
//     step count, so a rare feature is held to the penalty of every step,
//     touched or not.
//
// Its learning rate and L1 strength are tuned on the same validation split
// as the others: of the pairs whose validation log-loss is within 1% of
// plain Adagrad's, the one that zeroes most rare features' weights (the
// test set plays no part). The L1 goes on the weights, not the bias.
//
// Under mpirun, proximal's dense gradients are summed on each rank over
// its slices and then across ranks in rank order (optim's contract: equal
// to one process given the same sums), so -np N prints what -slices N
// prints when every rank has one slice; the row-sparse rules sum every
// row's slices in slice order on any N.

// sparsityRule is one rule the study can run.
type sparsityRule struct {
	rule   device.Rule
	preset func(lr float64) optim.Option
	rates  []float64 // learning rates tried
	l1s    []float64 // L1 strengths tried
	dense  bool      // the weights' gradient sent whole, not row-sparse
	about  string
}

var sparsityRules = map[string]sparsityRule{
	"proximal": {device.ProximalAdagrad, optim.TF1ProximalDefaults, []float64{0.05, 0.1, 0.2, 0.4, 0.8},
		[]float64{1e-5, 3e-5, 1e-4, 3e-4, 1e-3}, true,
		"TensorFlow's ProximalAdagrad on dense gradients: accumulator from 0.1, no ε; every weight shrunk at every step"},
	"proximal-lazy": {device.ProximalAdagrad, optim.TF1ProximalDefaults, []float64{0.05, 0.1, 0.2, 0.4, 0.8},
		[]float64{3e-4, 1e-3, 3e-3, 1e-2, 3e-2}, false,
		"TensorFlow's ProximalAdagrad on row-sparse gradients: accumulator from 0.1, no ε; a row is shrunk at the steps that touch it"},
	"da": {device.AdagradDA, optim.TF1AdagradDADefaults, []float64{0.05, 0.1, 0.2, 0.4, 0.8},
		[]float64{3e-6, 1e-5, 3e-5, 1e-4, 3e-4}, false,
		"TensorFlow's AdagradDA on row-sparse gradients: squared accumulator from 0.1; each weight the closed form of its averaged gradient, l1 × the step count"},
}

// proximalSlack is how much higher than plain Adagrad's a validation
// log-loss may be for its L1 strength to be chosen.
const proximalSlack = 0.01

// proximalResult is what the study measured.
type proximalResult struct {
	rule      sparsityRule
	lr, l1    float64
	tried     []proximalTrial // none when -lr and -l1 were given
	plainVal  float64         // plain Adagrad's validation log-loss at its rate
	test      metrics         // held out
	plainTest metrics         // plain Adagrad's, held out
	// Weights exactly zero: of the rare features seen in training (at
	// least once, fewer than -rare times), and of all features; and the
	// same for plain Adagrad.
	seenRare, zeroRare, zeroAll int
	plainZeroRare, plainZeroAll int
}

// proximalTrial is one pair tried on the validation split.
type proximalTrial struct {
	lr, l1, loss float64
	zeroRare     int // of the rare features seen in the fit split
}

// runProximal tunes, trains and reports the study; plain is plain
// Adagrad's model trained on all the training samples.
func runProximal(c config, d *dataset, ada adagradRun, res *result, plain model, out io.Writer) (*proximalResult, error) {
	ada.checkpoint, ada.progress = "", ""
	sr := sparsityRules[c.sparsity]
	trainWith := func(data []example, lr, l1 float64) (model, error) {
		r := ada
		r.options, r.weightOptions = []optim.Option{sr.preset(lr)}, []optim.Option{optim.L1(l1)}
		r.denseWeights = sr.dense
		m, _, err := trainAdagrad(r, data, lr, nil)
		return m, err
	}
	pr := &proximalResult{rule: sr, lr: c.lr, l1: c.l1}
	fit, val := holdOut(d.train, 2)
	rareFit := seenRare(fit, d.features, c.rare)
	if pr.plainVal = res.adagrad.tuning.valLoss(); math.IsNaN(pr.plainVal) {
		m, _, err := trainAdagrad(ada, fit, res.adagrad.tuning.rate, nil)
		if err != nil {
			return nil, err
		}
		pr.plainVal = m.evaluate(val, nil).loss
	}
	if c.lr == 0 || c.l1 == 0 {
		lrs, l1s := sr.rates, sr.l1s
		if c.lr > 0 {
			lrs = []float64{c.lr}
		}
		if c.l1 > 0 {
			l1s = []float64{c.l1}
		}
		best := -1
		for _, lr := range lrs {
			for _, l1 := range l1s {
				m, err := trainWith(fit, lr, l1)
				if err != nil {
					return nil, err
				}
				tr := proximalTrial{lr: lr, l1: l1, loss: m.evaluate(val, nil).loss, zeroRare: zeros(m.w, rareFit)}
				pr.tried = append(pr.tried, tr)
				if better(tr, best, pr.tried, pr.plainVal) {
					best = len(pr.tried) - 1
				}
			}
		}
		pr.lr, pr.l1 = pr.tried[best].lr, pr.tried[best].l1
	}
	m, err := trainWith(d.train, pr.lr, pr.l1)
	if err != nil {
		return nil, err
	}
	rare := seenRare(d.train, d.features, c.rare)
	pr.seenRare = count(rare)
	pr.zeroRare, pr.zeroAll = zeros(m.w, rare), zeros(m.w, nil)
	pr.plainZeroRare, pr.plainZeroAll = zeros(plain.w, rare), zeros(plain.w, nil)
	pr.test, pr.plainTest = m.evaluate(d.test, nil), plain.evaluate(d.test, nil)
	printProximal(out, pr, d.features)
	return pr, nil
}

// better reports whether trial t (the last of tried) beats tried[best]:
// within the slack of plain Adagrad's validation loss, more rare zeros,
// then a lower loss; outside it, only a lower loss, and never over one
// within it.
func better(t proximalTrial, best int, tried []proximalTrial, plainVal float64) bool {
	if best < 0 {
		return true
	}
	b := tried[best]
	ok, bok := t.loss <= (1+proximalSlack)*plainVal, b.loss <= (1+proximalSlack)*plainVal
	switch {
	case ok != bok:
		return ok
	case ok && t.zeroRare != b.zeroRare:
		return t.zeroRare > b.zeroRare
	}
	return t.loss < b.loss
}

// seenRare marks the features seen in training at least once but fewer
// than limit times.
func seenRare(train []example, features, limit int) []bool {
	seen := make([]int, features)
	for _, ex := range train {
		for _, f := range ex.features {
			seen[f]++
		}
	}
	out := make([]bool, features)
	for f, n := range seen {
		out[f] = n > 0 && n < limit
	}
	return out
}

// zeros counts the weights exactly zero, of the features where among is
// true (of all with nil).
func zeros(w []float64, among []bool) int {
	n := 0
	for f, v := range w {
		if v == 0 && (among == nil || among[f]) {
			n++
		}
	}
	return n
}

// valLoss is the validation log-loss at the chosen rate, or NaN when the
// rate was given, not tuned.
func (t tuning) valLoss() float64 {
	for i, r := range t.rates {
		if r == t.rate {
			return t.losses[i]
		}
	}
	return math.NaN()
}

func printProximal(w io.Writer, pr *proximalResult, features int) {
	fmt.Fprintf(w, "Adagrad with L1 on the weights, rule %v:\n%s.\n", pr.rule.rule, pr.rule.about)
	if len(pr.tried) > 0 {
		fmt.Fprintf(w, "Tuned on the validation split: of the rates and L1 strengths whose validation\n"+
			"log-loss is within %g%% of plain Adagrad's (%.4f), the one (*) with the most rare\n"+
			"weights exactly zero. Validation log-loss (rare weights zero):\n", 100*proximalSlack, pr.plainVal)
		var head strings.Builder
		fmt.Fprintf(&head, "  %-9s", "")
		for _, l1 := range pr.rule.l1s {
			fmt.Fprintf(&head, " %16s", "l1 "+ftoa(l1))
		}
		fmt.Fprintln(w, strings.TrimRight(head.String(), " "))
		for i, t := range pr.tried {
			if i%len(pr.rule.l1s) == 0 {
				fmt.Fprintf(w, "  %-9s", "lr "+ftoa(t.lr))
			}
			mark := " "
			if t.lr == pr.lr && t.l1 == pr.l1 {
				mark = "*"
			}
			fmt.Fprintf(w, " %16s", fmt.Sprintf("%.4f (%d)%s", t.loss, t.zeroRare, mark))
			if i%len(pr.rule.l1s) == len(pr.rule.l1s)-1 {
				fmt.Fprintln(w)
			}
		}
	}
	pct := func(n, of int) string {
		return fmt.Sprintf("%d of %d (%.1f%%)", n, of, 100*float64(n)/math.Max(float64(of), 1))
	}
	all := features
	fmt.Fprintf(w, "Held out, %v (lr %g, l1 %g) against plain Adagrad:\n", pr.rule.rule, pr.lr, pr.l1)
	fmt.Fprintf(w, "  log-loss     %.4f against %.4f: %+.2f%%\n", pr.test.loss, pr.plainTest.loss, 100*(pr.test.loss/pr.plainTest.loss-1))
	fmt.Fprintf(w, "  accuracy     %.1f%% against %.1f%%\n", 100*pr.test.accuracy, 100*pr.plainTest.accuracy)
	fmt.Fprintf(w, "  exactly zero, rare features seen in training: %s against %s\n", pct(pr.zeroRare, pr.seenRare), pct(pr.plainZeroRare, pr.seenRare))
	fmt.Fprintf(w, "  exactly zero, all features:                   %s against %s\n", pct(pr.zeroAll, all), pct(pr.plainZeroAll, all))
	fmt.Fprintln(w)
}
