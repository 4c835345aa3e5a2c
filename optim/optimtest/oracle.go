package optimtest

import (
	"fmt"
	"testing"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/device/devicetest"
	"github.com/adagrad-go/adagrad/optim"
)

// testOracle replays every PyTorch trajectory (devicetest.TorchCases)
// through the optimizer, as a PyTorch user's loop would: SetGrad, or
// SetSparseGrad with PyTorch's raw indices (duplicates, in no order), no
// gradient for a tensor that sits a step out, Step. The final values are
// held to PyTorch by TorchCase.Check, and bitwise to the references.
func testOracle(t *testing.T, open devicetest.Opener) {
	cases, err := devicetest.TorchCases()
	if err != nil {
		t.Fatal(err)
	}
	dev := devicetest.MustOpen(t, open)
	figures := devicetest.TorchFigures{}
	for _, c := range cases {
		t.Run(c.Set+"/"+c.Name, func(t *testing.T) {
			if !dev.Capabilities().Supports(device.Adagrad, c.DType, c.Sparse) {
				t.Skipf("%v does not run %v on %v (sparse %v)", dev, device.Adagrad, c.DType, c.Sparse)
			}
			got := holdTo(t, dev, func(dev device.Backend) (*result, error) { return runTorchCase(dev, c) },
				func() (*result, error) { return referenceTorchCase(c) })
			fits := make([]devicetest.TorchFit, len(c.Params))
			for k := range c.Params {
				fits[k] = c.Check(t, k, got.param[k], got.states[k][0])
			}
			figures.Add(c, fits...)
		})
	}
	figures.Log(t)
}

func torchHyper(c *devicetest.TorchCase) optim.Hyper {
	h := c.Hyper
	return optim.Hyper{LR: h.LR, Eps: h.Eps, LRDecay: h.LRDecay, WeightDecay: h.WeightDecay,
		InitialAccumulatorValue: h.InitialAccumulatorValue, Maximize: h.Maximize, Rule: device.Adagrad}
}

func runTorchCase(dev device.Backend, c *devicetest.TorchCase) (_ *result, err error) {
	params := make([]optim.Param, len(c.Params))
	for k, p := range c.Params {
		params[k] = optim.Param{Name: fmt.Sprintf("p%d", k), Init: typed(c.DType, p.Init), Shape: p.Shape}
	}
	opt, err := optim.New(dev, params, optim.WithHyper(torchHyper(c)))
	if err != nil {
		return nil, err
	}
	defer closeInto(&err, opt)
	for s, row := range c.Grads {
		for k, g := range row {
			switch {
			case g.None:
			case c.Sparse:
				err = opt.SetSparseGrad(params[k].Name, g.Indices, typed(c.DType, g.Values))
			default:
				err = opt.SetGrad(params[k].Name, typed(c.DType, g.Dense))
			}
			if err != nil {
				return nil, fmt.Errorf("step %d p%d: %w", s, k, err)
			}
		}
		if err := opt.Step(); err != nil {
			return nil, fmt.Errorf("step %d: %w", s, err)
		}
	}
	return readResult(opt)
}

func referenceTorchCase(c *devicetest.TorchCase) (*result, error) {
	refs := make([]*refTensor, len(c.Params))
	names := make([]string, len(c.Params))
	for k, p := range c.Params {
		refs[k], names[k] = newRefTensor(c.DType, p.Init, p.Shape, torchHyper(c)), fmt.Sprintf("p%d", k)
	}
	for _, row := range c.Grads {
		for k, g := range row {
			var err error
			switch {
			case g.None:
			case c.Sparse:
				err = refs[k].sparse(g.Indices, g.Values)
			default:
				err = refs[k].dense(g.Dense)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return referenceResult(names, refs), nil
}
