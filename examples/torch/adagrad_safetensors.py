"""Adagrad checkpoints between PyTorch and adagrad-go, in pure Python.

A checkpoint is a safetensors file (an 8-byte little-endian header length,
a JSON header, then the raw little-endian tensors) in the layout of
torch.optim.Adagrad's state_dict:

    <name>          each parameter, under its name
    state.<i>.sum   the accumulator of parameter i (state_dict()["state"][i]["sum"])
    state.<i>.step  its step, a float32 scalar

with "param_groups" (state_dict()["param_groups"]) and "names" (the name of
parameter i at index i) as JSON in the header's __metadata__. adagrad-go's
checkpoint.Save writes such files (with a checksum and a few keys of its
own besides), and checkpoint.ImportTorch reads the ones save_adagrad writes.

The safetensors package reads and writes these files too; this module needs
only torch (and numpy, which torch brings), for machines where the
safetensors package is not installed.

    from adagrad_safetensors import save_adagrad, load_adagrad
    save_adagrad("torch.safetensors", opt, dict(model.named_parameters()))
    params, opt = load_adagrad("run.safetensors")   # written by adagrad-go
"""

import json
import struct

import torch

_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
_NAMES = {v: k for k, v in _DTYPES.items()}


def read_safetensors(path):
    """Returns (tensors, metadata) of a safetensors file: a dict of name to
    CPU tensor, and the __metadata__ dict of strings ({} when there is none).
    Assumes a little-endian host, as torch.frombuffer reads native order."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, e in header.items():
        lo, hi = e["data_offsets"]
        dtype = _DTYPES[e["dtype"]]
        if hi > lo:
            t = torch.frombuffer(bytearray(data[lo:hi]), dtype=dtype)
        else:
            t = torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(e["shape"])
    return tensors, meta


def write_safetensors(path, tensors, metadata=None):
    """Writes a dict of name to tensor (and a dict of string metadata) as a
    safetensors file, tensors in the order given, data 8-byte aligned."""
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        # The bytes as they lie in memory: little-endian on the hosts
        # torch runs on (any dtype, bfloat16 included).
        b = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = metadata
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * (-(8 + len(js)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for b in chunks:
            f.write(b)


def _json_value(v):
    """Param-group values as JSON: tensors (a learning rate may be one) as
    numbers, anything else JSON cannot hold as None."""
    if isinstance(v, torch.Tensor):
        return v.item()
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    return None


def save_adagrad(path, optimizer, names=None):
    """Writes any torch.optim.Adagrad and its parameters as a checkpoint that
    adagrad-go's checkpoint.ImportTorch reads. names names the parameters:
    a list (in the order of the optimizer's param groups), a dict of name to
    parameter (dict(model.named_parameters())), or None for param.0,
    param.1, ...; names must not start with "state." or "__"."""
    sd = optimizer.state_dict()
    params = [p for g in optimizer.param_groups for p in g["params"]]
    if names is None:
        names = ["param.%d" % i for i in range(len(params))]
    elif isinstance(names, dict):
        by_id = {id(p): n for n, p in names.items()}
        names = [by_id[id(p)] for p in params]
    names = list(names)
    if len(names) != len(params):
        raise ValueError("%d names for %d parameters" % (len(names), len(params)))
    tensors = {}
    for i, (name, p) in enumerate(zip(names, params)):
        tensors[name] = p
        state = sd["state"].get(i, {})
        if "sum" not in state:
            raise ValueError("parameter %d (%s) has no Adagrad state" % (i, name))
        tensors["state.%d.sum" % i] = state["sum"]
        step = state.get("step", 0)
        tensors["state.%d.step" % i] = torch.as_tensor(float(step), dtype=torch.float32)
    groups = [{k: _json_value(v) for k, v in g.items()} for g in sd["param_groups"]]
    write_safetensors(path, tensors, {"param_groups": json.dumps(groups), "names": json.dumps(names)})


# The hyperparameters of a param group that torch.optim.Adagrad takes.
HYPERPARAMETERS = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps", "maximize")


def load_adagrad(path):
    """Reads a checkpoint (adagrad-go's, or save_adagrad's) and returns the
    parameters (in order) and a torch.optim.Adagrad over them with the saved
    state and param groups: the README's snippet."""
    t, meta = read_safetensors(path)
    names = json.loads(meta["names"])
    groups = json.loads(meta["param_groups"])
    params = [torch.nn.Parameter(t[n]) for n in names]
    opt = torch.optim.Adagrad([{"params": [params[i] for i in g["params"]]} for g in groups])
    opt.load_state_dict({
        "state": {i: {"sum": t["state.%d.sum" % i], "step": t["state.%d.step" % i]} for i in range(len(names))},
        "param_groups": groups,
    })
    return params, opt
