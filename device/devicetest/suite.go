package devicetest

import (
	"testing"

	"github.com/adagrad-go/adagrad/device"
)

// Opener opens a fresh backend of the kind under test.
type Opener func() (device.Backend, error)

// Run runs every layer that applies to the backend, as its Capabilities
// declare: Capabilities, Buffers, Closed and BadInput always; Update and
// Oracle for a device.Updater; UpdateRows when a rule runs with row-sparse
// gradients; Gather for a device.RowReader. Each layer opens its own
// backends and closes them.
func Run(t *testing.T, open Opener) {
	dev, err := open()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	caps := dev.Capabilities()
	_, isUpdater := dev.(device.Updater)
	if err := dev.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	rows := false
	for _, r := range caps.Rules {
		rows = rows || r.Rows
	}
	layers := []struct {
		name    string
		applies bool
		run     func(*testing.T, Opener)
	}{
		{"Capabilities", true, Capabilities},
		{"Buffers", true, Buffers},
		{"Closed", true, Closed},
		{"BadInput", true, BadInput},
		{"Update", isUpdater && len(caps.Rules) > 0, Update},
		{"UpdateRows", isUpdater && rows, UpdateRows},
		{"HalfRounding", isUpdater && (caps.Supports(device.AdagradRowwise, device.BFloat16, false) ||
			caps.Supports(device.AdagradRowwise, device.Float16, false)), HalfRounding},
		{"Gather", caps.Gather, Gather},
		{"Oracle", isUpdater && caps.Supports(device.Adagrad, device.Float32, false), Oracle},
	}
	for _, l := range layers {
		if l.applies {
			t.Run(l.name, func(t *testing.T) { l.run(t, open) })
		}
	}
}

// mustOpen opens a backend and closes it when the test ends.
func MustOpen(t testing.TB, open Opener) device.Backend {
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
