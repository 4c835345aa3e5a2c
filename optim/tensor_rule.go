package optim

import (
	"fmt"

	"github.com/adagrad-go/adagrad/device"
)

// setHyper gives t hyperparameters h, checked in t's dtype, and the rule
// they name.
func (t *tensor) setHyper(h Hyper) error {
	if err := h.validateIn(t.dt); err != nil {
		return err
	}
	rule, spec, def, err := h.rule()
	if err != nil {
		return err
	}
	if t.rule != 0 && rule != t.rule {
		// The state buffers are laid out for the rule given to New.
		return fmt.Errorf("%w: tensor %q runs %v; its rule cannot change to %v", device.ErrRule, t.name, t.rule, rule)
	}
	t.hyper, t.rule, t.spec, t.def = h, rule, spec, def
	return nil
}

// stateLen is the length of t's state k: per element or per row.
func (t *tensor) stateLen(k int) int {
	if t.spec.State[k].Per == device.PerRow {
		rows, _ := t.rows()
		return rows
	}
	return t.n
}

// nextRange is t's whole range at its next step: rule, coefficients and
// placement in the arena's buffers.
func (t *tensor) nextRange() device.Range {
	r := device.Range{Off: t.off, Len: t.n, Rule: t.rule, Coef: t.def.coefs(t.hyper, t.step+1), StateOff: t.stateOff}
	for _, s := range t.spec.State {
		if s.Per == device.PerRow {
			_, r.Width = t.rows()
		}
	}
	return r
}
