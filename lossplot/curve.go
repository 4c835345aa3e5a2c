package lossplot

// Curve is a named series of (step, loss) points.
type Curve struct {
	Name  string
	Steps []int
	Loss  []float64
}

// Add records one point.
func (c *Curve) Add(step int, loss float64) {
	c.Steps = append(c.Steps, step)
	c.Loss = append(c.Loss, loss)
}

// EMA returns the exponential moving average of values with the given span
// in points, α = 2/(span+1) (pandas' ewm(span=…)), corrected for its zero
// start as Adam and TensorBoard correct theirs: the first value is the first
// point, not a fraction of it. A span below 1 counts as 1 (no smoothing).
func EMA(values []float64, span int) []float64 {
	alpha := 2 / (float64(max(span, 1)) + 1)
	out := make([]float64, len(values))
	avg, weight := 0.0, 0.0 // weight = 1 - (1-α)^t
	for i, v := range values {
		avg = (1-alpha)*avg + alpha*v
		weight = (1-alpha)*weight + alpha
		out[i] = avg / weight
	}
	return out
}
