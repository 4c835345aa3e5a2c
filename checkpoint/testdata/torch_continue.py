"""Test driver for checkpoint's PyTorch tests (run by torch_test.go with
Debian's torch): continues a checkpoint in PyTorch and writes the result.

    torch_continue.py IN GRADS OUT [--single-group]
    torch_continue.py --make OUT DTYPE STEPS SEED

The first form loads IN as the README shows (--single-group: with
torch.optim.Adagrad(params, **hyperparameters), as a user with one set of
hyperparameters writes it; otherwise with one group per saved group), runs
one step per step of GRADS (grad.<step>.<i>: the gradient of parameter i;
a parameter without one gets none, and PyTorch skips it), and writes the
optimizer with save_adagrad. The second makes a model of three tensors in
two param groups, trains it STEPS steps on random gradients and writes it.
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "torch"))

import torch  # noqa: E402

from adagrad_safetensors import (HYPERPARAMETERS, load_adagrad, read_safetensors,  # noqa: E402
                                 save_adagrad)


def load_single_group(path):
    t, meta = read_safetensors(path)
    names = json.loads(meta["names"])
    groups = json.loads(meta["param_groups"])
    assert len(groups) == 1, "%d param groups" % len(groups)
    hyper = {k: groups[0][k] for k in HYPERPARAMETERS}
    params = [torch.nn.Parameter(t[n]) for n in names]
    opt = torch.optim.Adagrad(params, **hyper)
    opt.load_state_dict({
        "state": {i: {"sum": t["state.%d.sum" % i], "step": t["state.%d.step" % i]} for i in range(len(names))},
        "param_groups": groups,
    })
    return params, opt, names


def run(params, opt, grads, steps):
    for s in range(steps):
        for i, p in enumerate(params):
            g = grads.get("grad.%d.%d" % (s, i))
            p.grad = None if g is None else g.reshape(p.shape).clone()
        opt.step()


def main(argv):
    if argv[0] == "--make":
        out, dtype, steps, seed = argv[1], getattr(torch, argv[2]), int(argv[3]), int(argv[4])
        gen = torch.Generator().manual_seed(seed)
        shapes = {"embed.weight": (5, 3), "fc.weight": (4,), "fc.bias": (1,)}
        params = {n: torch.nn.Parameter(torch.randn(s, generator=gen, dtype=dtype)) for n, s in shapes.items()}
        opt = torch.optim.Adagrad([
            {"params": [params["embed.weight"], params["fc.bias"]]},
            {"params": [params["fc.weight"]], "lr": 0.3, "weight_decay": 0.01, "maximize": True},
        ], lr=0.05, lr_decay=0.02, initial_accumulator_value=0.1, eps=1e-10)
        for s in range(steps):
            for n, p in params.items():
                p.grad = None if (s == 1 and n == "fc.bias") else torch.randn(p.shape, generator=gen, dtype=dtype)
            opt.step()
        save_adagrad(out, opt, params)
        return
    src, grads_path, out = argv[0], argv[1], argv[2]
    grads, meta = read_safetensors(grads_path)
    if "--single-group" in argv[3:]:
        params, opt, names = load_single_group(src)
    else:
        params, opt = load_adagrad(src)
        names = json.loads(read_safetensors(src)[1]["names"])
    run(params, opt, grads, int(meta["steps"]))
    save_adagrad(out, opt, names)


if __name__ == "__main__":
    main(sys.argv[1:])
