package device

import (
	"errors"
	"testing"
)

// TestCheckCopyNil: a Write or Read of no buffer is an error, not a panic,
// on every backend (they all check with CheckCopy).
func TestCheckCopyNil(t *testing.T) {
	if _, err := CheckCopy(nil, 0, []float32{1}); !errors.Is(err, ErrForeignBuffer) {
		t.Errorf("CheckCopy(nil): err = %v, want ErrForeignBuffer", err)
	}
}
