package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/adagrad-go/adagrad/device"
)

// familyRow is one update rule's dense step over one float32 tensor,
// timed in rounds alternating with the plain Adagrad step's (device.Adagrad)
// on the same device and buffers, so that both see the same machine.
type familyRow struct {
	spec, name    string
	rule          device.Rule
	log2          int
	sec, plainSec float64
	states        int // per-element states the rule reads and writes
}

// bytesPerParam is what a float32 step moves per parameter: read param,
// grad and every state; write param and every state. AdagradDA's
// parameters are its closed form: written, never read.
func (r familyRow) bytesPerParam() int {
	if r.rule == device.AdagradDA {
		return 4 * (2 + 2*r.states)
	}
	return 4 * (3 + 2*r.states)
}
func (r familyRow) bps() float64      { return float64(r.bytesPerParam()<<r.log2) / r.sec }
func (r familyRow) plainBps() float64 { return float64(int(20)<<r.log2) / r.plainSec }

// familyCoef are the coefficients of the measured steps, by the name the
// rules give them (device.RuleSpec.Coefs): l1 > 0, so that the
// regularised rules take their longer branch.
var familyCoef = map[string]float64{"lr": 0.01, "eps": 1e-8, "weight_decay": 0, "sign": 1, "l1": 1e-4, "l2": 1e-4,
	"step": 10, "momentum": 0.9, "one_minus_momentum": 0.1}

// familyRules are the rules the device runs on float32 whose states are
// all per element and of the compute type, and whose coefficients
// familyCoef names: the per-element members (the variants table has the
// row-wise and 8-bit ones).
func familyRules(caps device.Capabilities) []device.Rule {
	var out []device.Rule
next:
	for _, r := range device.Rules() {
		spec, _ := r.Spec()
		if !caps.Supports(r, device.Float32, false) {
			continue
		}
		for _, s := range spec.State {
			if s.Per != device.PerElement || s.Buffer() != device.StateReal {
				continue next
			}
		}
		for _, c := range spec.Coefs {
			if _, ok := familyCoef[c.Name]; !ok {
				continue next
			}
		}
		out = append(out, r)
	}
	return out
}

// measureFamily times every rule of familyRules on 2^log2 float32
// parameters against the plain step.
func measureFamily(dev device.Backend, log2 int, budget time.Duration) ([]familyRow, error) {
	n := 1 << log2
	upd, ok := dev.(device.Updater)
	if !ok {
		return nil, fmt.Errorf("%v runs no update rules", dev)
	}
	// Parameters, gradients, and one state buffer of every state: state k
	// of a rule at k·n (device.StateReal holds them all).
	bufs := make([]device.Buffer, 3)
	defer func() {
		if f, ok := dev.(device.Freer); ok {
			for _, b := range bufs {
				if b != nil {
					f.Free(b)
				}
			}
		}
	}()
	for i, v := range []float32{0.5, 1e-3, 0.1} {
		size := n
		if i == 2 {
			size = device.MaxStates * n
		}
		b, err := dev.Alloc(device.Float32, size)
		if err != nil {
			return nil, err
		}
		bufs[i] = b
		if err := dev.Write(b, 0, filled(size, v)); err != nil {
			return nil, err
		}
	}
	step := func(r device.Rule) func() error {
		spec, _ := r.Spec()
		rng := device.Range{Len: n, Rule: r}
		for i, c := range spec.Coefs {
			rng.Coef[i] = familyCoef[c.Name]
		}
		for k := range spec.State {
			rng.StateOff[k] = k * n
		}
		u := device.Update{Param: bufs[0], Grad: bufs[1], Ranges: []device.Range{rng}}
		u.State[device.StateReal] = bufs[2]
		return func() error { return upd.Update(u) }
	}
	var rows []familyRow
	for _, r := range familyRules(dev.Capabilities()) {
		spec, _ := r.Spec()
		plainSec, sec, err := timeAlternating(dev, budget, step(device.Adagrad), step(r))
		if err != nil {
			return nil, fmt.Errorf("%v: %w", r, err)
		}
		rows = append(rows, familyRow{rule: r, log2: log2, sec: sec, plainSec: plainSec, states: len(spec.State)})
	}
	return rows, nil
}

func printFamily(out io.Writer, rows []familyRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(out)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "device\trule\tparams\tbytes/param\tstep ms\tGB/s\tadagrad ms\tadagrad GB/s\tof adagrad GB/s\tadagrad/step time\t")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%v\t2^%d\t%d\t%.3f\t%s\t%.3f\t%s\t%.2f\t%.2f\t\n", r.spec, r.rule, r.log2, r.bytesPerParam(),
			r.sec*1e3, gbps(r.bps()), r.plainSec*1e3, gbps(r.plainBps()), r.bps()/r.plainBps(), r.plainSec/r.sec)
	}
	w.Flush()
	fmt.Fprintln(out, "The Adagrad family's rules, one dense float32 step each, in rounds alternating with the plain Adagrad step (rule adagrad) on the same buffers: GB/s counts what each rule moves (read param, grad and its states; write param and its states: 20 bytes per parameter, 28 for adagrad-jax's two states, 24 for adagrad-da, which writes its parameters without reading them), so \"of adagrad GB/s\" compares bandwidth and \"adagrad/step time\" time.")
}
