package optim

import (
	"sync"
	"time"
)

// Stats counts what crossed the boundary between host and device, so that
// a user sees what it costs.
//
// On asynchronous devices (CUDA, OpenCL) a kernel runs after Step returns:
// its time is counted where the host waits for it, in Sync, or in the
// first Read after it (which waits for queued work before copying).
type Stats struct {
	Steps           int64
	BytesToDevice   int64         // gradients, sparse rows and indices, uploads of state
	BytesFromDevice int64         // parameters and accumulators read back
	TransferTime    time.Duration // in uploads and reads
	ComputeTime     time.Duration // in update calls and Sync
}

type statsCounter struct {
	mu sync.Mutex
	s  Stats
}

func (c *statsCounter) transfer(toDevice, fromDevice int64, since time.Time) {
	d := time.Since(since)
	c.mu.Lock()
	c.s.BytesToDevice += toDevice
	c.s.BytesFromDevice += fromDevice
	c.s.TransferTime += d
	c.mu.Unlock()
}

func (c *statsCounter) compute(toDevice int64, since time.Time) {
	d := time.Since(since)
	c.mu.Lock()
	c.s.BytesToDevice += toDevice
	c.s.ComputeTime += d
	c.mu.Unlock()
}

func (c *statsCounter) step() {
	c.mu.Lock()
	c.s.Steps++
	c.mu.Unlock()
}

// Stats returns the counts since the optimizer was made.
func (a *Adagrad) Stats() Stats {
	a.stats.mu.Lock()
	defer a.stats.mu.Unlock()
	return a.stats.s
}
