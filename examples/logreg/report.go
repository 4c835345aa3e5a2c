package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/adagrad-go/adagrad/device"
)

// The report on stdout: what is trained on what, how the rates were
// chosen, the training, the held-out scores and the verdict, the cost.

func printSetup(w io.Writer, c config, d *dataset, dev device.Backend, rare int) {
	fmt.Fprintln(w, "Logistic regression on sparse features: Adagrad against plain SGD")
	fmt.Fprintln(w)
	section(w, "task", "predict a yes/no label from sparse features: p(yes) = sigmoid(bias + the sum",
		"of weight × value over the sample's features)")
	section(w, "data", d.source...)
	fmt.Fprintf(w, "%-9s%.1f%% of the training labels are yes\n", "", 100*positives(d.train))
	if d.heldOut {
		section(w, "split", fmt.Sprintf("shuffled (seed 1), then %d samples to train on and %d held out as the", len(d.train), len(d.test)),
			"test set, which neither optimizer sees while training or tuning")
	} else {
		section(w, "split", fmt.Sprintf("%s (shuffled, seed 1) to train on; %s is the test set,", c.train, c.test),
			"which neither optimizer sees while training or tuning")
	}
	section(w, "rare", fmt.Sprintf("%d of the %d features are rare: in fewer than %d training samples", rare, d.features, c.rare))
	section(w, "device", fmt.Sprintf("Adagrad runs on %v; SGD on the host", dev))
	fmt.Fprintln(w)
}

func printTuning(w io.Writer, c config, d *dataset, res *result, took time.Duration) {
	train, _ := splitSizes(len(d.train), true, c.batch)
	fmt.Fprintf(w, "Learning rates, tuned on a validation split: the last fifth of the training samples\n"+
		"(%d) held out, the other %d trained on for %d epochs at each rate, the same budget\n"+
		"for both optimizers. Validation log-loss (lower is better; * chosen):\n",
		len(d.train)-train, train, c.epochs)
	for _, o := range []struct {
		name, flag string
		t          tuning
	}{{"adagrad", "-lr", res.adagrad.tuning}, {"sgd", "-sgd-lr", res.sgd.tuning}} {
		if len(o.t.rates) == 0 {
			fmt.Fprintf(w, "  %-8s lr %g, given by %s (not tuned)\n", o.name, o.t.rate, o.flag)
			continue
		}
		rates, losses := []string{}, []string{}
		for i, lr := range o.t.rates {
			mark := " "
			if lr == o.t.rate {
				mark = "*"
			}
			rates = append(rates, fmt.Sprintf("%7g ", lr))
			losses = append(losses, fmt.Sprintf("%7.4f%s", o.t.losses[i], mark))
		}
		fmt.Fprintf(w, "  %-8s lr   %s\n", o.name, strings.TrimRight(strings.Join(rates, " "), " "))
		fmt.Fprintf(w, "  %-8s      %s\n", "", strings.TrimRight(strings.Join(losses, " "), " "))
		if o.t.edge() {
			fmt.Fprintf(w, "  (%s's best rate is at the edge of the grid: one beyond it might do better)\n", o.name)
		}
	}
	fmt.Fprintf(w, "  (tuning took %.1f s)\n\n", took.Seconds())
}

func printTraining(w io.Writer, c config, d *dataset, res *result, cost adagradResult) {
	perEpoch := len(d.train) / c.batch
	fmt.Fprintf(w, "Training on all %d training samples at the chosen rates: %d epochs of %d steps\n"+
		"of %d samples, the same batches for both. Mean training log-loss per epoch:\n",
		len(d.train), c.epochs, perEpoch, c.batch)
	if cost.resumed != "" {
		fmt.Fprintf(w, "  (Adagrad resumed from %s: its losses before that are not in this run)\n", cost.resumed)
	}
	ada, sgd := "adagrad (lr "+ftoa(res.adagrad.tuning.rate)+")", "sgd (lr "+ftoa(res.sgd.tuning.rate)+")"
	fmt.Fprintf(w, "  %5s  %18s  %18s\n", "epoch", ada, sgd)
	for e := range c.epochs {
		cell := func(h *history) string {
			mean, steps := h.epochMean(e)
			switch {
			case steps == 0:
				return "-"
			case steps < perEpoch:
				return fmt.Sprintf("%.4f (%d steps)", mean, steps)
			}
			return fmt.Sprintf("%.4f", mean)
		}
		fmt.Fprintf(w, "  %5d  %18s  %18s\n", e+1, cell(res.adagrad.hist), cell(res.sgd.hist))
	}
	if c.epochs > 1 {
		fmt.Fprintln(w, "(From epoch 2 on, the batches are samples trained on before: the training loss\n"+
			"can fall well below the held-out loss.)")
	}
	fmt.Fprintln(w)
}

func printResults(w io.Writer, c config, d *dataset, res *result) {
	fmt.Fprintf(w, "Held-out test set (%d samples):\n", len(d.test))
	fmt.Fprintf(w, "  %-28s %19s    %s\n", "", "", "with the rare features'")
	fmt.Fprintf(w, "  %-28s %19s    %s\n", "", "", "weights set to 0")
	fmt.Fprintf(w, "  %-28s %9s %9s    %9s %9s\n", "", "log-loss", "accuracy", "log-loss", "accuracy")
	for _, o := range []struct {
		name string
		o    outcome
	}{{"adagrad (lr " + ftoa(res.adagrad.tuning.rate) + ")", res.adagrad}, {"sgd (lr " + ftoa(res.sgd.tuning.rate) + ")", res.sgd}} {
		fmt.Fprintf(w, "  %-28s %9.4f %8.1f%%    %9.4f %8.1f%%\n", o.name,
			o.o.all.loss, 100*o.o.all.accuracy, o.o.withoutRare.loss, 100*o.o.withoutRare.accuracy)
	}
	fmt.Fprintf(w, "  %-28s %9.4f %8.1f%%\n", "no features (the base rate)", res.base.loss, 100*res.base.accuracy)
	fmt.Fprintf(w, "Log-loss is the mean of -log(the probability given to the true label), in nats:\n"+
		"lower is better; a model without features, which gives every sample the training\n"+
		"base rate, scores %.4f. Setting the weights of the rare features (in fewer than %d\n"+
		"training samples) to 0 shows what each optimizer learned from them:\n", res.base.loss, c.rare)
	for _, o := range []struct {
		name string
		o    outcome
	}{{"Adagrad", res.adagrad}, {"SGD", res.sgd}} {
		without, with := o.o.withoutRare.loss, o.o.all.loss
		switch {
		case without > with:
			fmt.Fprintf(w, "  without them, %s's log-loss is %.4f, %.4f higher: they help it\n", o.name, without, without-with)
		case without < with:
			fmt.Fprintf(w, "  without them, %s's log-loss is %.4f, %.4f lower: they hurt it a little\n", o.name, without, with-without)
		default:
			fmt.Fprintf(w, "  without them, %s's log-loss is the same\n", o.name)
		}
	}
	fmt.Fprintf(w, "\nVerdict: %s\n\n", res.verdict)
}

// verdict says which optimizer predicts the held-out set better, by its
// log-loss, by how much, and whether that is more than the test set's
// noise: twice the standard error of the difference.
func verdict(res *result, samples int) string {
	a, s := res.adagrad.all.loss, res.sgd.all.loss
	noise := fmt.Sprintf("the noise of %d test samples\n(the standard error of the difference is %.4f)", samples, res.stdErr)
	if math.Abs(res.diff) < 2*res.stdErr {
		lower := "Adagrad's"
		if a > s {
			lower = "SGD's"
		}
		return fmt.Sprintf("a draw. %s held-out log-loss is lower, %.4f against %.4f, but by\n"+
			"%.4f, less than twice %s.", lower, min(a, s), max(a, s), math.Abs(a-s), noise)
	}
	winner, loser, wl, ll := "Adagrad", "SGD's", a, s
	if a > s {
		winner, loser, wl, ll = "SGD", "Adagrad's", s, a
	}
	return fmt.Sprintf("%s wins: held-out log-loss %.4f against %s %.4f, %.4f lower (%.1f%%),\n"+
		"more than twice %s.", winner, wl, loser, ll, ll-wl, 100*(ll-wl)/ll, noise)
}

func printCost(w io.Writer, cost adagradResult, sgdTime time.Duration) {
	fmt.Fprintf(w, "Time: Adagrad %.2f s on the device (to it %.1f MB, from it %.1f MB; transfers %v,\n"+
		"updates %v), SGD %.2f s on the host.\n",
		cost.elapsed.Seconds(), float64(cost.toDevice)/1e6, float64(cost.fromDevice)/1e6,
		cost.transferTime.Round(time.Millisecond), cost.updateTime.Round(time.Millisecond), sgdTime.Seconds())
}

// section writes a labelled paragraph: the label, then its lines indented.
func section(w io.Writer, label string, lines ...string) {
	for i, l := range lines {
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(w, "%-9s%s\n", label, l)
	}
}

func positives(data []example) float64 {
	n := 0.0
	for _, ex := range data {
		n += ex.label
	}
	return n / float64(len(data))
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
func itoa(v int) string     { return strconv.Itoa(v) }
