package main

import "math/rand/v2"

// batcher hands out the samples of each global step: a fresh shuffle every
// epoch, drawn from the epoch number alone, so that a resumed run sees the
// batches the uninterrupted one would, and SGD and Adagrad see the same.
type batcher struct {
	data    []example
	size    int
	perEp   int // steps per epoch
	epoch   int
	shuffle []int
}

func newBatcher(data []example, size int) *batcher {
	return &batcher{data: data, size: size, perEp: len(data) / size}
}

// at returns the batch of global step g.
func (b *batcher) at(g int) []example {
	epoch, step := g/b.perEp, g%b.perEp
	if b.shuffle == nil || epoch != b.epoch {
		b.epoch = epoch
		b.shuffle = rand.New(rand.NewPCG(uint64(epoch), 5)).Perm(len(b.data))
	}
	out := make([]example, 0, b.size)
	for _, i := range b.shuffle[step*b.size : (step+1)*b.size] {
		out = append(out, b.data[i])
	}
	return out
}
