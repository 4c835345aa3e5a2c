"""torch.optim.Adagrad's step on one device, for examples/bench.

Usage: python3 torch_bench.py DEVICE CASE [CASE ...], a CASE being
  LOG2                        one tensor of 2^LOG2 parameters
  many:TENSORS:LOG2           TENSORS tensors of 2^LOG2 parameters in all
  sparse:ROWS:WIDTH:TOUCHED   a sparse trainer step from the host
  latency:N                   a dense step of N parameters from the host, waited for
  h2d:BYTES                   a copy of BYTES from pinned host memory to the device (CUDA)
Prints one line per case: "single LOG2 SECONDS", "many TENSORS LOG2 SECONDS",
or "trainer CASE SECONDS": the mean time of one step. Single and many steps
are the default (foreach on CUDA) step with gradients already on the device.
The trainer cases do what examples/bench's optimizer does: a sparse step
gathers the touched rows to the host (index_select, then .cpu(), which
waits), sends their gradient rows from pinned host memory as a sparse
gradient, and steps; a latency step copies a pinned gradient to the
device, steps and synchronises.
"""
import sys
import time

import torch


def timed(dev, fn, iters):
    fn()
    sync(dev)
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    sync(dev)
    return (time.perf_counter() - start) / iters


def sync(dev):
    if dev.startswith("cuda"):
        torch.cuda.synchronize(dev)


def pinned(t, dev):
    return t.pin_memory() if dev.startswith("cuda") else t


def adagrad_step(dev, sizes):
    params = []
    for n in sizes:
        p = torch.zeros(n, device=dev, requires_grad=True)
        p.grad = torch.ones(n, device=dev)
        params.append(p)
    opt = torch.optim.Adagrad(params, lr=0.01, eps=1e-8)
    total = sum(sizes)
    return timed(dev, opt.step, max(3, min(100, (1 << 28) // total)))


def sparse_step(dev, rows, width, touched):
    w = torch.zeros(rows, width, device=dev, requires_grad=True)
    opt = torch.optim.Adagrad([w], lr=0.1, eps=1e-10)
    gen = torch.Generator().manual_seed(1)
    sets = [pinned(torch.randperm(rows, generator=gen)[:touched].sort().values, dev) for _ in range(16)]
    grads = pinned(torch.randn(touched, width, generator=gen) * 1e-2, dev)
    state = {"i": 0}

    def step():
        idx = sets[state["i"] % len(sets)].to(dev, non_blocking=True)
        state["i"] += 1
        w.detach().index_select(0, idx).cpu()  # the host reads the rows: waits
        g = grads.to(dev, non_blocking=True)
        w.grad = torch.sparse_coo_tensor(idx.unsqueeze(0), g, size=(rows, width))
        opt.step()

    return timed(dev, step, max(5, min(200, (1 << 26) // (touched * width))))


def latency_step(dev, n):
    p = torch.zeros(n, device=dev, requires_grad=True)
    opt = torch.optim.Adagrad([p], lr=0.01)
    g = pinned(torch.full((n,), 1e-3), dev)

    def step():
        p.grad = g.to(dev, non_blocking=True)
        opt.step()
        sync(dev)

    return timed(dev, step, 200)


def h2d(dev, nbytes):
    host = torch.empty(nbytes, dtype=torch.uint8).fill_(1).pin_memory()
    dst = torch.empty(nbytes, dtype=torch.uint8, device=dev)
    return timed(dev, lambda: dst.copy_(host, non_blocking=True), max(5, min(100, (1 << 30) // nbytes)))


def main():
    dev = sys.argv[1]
    for arg in sys.argv[2:]:
        if arg.startswith("many:"):
            _, tensors, log2 = arg.split(":")
            tensors, n = int(tensors), 1 << int(log2)
            sizes = [n // tensors + (1 if i < n % tensors else 0) for i in range(tensors)]
            print(f"many {tensors} {log2} {adagrad_step(dev, sizes)}", flush=True)
        elif arg.startswith("sparse:"):
            _, rows, width, touched = arg.split(":")
            print(f"trainer {arg} {sparse_step(dev, int(rows), int(width), int(touched))}", flush=True)
        elif arg.startswith("h2d:"):
            if dev.startswith("cuda"):
                print(f"trainer {arg} {h2d(dev, int(arg.split(':')[1]))}", flush=True)
        elif arg.startswith("latency:"):
            print(f"trainer {arg} {latency_step(dev, int(arg.split(':')[1]))}", flush=True)
        else:
            print(f"single {arg} {adagrad_step(dev, [1 << int(arg)])}", flush=True)


if __name__ == "__main__":
    main()
