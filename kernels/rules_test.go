package kernels_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/kernels"
)

// TestEveryRuleDispatched: both kernel sources define a RULE_ name for
// every rule of package device, with its number, and dispatch on it (a
// case of a switch, or a comparison); and define no number that is not a
// rule.
func TestEveryRuleDispatched(t *testing.T) {
	define := regexp.MustCompile(`(?m)^#define (RULE_\w+) (\d+)$`)
	for name, src := range map[string]string{"adagrad.cu": kernels.CUDA, "adagrad.cl": kernels.OpenCL} {
		names := map[string]string{}
		for _, m := range define.FindAllStringSubmatch(src, -1) {
			names[m[2]] = m[1]
		}
		for _, r := range device.Rules() {
			id, ok := names[fmt.Sprint(int(r))]
			if !ok {
				t.Errorf("%s defines no RULE_ for %v (%d)", name, r, int(r))
				continue
			}
			if !strings.Contains(src, "case "+id+":") && !strings.Contains(src, "== "+id) {
				t.Errorf("%s never dispatches on %s (%v)", name, id, r)
			}
			delete(names, fmt.Sprint(int(r)))
		}
		for n, id := range names {
			t.Errorf("%s defines %s %s, which is no rule of package device", name, id, n)
		}
	}
}
