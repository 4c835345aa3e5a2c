// Package lossplot records the losses of training runs and writes them as
// CSV and as PNG plots (with gonum.org/v1/plot, which carries its own
// fonts), for command-line programs.
//
// Per-step losses are noisy (each is one batch's), so a plot draws each
// curve twice: the raw values faintly, and over them their exponential
// moving average (EMA), labelled with its span. The legend sits beside the
// data, not on it.
//
//	ada := &lossplot.Curve{Name: "adagrad"}
//	for step := 1; step <= steps; step++ {
//		ada.Add(step, train())
//	}
//	fig := &lossplot.Figure{Title: "logistic regression", XLabel: "step (batch of 32 samples)",
//		YLabel: "training log-loss (nats per sample)", Curves: []*lossplot.Curve{ada}}
//	err := fig.Save("loss.png") // or "loss.csv"
package lossplot
