package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
)

// float32Only is the CPU backend refusing float64, as many OpenCL devices
// do.
type float32Only struct{ *cpu.Backend }

func (b float32Only) Alloc(dt device.DType, n int) (device.Buffer, error) {
	if dt != device.Float32 {
		return nil, device.ErrDType
	}
	return b.Backend.Alloc(dt, n)
}

// TestLossFalls: on a device without float64, the loss falls a
// hundredfold in 300 steps.
func TestLossFalls(t *testing.T) {
	dev := float32Only{cpu.New()}
	defer dev.Close()
	first, last, err := fit(dev, 300, 0.5, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !(last < first/100) {
		t.Errorf("loss went from %v to %v; want it to fall a hundredfold", first, last)
	}
}

func TestFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-steps", "-1"}, "-steps -1: want 1 to"},
		{[]string{"-steps", "0"}, "-steps 0"},
		{[]string{"-lr", "0"}, "-lr 0"},
		{[]string{"-lr", "-Inf"}, "-lr -Inf"},
		{[]string{"-device", "tpu"}, `unknown backend "tpu"`},
		{[]string{"now"}, `unexpected argument "now"`},
	} {
		var stdout, stderr bytes.Buffer
		code := command(c.args, &stdout, &stderr)
		if msg := stderr.String(); code != 2 || !strings.HasPrefix(msg, "quickstart: ") || !strings.Contains(msg, c.want) ||
			strings.Count(msg, "\n") != 1 || stdout.Len() != 0 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and one line with %q", c.args, code, msg, c.want)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := command([]string{"-h"}, &stdout, &stderr); code != 0 ||
		!strings.HasPrefix(stderr.String(), "quickstart: a least-squares fit with Adagrad on a device") {
		t.Errorf("-h: exit %d\n%s", code, stderr.String())
	}
	stdout.Reset()
	if code := command([]string{"-device", "cpu", "-steps", "20"}, &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), "in float32 on cpu") || !strings.Contains(stdout.String(), "It fell from") {
		t.Errorf("a run: exit %d\n%s", code, stdout.String())
	}
}
