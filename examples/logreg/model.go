package main

import (
	"math"
	"slices"
)

// sigmoid is the logistic function; the model is: p(y=1|x) = sigmoid(b + Σ w_f x_f).
func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// logLoss is -log p(label), clamped away from log 0.
func logLoss(p, label float64) float64 {
	p = min(max(p, 1e-12), 1-1e-12)
	if label == 1 {
		return -math.Log(p)
	}
	return -math.Log(1 - p)
}

// batchGrad is the mean log-loss of a batch and its gradient: one value
// per feature the batch touches (rows) and the bias's.
type batchGrad struct {
	loss  float64
	rows  []int64
	grads []float32
	bias  float64
}

// gradients computes batches' losses and gradients. It keeps an index of
// one entry per feature, reused from step to step, where a map or a sort
// per step would cost more than the device's update.
type gradients struct {
	at []int32 // at[f]: feature f's place in the batch's rows; -1 when not in them
}

func newGradients(features int) *gradients {
	g := &gradients{at: make([]int32, features)}
	for i := range g.at {
		g.at[i] = -1
	}
	return g
}

// batch returns a batch's loss and gradient at the current weights and
// bias, each a sum over its samples divided by n (the batch's size, or the
// global batch's when batch is a slice of it). The rows are the features
// the batch uses, each once, increasing (the optimizer sorts sparse rows,
// and sorted ones cost it least); gather fills weights[i] with the weight
// of rows[i].
func (g *gradients) batch(batch []example, n int, bias float64, gather func(rows []int64, weights []float32) error) (batchGrad, error) {
	var rows []int64
	for _, ex := range batch {
		for _, f := range ex.features {
			if g.at[f] < 0 {
				g.at[f] = 0
				rows = append(rows, f)
			}
		}
	}
	slices.Sort(rows)
	for i, f := range rows {
		g.at[f] = int32(i)
	}
	defer func() {
		for _, f := range rows {
			g.at[f] = -1
		}
	}()
	weights := make([]float32, len(rows))
	if err := gather(rows, weights); err != nil {
		return batchGrad{}, err
	}
	out := batchGrad{rows: rows, grads: make([]float32, len(rows))}
	grads := make([]float64, len(rows))
	for _, ex := range batch {
		z := bias
		for k, f := range ex.features {
			z += float64(weights[g.at[f]]) * float64(ex.values[k])
		}
		p := sigmoid(z)
		out.loss += logLoss(p, ex.label) / float64(n)
		dz := (p - ex.label) / float64(n)
		for k, f := range ex.features {
			grads[g.at[f]] += dz * float64(ex.values[k])
		}
		out.bias += dz
	}
	for i, v := range grads {
		out.grads[i] = float32(v)
	}
	return out, nil
}

// model is a trained logistic regression: a weight per feature and a
// bias.
type model struct {
	w []float64
	b float64
}

// metrics are a model's scores on a data set.
type metrics struct{ loss, accuracy float64 }

// evaluate returns the model's mean log-loss and accuracy on data. With
// keep, the weights of the features where keep is false count as 0 (the
// bias stays).
func (m model) evaluate(data []example, keep []bool) metrics {
	var s metrics
	for _, ex := range data {
		p := m.predict(ex, keep)
		s.loss += logLoss(p, ex.label)
		if (p >= 0.5) == (ex.label == 1) {
			s.accuracy++
		}
	}
	n := float64(len(data))
	return metrics{s.loss / n, s.accuracy / n}
}

// predict returns the model's probability that ex is a yes (see evaluate
// for keep).
func (m model) predict(ex example, keep []bool) float64 {
	z := m.b
	for k, f := range ex.features {
		if int(f) < len(m.w) && (keep == nil || keep[f]) {
			z += m.w[f] * float64(ex.values[k])
		}
	}
	return sigmoid(z)
}

// difference is how much higher a's log-loss is than b's on the same
// samples, with the standard error of that mean difference: the noise a
// test set of this size leaves in it.
func difference(a, b model, data []example) (diff, stdErr float64) {
	var sum, sq float64
	for _, ex := range data {
		d := logLoss(a.predict(ex, nil), ex.label) - logLoss(b.predict(ex, nil), ex.label)
		sum += d
		sq += d * d
	}
	n := float64(len(data))
	diff = sum / n
	return diff, math.Sqrt(max(sq/n-diff*diff, 0) / max(n-1, 1))
}

// baseRate is the model without features: it gives every sample the
// training data's share of positives.
func baseRate(train []example) model {
	pos := 0.0
	for _, ex := range train {
		pos += ex.label
	}
	p := min(max(pos/float64(len(train)), 1e-6), 1-1e-6)
	return model{b: math.Log(p / (1 - p))}
}
