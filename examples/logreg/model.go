package main

import (
	"math"
	"slices"
)

// logistic is the model: p(y=1|x) = sigmoid(b + Σ w_f x_f).
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
// per feature the batch touches (rows, increasing) and the bias's.
type batchGrad struct {
	loss  float64
	rows  []int64
	grads []float32
	bias  float64
}

// touched returns the features a batch uses, increasing, without repeats.
func touched(batch []example) []int64 {
	var rows []int64
	for _, ex := range batch {
		rows = append(rows, ex.features...)
	}
	slices.Sort(rows)
	return slices.Compact(rows)
}

// gradient computes a batch's loss and gradient, given the current weights
// of its touched rows (weights[i] for rows[i]) and the bias.
func gradient(batch []example, rows []int64, weights []float32, bias float64) batchGrad {
	at := make(map[int64]int, len(rows))
	for i, r := range rows {
		at[r] = i
	}
	g := batchGrad{rows: rows, grads: make([]float32, len(rows))}
	grads := make([]float64, len(rows))
	n := float64(len(batch))
	for _, ex := range batch {
		z := bias
		for k, f := range ex.features {
			z += float64(weights[at[f]]) * float64(ex.values[k])
		}
		p := sigmoid(z)
		g.loss += logLoss(p, ex.label) / n
		dz := (p - ex.label) / n
		for k, f := range ex.features {
			grads[at[f]] += dz * float64(ex.values[k])
		}
		g.bias += dz
	}
	for i, v := range grads {
		g.grads[i] = float32(v)
	}
	return g
}

// evaluate returns the mean log-loss and accuracy of weights on data.
func evaluate(data []example, weight func(int64) float64, bias float64) (loss, accuracy float64) {
	if len(data) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, ex := range data {
		z := bias
		for k, f := range ex.features {
			z += weight(f) * float64(ex.values[k])
		}
		p := sigmoid(z)
		loss += logLoss(p, ex.label)
		if (p >= 0.5) == (ex.label == 1) {
			accuracy++
		}
	}
	n := float64(len(data))
	return loss / n, accuracy / n
}
