"""python3-torch side of the decode benchmarks: captioning 64 images (4096-d features) with the recipe's model,
at most 30 tokens, for vocabularies of 8,000 and 30,524.

Cases:
  Greedy        batched greedy decoding carrying the LSTM state (one token per step), PyTorch's best way
  Beam3, Beam5  batched beam search of width 3 and 5 carrying the LSTM state, as a PyTorch user writes it: log_softmax
                of the [64·k, V] logits plus each beam's score, top-k over each image's k·V candidates, the states and
                token rows gathered by parent; a finished beam's continuations masked to the end token at 0
  RecipeGreedy  the recipe's way: each image alone, re-running the whole padded prefix [1, 31] every step (timed on
                the first 8 images: it is that slow; tokens per second compare directly)
Random weights: captions run to the length limit on both sides, so the work is the same. Prints one JSON line per
case and vocabulary: median seconds per 64 images and generated tokens per second. Threads come from
IMAGECAPTIONING_NUM_THREADS, as in interop.py.
"""
import json
import os
import sys

import torch
import torch.nn as nn
# One definition of the recipe's model for the tests and the benchmarks.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Shared", "reference"))
from recipe_model import RecipeModel  # noqa: E402
from timing import median_seconds  # noqa: E402

RECIPE_IMAGES = 8
IMAGES, MAX_LENGTH, LENGTH, FEATURES, PAD, START, END = 64, 30, 31, 4096, 0, 2, 3



def greedy(model, img):
    state = (torch.tanh(model.img_to_h(img)).unsqueeze(0), torch.tanh(model.img_to_c(img)).unsqueeze(0))
    token = torch.full((img.shape[0],), START, dtype=torch.int64)
    finished = torch.zeros(img.shape[0], dtype=torch.bool)
    generated = 0
    for _ in range(MAX_LENGTH):
        out, state = model.lstm(model.embedding(token).unsqueeze(1), state)
        token = model.fc(out.squeeze(1)).argmax(1)
        generated += int((~finished).sum())
        finished |= token == END
        if bool(finished.all()):
            break
    return generated


def beam(model, img, width):
    n = img.shape[0]
    rows = torch.arange(n).repeat_interleave(width)
    state = (torch.tanh(model.img_to_h(img))[rows].unsqueeze(0), torch.tanh(model.img_to_c(img))[rows].unsqueeze(0))
    token = torch.full((n * width,), START, dtype=torch.int64)
    scores = torch.full((n, width), float("-inf"))
    scores[:, 0] = 0
    finished = torch.zeros(n * width, dtype=torch.bool)
    sequences = torch.empty(n * width, 0, dtype=torch.int64)
    base = (torch.arange(n) * width).unsqueeze(1)
    for _ in range(MAX_LENGTH):
        out, state = model.lstm(model.embedding(token).unsqueeze(1), state)
        logp = torch.log_softmax(model.fc(out.squeeze(1)), 1)
        if bool(finished.any()):
            logp[finished] = float("-inf")
            logp[finished, END] = 0
        vocab = logp.shape[1]
        scores, flat = (scores.reshape(-1, 1) + logp).view(n, width * vocab).topk(width, 1)
        parent = (base + torch.div(flat, vocab, rounding_mode="floor")).view(-1)
        token = (flat % vocab).view(-1)
        state = (state[0][:, parent], state[1][:, parent])
        finished = finished[parent] | (token == END)
        sequences = torch.cat([sequences[parent], token.unsqueeze(1)], 1)
        if bool(finished.all()):
            break
    best = sequences.view(n, width, -1)[torch.arange(n), scores.argmax(1)]
    ended = best == END
    return int(torch.where(ended.any(1), ended.int().argmax(1), torch.full((n,), best.shape[1])).sum())


def recipe_greedy(model, img):
    generated = 0
    for i in range(min(RECIPE_IMAGES, img.shape[0])):
        sequence = [START]
        for _ in range(MAX_LENGTH):
            padded = torch.full((1, LENGTH), PAD, dtype=torch.int64)
            padded[0, :len(sequence)] = torch.tensor(sequence)
            logits = model(img[i:i + 1], padded)
            token = int(logits[0, len(sequence) - 1].argmax())
            generated += 1
            if token == END:
                break
            sequence.append(token)
    return generated


def main():
    torch.set_num_threads(int(os.environ.get("IMAGECAPTIONING_NUM_THREADS", os.cpu_count())))
    repeat = int(os.environ.get("IMAGECAPTIONING_REPEAT", "5"))
    for vocab in (8000, 30524):
        torch.manual_seed(0)
        model = RecipeModel(vocab, pad=PAD).eval()
        img = torch.rand(IMAGES, FEATURES)
        with torch.no_grad():
            for name, fn, runs in (("Greedy", greedy, repeat), ("Beam3", lambda m, i: beam(m, i, 3), repeat),
                                   ("Beam5", lambda m, i: beam(m, i, 5), repeat), ("RecipeGreedy", recipe_greedy, max(1, repeat // 5))):
                tokens = fn(model, img)
                seconds = median_seconds(lambda: fn(model, img), runs)
                print(json.dumps({"case": name, "vocabulary": vocab, "median_s": seconds, "tokens": tokens,
                                  "tokens_per_s": tokens / seconds, "threads": torch.get_num_threads()}), flush=True)


if __name__ == "__main__":
    main()
