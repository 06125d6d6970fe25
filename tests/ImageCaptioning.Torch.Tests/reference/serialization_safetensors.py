"""Independent safetensors reference for the serialization tests.

  read <file>                 parse a safetensors file and print its contents as JSON
  write <file> <expected>     write a safetensors file per the published format and the values it holds as JSON

Uses the `safetensors` package when it is installed; otherwise only json, struct and torch, following the format
specification (8-byte little-endian header length, JSON header, raw little-endian data).
"""
import json
import struct
import sys

import torch

DTYPES = {
    "F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}

try:
    import safetensors.torch as st  # noqa: F401
    HAVE_PACKAGE = True
except ImportError:
    HAVE_PACKAGE = False


def describe(name, t):
    return {"name": name, "dtype": NAMES[t.dtype], "shape": list(t.shape), "values": t.flatten().tolist()}


def read_manual(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    assert data[8 + n - 1:8 + n] in (b"}", b" "), "header must end with } or padding"
    metadata = header.pop("__metadata__", {})
    body = data[8 + n:]
    entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    end = 0
    tensors = []
    for name, info in entries:
        begin, stop = info["data_offsets"]
        assert begin == end, f"{name}: offsets not contiguous"
        end = stop
        dtype = DTYPES[info["dtype"]]
        raw = bytearray(body[begin:stop])
        numel = 1
        for s in info["shape"]:
            numel *= s
        assert numel * torch.tensor([], dtype=dtype).element_size() == len(raw), f"{name}: size mismatch"
        t = torch.frombuffer(raw, dtype=dtype) if len(raw) else torch.empty(0, dtype=dtype)
        tensors.append(describe(name, t.reshape(info["shape"])))
    assert end == len(body), "trailing or missing data"
    return metadata, tensors


def read(path):
    if HAVE_PACKAGE:
        from safetensors import safe_open
        with safe_open(path, framework="pt") as f:
            metadata = f.metadata() or {}
            names = list(f.keys())
            loaded = {k: f.get_tensor(k) for k in names}
        _, ordered = read_manual(path)  # the package does not expose the data order; take it from the header
        tensors = [describe(e["name"], loaded[e["name"]]) for e in ordered]
    else:
        metadata, tensors = read_manual(path)
    print(json.dumps({"metadata": metadata, "tensors": tensors, "package": HAVE_PACKAGE}))


def write(path, expected_path):
    torch.manual_seed(1234)
    tensors = [
        ("layer.weight", torch.randn(3, 4)),
        ("layer.bias", torch.randn(4, dtype=torch.float64)),
        ("half", (torch.randn(2, 2) * 100).half()),
        ("brain", torch.randn(5).bfloat16()),
        ("long", torch.tensor([-(2 ** 63), 2 ** 63 - 1, 0, -1, 42])),
        ("int", torch.tensor([-(2 ** 31), 2 ** 31 - 1, 7], dtype=torch.int32)),
        ("short", torch.tensor([-32768, 32767], dtype=torch.int16)),
        ("char", torch.tensor([-128, 127, 0], dtype=torch.int8)),
        ("byte", torch.tensor([0, 255, 128], dtype=torch.uint8)),
        ("mask", torch.tensor([[True, False], [False, True]])),
        ("scalar", torch.tensor(2.5)),
        ("empty", torch.zeros(0, 3)),
        ("transposed", torch.arange(6.0).reshape(2, 3).t()),
    ]
    header = {"__metadata__": {"format": "pt", "note": "written by the python reference"}}
    blobs = []
    offset = 0
    for name, t in tensors:
        raw = t.contiguous().view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    # Keys sorted by name, as the reference implementation writes them: the data order differs from the key order.
    text = json.dumps(dict(sorted(header.items())), separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    with open(expected_path, "w") as f:
        json.dump({"metadata": header["__metadata__"], "tensors": [describe(n, t) for n, t in tensors]}, f)


if __name__ == "__main__":
    if sys.argv[1] == "read":
        read(sys.argv[2])
    elif sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]}")
