package devicetest

import (
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// Opener opens a fresh backend of the kind under test.
type Opener func() (device.Backend, error)

// Run runs the whole conformance suite against the backends open returns.
// Each subtest opens its own backend and closes it.
func Run(t *testing.T, open Opener) {
	t.Run("Buffers", func(t *testing.T) { testBuffers(t, open) })
	t.Run("Oracle", func(t *testing.T) { testOracle(t, open) })
	t.Run("Reference", func(t *testing.T) { testReference(t, open) })
	t.Run("MatchesCPU", func(t *testing.T) { testMatchesCPU(t, open) })
	t.Run("BadInput", func(t *testing.T) { testBadInput(t, open) })
	t.Run("State", func(t *testing.T) { testState(t, open) })
	t.Run("Sparse", func(t *testing.T) { testSparse(t, open) })
	t.Run("HalfGradients", func(t *testing.T) { testHalfGrads(t, open) })
}

// mustOpen opens a backend and closes it when the test ends.
func mustOpen(t *testing.T, open Opener) device.Backend {
	t.Helper()
	dev, err := open()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := dev.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return dev
}

// updater returns the backend's Updater, or fails the test.
func updater(tb testing.TB, dev device.Backend) device.Updater {
	tb.Helper()
	u, ok := dev.(device.Updater)
	if !ok {
		tb.Fatalf("%v runs no update rules (device.Updater)", dev)
	}
	return u
}
