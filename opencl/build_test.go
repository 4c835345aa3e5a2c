//go:build opencl

package opencl

import (
	"strings"
	"testing"
)

// TestBuildLog checks that a kernel that does not compile is reported with
// the compiler's own words.
func TestBuildLog(t *testing.T) {
	infos, err := listDevices()
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) == 0 {
		t.Skip("no OpenCL device")
	}
	b, err := Open(infos[0].platform, infos[0].device)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = b.buildSource("kernel void update(global float *p) { p[0] = undefined_name; }", "a test", "", false)
	if err == nil {
		t.Fatal("a broken kernel built")
	}
	if msg := err.Error(); !strings.Contains(msg, "undefined_name") || !strings.Contains(msg, "kernels/adagrad.cl") {
		t.Errorf("build error does not show the log: %v", err)
	}
}
