package checkpoint

import (
	"fmt"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// torchGroup is one of PyTorch's Adagrad param_groups, as
// torch.optim.Adagrad.state_dict() holds it.
type torchGroup struct {
	LR                      float64 `json:"lr"`
	LRDecay                 float64 `json:"lr_decay"`
	WeightDecay             float64 `json:"weight_decay"`
	InitialAccumulatorValue float64 `json:"initial_accumulator_value"`
	Eps                     float64 `json:"eps"`
	Maximize                bool    `json:"maximize"`
	Foreach                 *bool   `json:"foreach"`
	Differentiable          bool    `json:"differentiable"`
	Fused                   *bool   `json:"fused"`
	Params                  []int   `json:"params"`
	// Not PyTorch's: this library's own per-tensor options, left out when
	// they are the defaults so that PyTorch's files need no key of ours.
	SkipNonFinite bool   `json:"adagrad_go_skip_non_finite,omitempty"`
	Rule          string `json:"adagrad_go_rule,omitempty"` // "" for Adagrad
	// The hyperparameters of the family's other rules (optim.Hyper's L1,
	// L2, Momentum, DecoupledWeightDecay and Seed; the seed as a decimal
	// string, exact in any JSON reader), left out when 0.
	L1                   float64 `json:"adagrad_go_l1,omitempty"`
	L2                   float64 `json:"adagrad_go_l2,omitempty"`
	Momentum             float64 `json:"adagrad_go_momentum,omitempty"`
	DecoupledWeightDecay bool    `json:"adagrad_go_decoupled_weight_decay,omitempty"`
	Seed                 uint64  `json:"adagrad_go_seed,omitempty,string"`
}

// normalRule returns h with its rule made explicit (the zero Rule is
// Adagrad), so that equal hyperparameters compare equal.
func normalRule(h optim.Hyper) optim.Hyper {
	if h.Rule == 0 {
		h.Rule = device.Adagrad
	}
	return h
}

// paramGroups returns PyTorch's param groups of tensors with these
// hyperparameters: one group per distinct set, in the order of their first
// tensor, each listing its tensors in order. A model trained with one set
// for every tensor has one group, as torch.optim.Adagrad(params, ...) makes.
func paramGroups(hypers []optim.Hyper) []torchGroup {
	var groups []torchGroup
	index := map[optim.Hyper]int{}
	for i, h := range hypers {
		h = normalRule(h)
		g, ok := index[h]
		if !ok {
			g = len(groups)
			index[h] = g
			rule := ""
			if h.Rule != device.Adagrad {
				rule = h.Rule.String()
			}
			groups = append(groups, torchGroup{LR: h.LR, LRDecay: h.LRDecay, WeightDecay: h.WeightDecay,
				InitialAccumulatorValue: h.InitialAccumulatorValue, Eps: h.Eps, Maximize: h.Maximize,
				SkipNonFinite: h.SkipNonFinite, Rule: rule, L1: h.L1, L2: h.L2, Momentum: h.Momentum,
				DecoupledWeightDecay: h.DecoupledWeightDecay, Seed: h.Seed})
		}
		groups[g].Params = append(groups[g].Params, i)
	}
	return groups
}

// hyper returns the group's hyperparameters, checked.
func (g torchGroup) hyper() (optim.Hyper, error) {
	rule := device.Adagrad
	if g.Rule != "" {
		r, ok := device.RuleNamed(g.Rule)
		if !ok {
			return optim.Hyper{}, fmt.Errorf("unknown update rule %q", g.Rule)
		}
		rule = r
	}
	h := optim.Hyper{LR: g.LR, Eps: g.Eps, LRDecay: g.LRDecay, WeightDecay: g.WeightDecay,
		InitialAccumulatorValue: g.InitialAccumulatorValue, Maximize: g.Maximize,
		SkipNonFinite: g.SkipNonFinite, Rule: rule, L1: g.L1, L2: g.L2, Momentum: g.Momentum,
		DecoupledWeightDecay: g.DecoupledWeightDecay, Seed: g.Seed}
	if err := h.Validate(); err != nil {
		return optim.Hyper{}, err
	}
	return h, nil
}

// groupHypers returns the hyperparameters of each of n parameters: every
// parameter must be in exactly one group.
func groupHypers(groups []torchGroup, n int) ([]optim.Hyper, error) {
	hypers := make([]optim.Hyper, n)
	seen := make([]bool, n)
	for gi, g := range groups {
		h, err := g.hyper()
		if err != nil {
			return nil, fmt.Errorf("param group %d: %w", gi, err)
		}
		for _, i := range g.Params {
			if i < 0 || i >= n {
				return nil, fmt.Errorf("param group %d names parameter %d of %d", gi, i, n)
			}
			if seen[i] {
				return nil, fmt.Errorf("parameter %d is in two param groups", i)
			}
			seen[i], hypers[i] = true, h
		}
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("parameter %d is in no param group", i)
		}
	}
	return hypers, nil
}
