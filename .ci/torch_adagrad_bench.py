"""PyTorch's own Adagrad step on the same GPU, for comparison with
`go test -bench` of the cuda backend (run by the GPU bundle's run.sh).

Prints, per size, the device-to-device copy bandwidth (read n + write n
elements) and torch.optim.Adagrad's step (default: foreach on CUDA) at 20
bytes per float32 parameter, both measured here in the same run.
"""
import sys

import torch


def timed(fn, iters):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    fn()
    torch.cuda.synchronize()
    start.record()
    for _ in range(iters):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1e3 / iters


def main():
    if not torch.cuda.is_available():
        print("torch: no CUDA device")
        return
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}")
    print(f"{'n':>12} {'copy GB/s':>10} {'step ms':>9} {'step GB/s':>10} {'of-copy':>8}")
    logs = [int(a) for a in sys.argv[1:]] or [20, 24, 28]
    for log2 in logs:
        n = 1 << log2
        p = torch.zeros(n, device="cuda", requires_grad=True)
        p.grad = torch.ones(n, device="cuda")
        opt = torch.optim.Adagrad([p], lr=0.01, eps=1e-8)
        dst = torch.empty_like(p.grad)
        iters = max(5, min(200, (1 << 30) // n))
        copy_s = timed(lambda: dst.copy_(p.grad), iters)
        step_s = timed(opt.step, iters)
        copy_bw, step_bw = 8 * n / copy_s / 1e9, 20 * n / step_s / 1e9
        print(f"{n:>12} {copy_bw:>10.0f} {step_s * 1e3:>9.3f} {step_bw:>10.0f} {step_bw / copy_bw:>8.2f}")
        del p, opt, dst
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
