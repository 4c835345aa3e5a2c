package main

import "math"

// The learning rates tried on the validation split: five per optimizer, a
// factor of two apart, around the rates that suit each on the default
// data. Both get the same budget: as many rates, trained for as many epochs
// on the same batches, judged by the same validation log-loss.
var (
	adagradRates = []float64{0.025, 0.05, 0.1, 0.2, 0.4}
	sgdRates     = []float64{0.25, 0.5, 1, 2, 4}
)

// tuning is how an optimizer's learning rate was chosen.
type tuning struct {
	rates  []float64 // tried, none when given by a flag
	losses []float64 // validation log-loss of each
	rate   float64   // the one used
}

// edge reports whether the chosen rate is the smallest or largest tried:
// the best one may lie outside the grid.
func (t tuning) edge() bool {
	return len(t.rates) > 1 && (t.rate == t.rates[0] || t.rate == t.rates[len(t.rates)-1])
}

// tune picks the rate of grid whose model, fit on fit, has the lowest
// log-loss on val; a given rate (above 0) is used as it is.
func tune(grid []float64, given float64, fit []example, val []example, train func([]example, float64) (model, error)) (tuning, error) {
	if given > 0 {
		return tuning{rate: given}, nil
	}
	t := tuning{rates: grid}
	best := -1
	for i, lr := range grid {
		m, err := train(fit, lr)
		if err != nil {
			return t, err
		}
		loss := m.evaluate(val, nil).loss
		t.losses = append(t.losses, loss)
		if best < 0 || loss < t.losses[best] || math.IsNaN(t.losses[best]) {
			best = i
		}
	}
	t.rate = grid[best]
	return t, nil
}
