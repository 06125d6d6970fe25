"""The PyTorch recipe's captioning model and losses, as the reference for CaptionModel and CaptionLoss.

Input JSON: architecture, state (our initial state_dict), features [B, D], full-sequence inputs/targets [B, T],
prefix-mode prefixes [B, T] and next words [B], pad, steps. Prints logits, both losses, and the parameters
after `steps` Adam(lr=1e-3) steps in each mode, starting from the same state each time.
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from recipe_model import RecipeModel



class MergeModel(nn.Module):
    """The Keras recipe's merge model (Dense+ReLU image, Embedding->LSTM text, add, Dense+ReLU, Dense) in PyTorch."""

    def __init__(self, vocab, feat, embed, hidden, pad):
        super().__init__()
        self.img_fc = nn.Linear(feat, hidden)
        self.embedding = nn.Embedding(vocab, embed, padding_idx=pad)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.decoder_fc = nn.Linear(hidden, hidden)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, img, caps):
        image = torch.relu(self.img_fc(img)).unsqueeze(1)
        out, _ = self.lstm(self.embedding(caps))
        return self.fc(torch.relu(self.decoder_fc(out + image)))


def tensor(spec):
    dtype = {"float32": torch.float32, "int64": torch.int64}[spec["dtype"]]
    return torch.tensor(spec["data"], dtype=dtype).reshape(spec["shape"])


def encode(t):
    return {"shape": list(t.shape), "dtype": "float32", "data": t.detach().reshape(-1).tolist()}


def prefix_loss(model, img, prefixes, next_words, pad):
    logits = model(img, prefixes)
    last = (prefixes != pad).sum(1) - 1
    return F.cross_entropy(logits[torch.arange(len(last)), last], next_words, ignore_index=pad)


def full_loss(model, img, inputs, targets, pad):
    logits = model(img, inputs)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=pad)


def main():
    torch.set_num_threads(1)
    spec = json.load(open(sys.argv[1]))
    state = {k: tensor(v) for k, v in spec["state"].items()}
    pad = spec["pad"]
    vocab, embed = state["embedding.weight"].shape
    hidden = state["lstm.weight_hh_l0"].shape[1]
    feat = (state["img_to_h.weight"] if "img_to_h.weight" in state else state["img_fc.weight"]).shape[1]
    cls = RecipeModel if spec["architecture"] == "InitInject" else MergeModel

    def fresh():
        m = cls(vocab, feat, embed, hidden, pad)
        m.load_state_dict(state)
        return m

    img = tensor(spec["features"])
    inputs, targets = tensor(spec["inputs"]), tensor(spec["targets"])
    prefixes, next_words = tensor(spec["prefixes"]), tensor(spec["next_words"])
    prefix_img = tensor(spec["prefix_features"])
    model = fresh()
    out = {
        "logits": encode(model(img, inputs)),
        "full_loss": full_loss(model, img, inputs, targets, pad).item(),
        "prefix_loss": prefix_loss(model, prefix_img, prefixes, next_words, pad).item(),
    }
    for mode in ("full", "prefix"):
        model = fresh()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        losses = []
        for _ in range(spec["steps"]):
            optimizer.zero_grad()
            if mode == "full":
                loss = full_loss(model, img, inputs, targets, pad)
            else:
                loss = prefix_loss(model, prefix_img, prefixes, next_words, pad)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        out[mode + "_losses"] = losses
        out[mode + "_state"] = {k: encode(v) for k, v in model.state_dict().items()}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
