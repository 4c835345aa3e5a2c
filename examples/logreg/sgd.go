package main

// trainSGD trains the weights and the bias on the host with plain SGD at
// rate lr, on the batches Adagrad sees, recording each step's loss in h.
func trainSGD(train []example, features int, lr float64, epochs, batch int, h *history) model {
	m := model{w: make([]float64, features)}
	b := newBatcher(train, batch)
	grad := newGradients(features)
	gather := func(rows []int64, weights []float32) error {
		for i, r := range rows {
			weights[i] = float32(m.w[r])
		}
		return nil
	}
	for g := range epochs * b.perEp {
		batch := b.at(g)
		gr, _ := grad.batch(batch, len(batch), m.b, gather) // gather never fails
		for i, r := range gr.rows {
			m.w[r] -= lr * float64(gr.grads[i])
		}
		m.b -= lr * gr.bias
		h.add(g/b.perEp, g+1, gr.loss)
	}
	return m
}
