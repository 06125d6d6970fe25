"""Independent PyTorch checkpoint reference for the serialization tests.

  make <dir>               write checkpoints with torch.save (zip and legacy formats, pickle protocols 2 and 4), an
                           old-style (PyTorch 0.3) legacy file, malicious pickles, and expected.json with the values
  big <dir> <megabytes>    write one large float32 tensor in both formats, and its sum
  pickles <dir>            write plain Python values with pickle protocols 0 to 5, and a canonical rendering of each
  validation               print what nn.Module.load_state_dict reports for a state_dict with missing, unexpected
                           and mis-shaped keys
"""
import collections
import json
import os
import pickle
import struct
import sys

import torch
import torch.nn as nn


def values(t):
    return {"dtype": str(t.dtype), "shape": list(t.shape), "contiguous": t.is_contiguous(),
            "requires_grad": t.requires_grad, "values": t.detach().flatten().tolist()}


def state_dict():
    torch.manual_seed(7)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(5, 2))
    with torch.no_grad():
        model[1].running_mean.uniform_(-1, 1)
        model[1].running_var.uniform_(0.5, 2)
        model[1].num_batches_tracked.fill_(7)
    sd = model.state_dict()
    sd["extra.f64"] = torch.randn(3, dtype=torch.float64)
    sd["extra.i64"] = torch.tensor([-(2 ** 63), 2 ** 63 - 1, 0, 5])
    sd["extra.f16"] = (torch.randn(2, 3) * 10).half()
    sd["extra.bf16"] = torch.randn(4).bfloat16()
    sd["extra.bool"] = torch.tensor([True, False, True])
    sd["extra.i32"] = torch.tensor([-(2 ** 31), 2 ** 31 - 1], dtype=torch.int32)
    sd["extra.i16"] = torch.tensor([-32768, 32767], dtype=torch.int16)
    sd["extra.i8"] = torch.tensor([-128, 127], dtype=torch.int8)
    sd["extra.u8"] = torch.tensor([0, 255], dtype=torch.uint8)
    sd["extra.scalar"] = torch.tensor(3.5)
    sd["extra.empty"] = torch.zeros(0, 3)
    sd["extra.transposed"] = torch.arange(12.0).reshape(3, 4).t()
    sd["extra.strided"] = torch.randn(4, 6)[::2, 1::2]
    sd["extra.expanded"] = torch.tensor([1.0, 2.0, 3.0]).expand(2, 3)
    shared = torch.randn(10)
    sd["shared.a"] = shared[2:6]
    sd["shared.b"] = shared[4:10].view(2, 3)
    return sd


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class EvalEvil:
    def __reduce__(self):
        return (eval, ("__import__('os').system('true')",))


class StorageRef:
    """A storage, or a window of one, as PyTorch 0.3 pickled it."""

    def __init__(self, key, tensor, view=None):
        self.key, self.tensor, self.view = key, tensor, view


class OldStylePickler(pickle.Pickler):
    """Pickles tensors the way PyTorch 0.3 did: torch._utils._rebuild_tensor and storage views."""

    def __init__(self, f, placements):
        super().__init__(f, protocol=2)
        self.placements = placements

    def persistent_id(self, obj):
        if isinstance(obj, StorageRef):
            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.tensor.numel(), obj.view)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, torch.Tensor):
            ref, offset, size, stride = self.placements[id(obj)]
            return (torch._utils._rebuild_tensor, (ref, offset, size, stride))
        return NotImplemented


def write_old_style(path):
    torch.manual_seed(11)
    root = torch.randn(20)
    other = torch.randn(2, 3)
    sd = collections.OrderedDict()
    sd["features.0.weight"] = root[4:8].view(2, 2)       # through the storage view (offset 3, size 6) at offset 1
    sd["features.0.bias"] = root[3:9]                     # the whole view
    sd["classifier.weight"] = other
    sd["classifier.weight_t"] = other.t()
    placements = {
        id(sd["features.0.weight"]): (StorageRef("root", root, ("root_view", 3, 6)), 1, (2, 2), (2, 1)),
        id(sd["features.0.bias"]): (StorageRef("root", root, ("root_view", 3, 6)), 0, (6,), (1,)),
        id(sd["classifier.weight"]): (StorageRef("other", other), 0, (2, 3), (3, 1)),
        id(sd["classifier.weight_t"]): (StorageRef("other", other), 0, (3, 2), (1, 3)),
    }
    with open(path, "wb") as f:
        pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}, f, protocol=2)
        OldStylePickler(f, placements).dump(sd)
        pickle.dump(["other", "root"], f, protocol=2)
        for storage in (other, root):
            f.write(struct.pack("<q", storage.numel()))
            f.write(storage.contiguous().numpy().tobytes())
    return sd


def make(directory):
    sd = state_dict()
    expected = {"state_dict": {k: values(v) for k, v in sd.items()},
                "metadata": {k: dict(v) for k, v in sd._metadata.items()}}
    torch.save(sd, os.path.join(directory, "sd_zip.pth"))
    torch.save(sd, os.path.join(directory, "sd_legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(sd, os.path.join(directory, "sd_zip_p4.pth"), pickle_protocol=4)
    torch.save(sd, os.path.join(directory, "sd_legacy_p4.pth"), _use_new_zipfile_serialization=False, pickle_protocol=4)

    torch.manual_seed(3)
    parameter = nn.Parameter(torch.randn(2, 2))
    checkpoint = {
        "epoch": 3,
        "state_dict": sd,
        "optimizer": {"state": {0: {"step": torch.tensor(10.0), "exp_avg": torch.randn(2)}},
                      "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "params": [0, 1]}]},
        "parameter": parameter,
        "name": "r\u00e9sum\u00e9 \u2713",
        "flag": True,
        "nothing": None,
        "big": 2 ** 70,
        "ratio": 0.1,
    }
    torch.save(checkpoint, os.path.join(directory, "checkpoint_zip.pth"))
    torch.save(checkpoint, os.path.join(directory, "checkpoint_legacy.pth"), _use_new_zipfile_serialization=False)
    expected["checkpoint"] = {"epoch": 3, "name": checkpoint["name"], "big": str(2 ** 70), "ratio": 0.1,
                              "parameter": values(parameter),
                              "exp_avg": values(checkpoint["optimizer"]["state"][0]["exp_avg"])}

    old = write_old_style(os.path.join(directory, "old_style.pth"))
    expected["old_style"] = {k: values(v) for k, v in old.items()}
    # The old-style file must be one torch.load itself reads back to the same values.
    reloaded = torch.load(os.path.join(directory, "old_style.pth"))
    assert all(torch.equal(reloaded[k], old[k]) for k in old), "torch.load disagrees with the old-style file"

    torch.save({"c": torch.zeros(2, dtype=torch.complex64)}, os.path.join(directory, "complex_zip.pth"))

    marker = os.path.join(directory, "pwned")
    torch.save({"x": Evil(marker)}, os.path.join(directory, "evil_zip.pth"))
    torch.save({"x": Evil(marker)}, os.path.join(directory, "evil_legacy.pth"), _use_new_zipfile_serialization=False)
    with open(os.path.join(directory, "evil_eval.pkl"), "wb") as f:
        pickle.dump(EvalEvil(), f, protocol=4)
    expected["marker"] = marker

    with open(os.path.join(directory, "expected.json"), "w") as f:
        json.dump(expected, f)


def big(directory, megabytes):
    torch.manual_seed(5)
    t = torch.randn(int(megabytes) * 1024 * 1024 // 4)
    torch.save({"big": t}, os.path.join(directory, "big_zip.pth"))
    torch.save({"big": t}, os.path.join(directory, "big_legacy.pth"), _use_new_zipfile_serialization=False)
    print(json.dumps({"numel": t.numel(), "sum": t.double().sum().item(), "first": t[:4].tolist(), "last": t[-4:].tolist()}))


def canonical(x):
    if x is None:
        return "None"
    if isinstance(x, bool):
        return "True" if x else "False"
    if isinstance(x, int):
        return f"i:{x}"
    if isinstance(x, float):
        return "f:" + struct.pack("<d", x).hex()
    if isinstance(x, str):
        return "s:" + x.encode("utf-8").hex()
    if isinstance(x, (bytes, bytearray)):
        return "b:" + bytes(x).hex()
    if isinstance(x, tuple):
        return "(" + ",".join(canonical(v) for v in x) + ")"
    if isinstance(x, (list, set, frozenset)):
        return "[" + ",".join(canonical(v) for v in x) + "]"
    if isinstance(x, dict):
        kind = "OrderedDict" if isinstance(x, collections.OrderedDict) else "dict"
        return kind + "{" + ",".join(canonical(k) + ":" + canonical(v) for k, v in x.items()) + "}"
    raise TypeError(type(x))


def pickles(directory):
    shared = [1, 2]
    for protocol in range(6):
        value = {
            "small": 1, "negative": -300, "medium": 70000, "int32": -(2 ** 31), "int64": 2 ** 63 - 1,
            "big": 2 ** 100, "negative_big": -(2 ** 65), "float": 1.5, "tiny": 1e-300, "negative_zero": -0.0,
            "text": "h\u00e9llo \u2713 \U0001F600", "empty": "", "list": [1, [2, 3], ()],
            "tuple1": (1,), "tuple2": (1, "a"), "tuple3": (None, True, False), "tuple4": (1, 2, 3, 4),
            "nested": collections.OrderedDict([("a", 1), ("b", {"c": [1.25]})]), "int_keys": {0: "zero", 7: "seven"},
            "shared_a": shared, "shared_b": shared, "long_list": list(range(2000)), "long_text": "x" * 300,
        }
        if protocol >= 3:
            value["bytes"] = b"\x00\xff" * 200
            value["short_bytes"] = b"\x01\x02"
        if protocol >= 4:
            value["set"] = {3, 1, 2}
            value["frozenset"] = frozenset({5})
        if protocol >= 5:
            value["bytearray"] = bytearray(b"xy")
        with open(os.path.join(directory, f"p{protocol}.pkl"), "wb") as f:
            pickle.dump(value, f, protocol=protocol)
        with open(os.path.join(directory, f"p{protocol}.txt"), "w") as f:
            f.write(canonical(value))


def validation():
    import re
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Linear(5, 2))
    expected = [(k, list(v.shape)) for k, v in model.state_dict().items()]
    sd = model.state_dict()
    del sd["1.running_var"]
    del sd["2.bias"]
    sd["3.weight"] = torch.zeros(2)
    sd["extra"] = torch.zeros(1)
    sd["0.weight"] = torch.zeros(4, 3, 5, 5)
    sd["2.weight"] = torch.zeros(5, 2)
    without_mismatch = {k: v for k, v in sd.items() if k not in ("0.weight", "2.weight")}
    without_mismatch["0.weight"] = model.state_dict()["0.weight"]
    without_mismatch["2.weight"] = model.state_dict()["2.weight"]
    report = model.load_state_dict(without_mismatch, strict=False)
    try:
        model.load_state_dict(sd, strict=True)
        raise SystemExit("load_state_dict accepted a mismatched state_dict")
    except RuntimeError as e:
        mismatched = re.findall(r"size mismatch for ([^:]+):", str(e))
    print(json.dumps({"expected": expected, "actual": [(k, list(v.shape)) for k, v in sd.items()],
                      "missing": report.missing_keys, "unexpected": report.unexpected_keys, "mismatched": mismatched}))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "make":
        make(sys.argv[2])
    elif mode == "big":
        big(sys.argv[2], sys.argv[3])
    elif mode == "pickles":
        pickles(sys.argv[2])
    elif mode == "validation":
        validation()
    else:
        raise SystemExit(f"unknown mode {mode}")
