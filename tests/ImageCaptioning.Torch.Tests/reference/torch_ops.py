"""Reference for the binding's op parity tests: evaluates each case with python3-torch, forward and backward.

Input: a JSON file {case: {"inputs": {name: {shape, dtype, data, requires_grad}}, "expr": str, "seed": int|null}}.
Each output's gradient is upstream(shape)[i] = float32(sin(0.37 i + 0.1)), the same formula the C# side uses,
so the gradients of every input are compared, not just the forward values.
Output (stdout): {case: {"outputs": [tensor...], "grads": {name: tensor|null}}}.
"""
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64, "bool": torch.bool}


def upstream(shape):
    n = math.prod(shape)
    return torch.tensor([math.sin(0.37 * i + 0.1) for i in range(n)], dtype=torch.float32).reshape(shape)


def encode(t):
    t = t.detach()
    data = t.reshape(-1).tolist()
    if t.dtype == torch.bool:
        data = [1 if v else 0 for v in data]
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": data}


def main():
    torch.set_num_threads(1)
    spec = json.load(open(sys.argv[1]))
    results = {}
    for name, case in spec.items():
        scope = {"torch": torch, "F": F, "nn": nn}
        inputs = {}
        for input_name, s in case["inputs"].items():
            t = torch.tensor(s["data"], dtype=DTYPES[s["dtype"]]).reshape(s["shape"])
            if s["requires_grad"]:
                t.requires_grad_(True)
            inputs[input_name] = t
        scope.update(inputs)
        if case.get("seed") is not None:
            torch.manual_seed(case["seed"])
        exec("result = " + case["expr"], scope)
        result = scope["result"]
        outputs = list(result) if isinstance(result, (tuple, list)) else [result]
        differentiable = [o for o in outputs if o.requires_grad]
        if differentiable:
            loss = sum((o * upstream(list(o.shape))).sum() for o in differentiable)
            loss.backward()
        grads = {n: (encode(t.grad) if t.grad is not None else None) for n, t in inputs.items() if t.requires_grad}
        results[name] = {"outputs": [encode(o) for o in outputs], "grads": grads}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
