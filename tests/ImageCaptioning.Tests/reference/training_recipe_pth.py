"""Writes the PyTorch recipe's model state_dict with torch.save, in the zip format and the legacy format.

Arguments: output directory, seed. Builds the recipe's init-inject model with small sizes and seeded weights, saves
recipe_zip.pth and recipe_legacy.pth, and prints JSON with the features, the padded caption batch and the logits
model(features, captions).
"""
import json
import os
import sys

import torch
import torch.nn as nn
from recipe_model import RecipeModel as ImageCaptioningModel



def encode(t):
    dtype = "int64" if t.dtype == torch.int64 else "float32"
    return {"shape": list(t.shape), "dtype": dtype, "data": t.detach().reshape(-1).tolist()}


def main():
    torch.set_num_threads(1)
    out_dir, seed = sys.argv[1], int(sys.argv[2])
    torch.manual_seed(seed)
    vocab, feat, embed, hidden, pad = 40, 24, 12, 16, 0
    model = ImageCaptioningModel(vocab, feat, embed, hidden, pad)
    # A few Adam steps, so the weights are no longer the initialiser's (the pad row stays zero, as in training).
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        img = torch.randn(4, feat)
        caps = torch.randint(1, vocab, (4, 6))
        loss = nn.functional.cross_entropy(model(img, caps[:, :-1]).reshape(-1, vocab), caps[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()

    torch.save(model.state_dict(), os.path.join(out_dir, "recipe_zip.pth"))
    torch.save(model.state_dict(), os.path.join(out_dir, "recipe_legacy.pth"), _use_new_zipfile_serialization=False)

    features = torch.randn(3, feat)
    captions = torch.randint(1, vocab, (3, 7))
    captions[1, 4:] = pad
    captions[2, 2:] = pad
    with torch.no_grad():
        logits = model(features, captions)
    json.dump({"features": encode(features), "captions": encode(captions), "logits": encode(logits),
               "vocab": vocab, "feature_size": feat, "embed_size": embed, "hidden_size": hidden, "pad": pad}, sys.stdout)


if __name__ == "__main__":
    main()
