"""torch.nn.TransformerDecoderLayer over a projected grid, as the reference for TransformerCaptionModel.

The layers are PyTorch's own (batch_first, post-norm, dropout 0) with a square subsequent mask; the model around them
(feature_proj, embedding with padding_idx, learned or sinusoidal positions, fc) follows the C# state_dict names, so
that state loads unchanged.

Input JSON: state (the C# state_dict), heads, activation ("relu" or "gelu"), positions ("learned" or "sinusoidal"),
features [B, P, C], inputs and targets [B, T] right-padded with pad, pad. Prints the logits [B, T, V] (zero where the
target is pad), the loss (cross entropy over real targets) and every parameter's gradient of that loss.
"""
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from model_recipe import encode, tensor


def sinusoid(length, dim):
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    frequencies = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * frequencies)
    table[:, 1::2] = torch.cos(position * frequencies)[:, : dim // 2]
    return table


class TransformerCaptioner(nn.Module):
    def __init__(self, vocab, feature_dim, d_model, heads, layers, ff, activation, max_positions, pad):
        super().__init__()
        self.feature_proj = nn.Linear(feature_dim, d_model)
        self.embedding = nn.Embedding(vocab, d_model, padding_idx=pad)
        self.positions = nn.Embedding(max_positions, d_model) if max_positions else None
        self.layers = nn.ModuleList([
            nn.TransformerDecoderLayer(d_model, heads, ff, dropout=0.0, activation=activation, batch_first=True, norm_first=False)
            for _ in range(layers)
        ])
        self.fc = nn.Linear(d_model, vocab)

    def forward(self, features, tokens):
        memory = self.feature_proj(features)
        steps = tokens.size(1)
        d_model = memory.size(2)
        position = self.positions(torch.arange(steps)) if self.positions is not None else sinusoid(steps, d_model)
        x = self.embedding(tokens) + position.unsqueeze(0)
        mask = torch.triu(torch.full((steps, steps), float("-inf")), diagonal=1)
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=mask)
        return self.fc(x)


def build(spec):
    """The reference with its sizes read from, and its weights set to, the C# state_dict."""
    state = {k: tensor(v) for k, v in spec["state"].items()}
    vocab, d_model = state["embedding.weight"].shape
    feature_dim = state["feature_proj.weight"].shape[1]
    layers = len({k.split(".")[1] for k in state if k.startswith("layers.")})
    ff = state["layers.0.linear1.weight"].shape[0]
    max_positions = state["positions.weight"].shape[0] if spec["positions"] == "learned" else 0
    model = TransformerCaptioner(vocab, feature_dim, d_model, spec["heads"], layers, ff, spec["activation"], max_positions, spec["pad"])
    model.load_state_dict(state)
    return model


def main():
    torch.set_num_threads(1)
    spec = json.load(open(sys.argv[1]))
    model = build(spec)
    features, inputs, targets = tensor(spec["features"]), tensor(spec["inputs"]), tensor(spec["targets"])
    real = targets != spec["pad"]
    logits = model(features, inputs)
    loss = F.cross_entropy(logits[real], targets[real])
    loss.backward()
    out = {
        "logits": encode(logits * real.unsqueeze(2)),
        "loss": loss.item(),
        "gradients": {name: encode(p.grad) for name, p in model.named_parameters()},
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
