"""Reference for the optimiser parity test: trains a tiny Embedding-LSTM-Linear model for N steps with
torch.optim and prints the final parameters and per-step losses.

Input JSON: {"state": {key: tensor}, "tokens": tensor, "targets": tensor, "optimizer": "adam"|"sgd",
"options": {...}, "steps": int, "clip": float|null}.
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class Tiny(nn.Module):
    def __init__(self, vocab, dim, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim, padding_idx=0)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        out, _ = self.lstm(self.embedding(tokens))
        return self.fc(out)


def tensor(spec):
    dtype = {"float32": torch.float32, "int64": torch.int64}[spec["dtype"]]
    return torch.tensor(spec["data"], dtype=dtype).reshape(spec["shape"])


def main():
    torch.set_num_threads(1)
    spec = json.load(open(sys.argv[1]))
    state = {k: tensor(v) for k, v in spec["state"].items()}
    vocab, dim = state["embedding.weight"].shape
    hidden = state["lstm.weight_hh_l0"].shape[1]
    model = Tiny(vocab, dim, hidden)
    model.load_state_dict(state)
    o = spec["options"]
    if spec["optimizer"] == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"],
                                     weight_decay=o["weight_decay"])
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=o["lr"], momentum=o["momentum"], weight_decay=o["weight_decay"],
                                    nesterov=o["nesterov"])
    tokens, targets = tensor(spec["tokens"]), tensor(spec["targets"])
    losses, norms = [], []
    for _ in range(spec["steps"]):
        optimizer.zero_grad()
        logits = model(tokens)
        loss = F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1), ignore_index=0)
        loss.backward()
        if spec["clip"] is not None:
            norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), spec["clip"])))
        optimizer.step()
        losses.append(loss.item())
    out = {k: {"shape": list(v.shape), "dtype": "float32", "data": v.reshape(-1).tolist()} for k, v in model.state_dict().items()}
    json.dump({"state": out, "losses": losses, "norms": norms}, sys.stdout)


if __name__ == "__main__":
    main()
