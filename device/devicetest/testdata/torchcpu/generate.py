#!/usr/bin/python3
"""Seeded PyTorch CPU trajectories of torch.optim.Adagrad, for the fidelity
tests of device/devicetest (issue 12).

    /usr/bin/python3 generate.py [-seeds N] [-first S] [-small] OUTDIR

writes, for every seed, four cases (dense and sparse, float32 and float64)
into OUTDIR, in the layout of ../oracle (see README.md there and here);
-small makes smaller tensors and fewer steps (the committed cases). A
parameter whose gradient is None at a step (the tensor sits the step out,
its step count included) has {"none": true} in grads.
Needs PyTorch (Debian's python3-torch is enough) and NumPy, which it pulls
in; no GPU and no other package.

Every case holds PyTorch's CPU result as expected.cpu. A sparse case also
holds expected.emulated: PyTorch's CUDA sparse path computed with plain
elementwise NumPy operations, each rounded to the dtype (no fused
multiply-add), which is 0 ulp from PyTorch's CUDA result (measured on
PyTorch 2.11 and an H200; the script checks it against the sparse cases
of ../oracle before it writes anything):

  1. coalesce: a stable sort by index, then a left-to-right sum of the
     duplicate rows, each addition rounded;
  2. sum = sum + round(g*g);
  3. std = round(sqrt(sum)) + eps, rounded;
  4. p = p + round(-clr * round(g / std)).

The seed alone decides every number: the same seed gives the same files.
"""
import json
import os
import sys

import numpy as np
import torch

LRS = [0.001, 0.01, 0.05, 0.1, 0.5, 1.0]
EPSS = [1e-10, 1e-8, 1e-6, 1e-3, 0.0]
LR_DECAYS = [0.0, 0.0, 0.001, 0.01, 0.1, 1.0]
WEIGHT_DECAYS = [0.0, 0.0, 1e-4, 1e-2, 0.1, 0.5]
ACCUMULATORS = [0.0, 0.0, 0.1, 1.0, 3.0]
SMALL = False  # -small: tensors of at most 64 elements, at most 6 steps


def write(path, arr):
    np.ascontiguousarray(arr).tofile(path)


def hyper(rng, sparse):
    """Keyword arguments for torch.optim.Adagrad: every one PyTorch allows
    (no weight decay with sparse gradients); defaults left out."""
    h = {"lr": float(rng.choice(LRS)), "eps": float(rng.choice(EPSS))}
    if d := float(rng.choice(LR_DECAYS)):
        h["lr_decay"] = d
    if not sparse and (w := float(rng.choice(WEIGHT_DECAYS))):
        h["weight_decay"] = w
    iav = float(rng.choice(ACCUMULATORS))
    if h["eps"] == 0 and iav == 0:
        iav = 0.5  # eps 0 on an empty accumulator divides 0 by 0 at a zero gradient
    if iav:
        h["initial_accumulator_value"] = iav
    if rng.random() < 0.3:
        h["maximize"] = True
    return h


def dense_shapes(rng):
    n, side = (64, 8) if SMALL else (700, 24)
    shapes = [(int(rng.integers(1, n)),)]
    if rng.random() < 0.7:
        shapes.append((int(rng.integers(1, side)), int(rng.integers(1, side))))
    return shapes


def sparse_shapes(rng):
    """Tables rows × width; width 1 is a 1-D tensor."""
    shapes = []
    for _ in range(int(rng.integers(1, 3))):
        rows, width = int(rng.integers(1, 12 if SMALL else 80)), int(rng.choice([1, 2, 3, 4, 5, 8, 9, 16, 17]))
        shapes.append((rows,) if width == 1 else (rows, width))
    return shapes


def sparse_grad(rng, shape, npdt, scale):
    """Row indices with heavy duplication, in no order, and their values.
    (PyTorch 1.13 fails on a sparse gradient without rows, so there is
    always one.)"""
    rows = shape[0]
    pool = rng.choice(rows, size=max(1, rows // 4), replace=False)
    idx = rng.choice(pool, size=int(rng.integers(1, 3 * len(pool) + 2))).astype(np.int64)
    vals = (rng.standard_normal((len(idx),) + tuple(shape[1:])) * scale).astype(npdt)
    return idx, vals


def emulate_cuda_sparse(inits, grads, h, npdt):
    """PyTorch's CUDA sparse Adagrad step by step, every operation rounded
    to the dtype on its own (NumPy does not fuse)."""
    lr, eps = h.get("lr", 0.01), npdt(h.get("eps", 1e-10))
    decay = h.get("lr_decay", 0.0)
    ps = [x.copy().reshape(len(x), -1) if x.ndim else x.copy() for x in inits]
    sums = [np.full_like(p, h.get("initial_accumulator_value", 0.0)) for p in ps]
    steps = [0] * len(ps)
    for row in grads:
        for k, g in enumerate(row):
            if g is None:
                continue  # no gradient: PyTorch skips the tensor, its step included
            steps[k] += 1
            alpha = npdt(-(lr / (1 + (steps[k] - 1) * decay)))
            idx, vals = g
            p, s = ps[k], sums[k]
            vals = vals.reshape(len(idx), -1)
            if h.get("maximize"):
                vals = -vals
            order = np.argsort(idx, kind="stable")
            rows, coalesced = [], []
            for i in order:
                if rows and rows[-1] == idx[i]:
                    coalesced[-1] = coalesced[-1] + vals[i]
                else:
                    rows.append(idx[i])
                    coalesced.append(vals[i].copy())
            for r, g in zip(rows, coalesced):
                s[r] = s[r] + g * g
                std = np.sqrt(s[r]) + eps
                p[r] = p[r] + alpha * (g / std)
    return ps, sums


def run_case(outdir, name, seed, dtype, sparse):
    rng = np.random.default_rng(seed)
    npdt = np.float32 if dtype == "float32" else np.float64
    tdt = torch.float32 if dtype == "float32" else torch.float64
    h = hyper(rng, sparse)
    shapes = sparse_shapes(rng) if sparse else dense_shapes(rng)
    steps = int(rng.integers(2, 7 if SMALL else 13))
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    inits = [rng.standard_normal(s).astype(npdt) for s in shapes]
    grads = []
    for t in range(steps):
        scale = float(10.0 ** rng.uniform(-2, 2))
        row = []
        for s in shapes:
            if len(shapes) > 1 and rng.random() < 0.15:
                row.append(None)  # p.grad = None: the tensor sits this step out
            elif sparse:
                row.append(sparse_grad(rng, s, npdt, scale))
            else:
                row.append((rng.standard_normal(s) * scale).astype(npdt))
        grads.append(row)
    man = {"name": name, "dtype": dtype, "hyper": h, "steps": steps, "sparse": sparse, "seed": seed,
           "torch": torch.__version__, "device": "cpu", "params": [], "grads": [], "expected": {}}
    for k, (s, x) in enumerate(zip(shapes, inits)):
        f = f"p{k}_init.bin"
        write(os.path.join(d, f), x)
        man["params"].append({"shape": list(s), "init": f})
    for t, row in enumerate(grads):
        entry = []
        for k, g in enumerate(row):
            if g is None:
                entry.append({"none": True})
            elif sparse:
                fi, fv = f"g{t}_p{k}_indices.bin", f"g{t}_p{k}_values.bin"
                write(os.path.join(d, fi), g[0])
                write(os.path.join(d, fv), g[1])
                entry.append({"indices": fi, "values": fv, "nnz_rows": int(len(g[0]))})
            else:
                f = f"g{t}_p{k}.bin"
                write(os.path.join(d, f), g)
                entry.append({"dense": f})
        man["grads"].append(entry)

    ps = [torch.tensor(x, dtype=tdt, requires_grad=True) for x in inits]
    opt = torch.optim.Adagrad(ps, **h)
    for row in grads:
        for p, g in zip(ps, row):
            if g is None:
                p.grad = None
            elif sparse:
                idx = torch.from_numpy(g[0]).unsqueeze(0)
                p.grad = torch.sparse_coo_tensor(idx, torch.from_numpy(g[1]), size=p.shape)
            else:
                p.grad = torch.from_numpy(g)
        opt.step()
    results = {"cpu": ([p.detach().numpy() for p in ps], [opt.state[p]["sum"].numpy() for p in ps])}
    if sparse:
        results["emulated"] = emulate_cuda_sparse(inits, grads, h, npdt)
    for dev, (params, sums) in results.items():
        outs = []
        for k in range(len(shapes)):
            fp, fs = f"expected_{dev}_p{k}.bin", f"expected_{dev}_sum{k}.bin"
            write(os.path.join(d, fp), params[k])
            write(os.path.join(d, fs), sums[k])
            outs.append({"param": fp, "sum": fs})
        man["expected"][dev] = outs
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(man, f, indent=1)


def verify_emulation(oracle):
    """Holds emulate_cuda_sparse to PyTorch's CUDA results on the sparse
    cases of ../oracle (made on an H200): it must give them bitwise."""
    checked = 0
    for name in sorted(os.listdir(oracle)):
        path = os.path.join(oracle, name, "case.json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            m = json.load(f)
        if not m["sparse"] or "cuda" not in m["expected"]:
            continue
        npdt = np.float32 if m["dtype"] == "float32" else np.float64
        d = os.path.join(oracle, name)
        inits = [np.fromfile(os.path.join(d, p["init"]), dtype=npdt).reshape(p["shape"]) for p in m["params"]]
        grads = []
        for row in m["grads"]:
            r = []
            for k, g in enumerate(row):
                idx = np.fromfile(os.path.join(d, g["indices"]), dtype=np.int64)
                vals = np.fromfile(os.path.join(d, g["values"]), dtype=npdt)
                r.append((idx, vals.reshape((len(idx),) + tuple(m["params"][k]["shape"][1:]))))
            grads.append(r)
        ps, sums = emulate_cuda_sparse(inits, grads, m["hyper"], npdt)
        for k, want in enumerate(m["expected"]["cuda"]):
            for got, f in ((ps[k], want["param"]), (sums[k], want["sum"])):
                ref = np.fromfile(os.path.join(d, f), dtype=npdt)
                if got.reshape(-1).tobytes() != ref.tobytes():
                    sys.exit(f"the CUDA sparse emulation is not bitwise PyTorch's CUDA result in {name} ({f})")
        checked += 1
    if checked == 0:
        sys.exit(f"no sparse case with a CUDA result in {oracle} to verify the emulation against")
    print(f"CUDA sparse emulation: bitwise PyTorch's CUDA result on {checked} stored cases")


def main(argv):
    global SMALL
    seeds, first, out = 8, 1, None
    args = iter(argv)
    for a in args:
        if a == "-seeds":
            seeds = int(next(args))
        elif a == "-first":
            first = int(next(args))
        elif a == "-small":
            SMALL = True
        else:
            out = a
    if out is None:
        sys.exit(__doc__)
    verify_emulation(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
    torch.set_num_threads(1)  # the same bits on any machine, and no contention
    for seed in range(first, first + seeds):
        for sparse in (False, True):
            for dtype in ("float32", "float64"):
                kind = "sparse" if sparse else "dense"
                name = f"{kind}_{dtype[-2:]}_s{seed}"
                run_case(out, name, seed * 4 + 2 * sparse + (dtype == "float64"), dtype, sparse)
    print(f"{4 * seeds} cases in {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
