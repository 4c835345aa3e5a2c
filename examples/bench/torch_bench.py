"""torch.optim.Adagrad's step on one device, for examples/bench.

Usage: python3 torch_bench.py DEVICE LOG2 [LOG2 ...] [many:TENSORS:LOG2]
Prints one line per case: "single LOG2 SECONDS" or "many TENSORS LOG2 SECONDS",
the mean time of one default (foreach on CUDA) step, gradients already on
the device.
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


def adagrad_step(dev, sizes):
    params = []
    for n in sizes:
        p = torch.zeros(n, device=dev, requires_grad=True)
        p.grad = torch.ones(n, device=dev)
        params.append(p)
    opt = torch.optim.Adagrad(params, lr=0.01, eps=1e-8)
    total = sum(sizes)
    return timed(dev, opt.step, max(3, min(100, (1 << 28) // total)))


def main():
    dev = sys.argv[1]
    for arg in sys.argv[2:]:
        if arg.startswith("many:"):
            _, tensors, log2 = arg.split(":")
            tensors, n = int(tensors), 1 << int(log2)
            sizes = [n // tensors + (1 if i < n % tensors else 0) for i in range(tensors)]
            print(f"many {tensors} {log2} {adagrad_step(dev, sizes)}", flush=True)
        else:
            print(f"single {arg} {adagrad_step(dev, [1 << int(arg)])}", flush=True)


if __name__ == "__main__":
    main()
