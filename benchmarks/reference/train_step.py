"""python3-torch side of the train-step benchmarks: one step (loss, backward, Adam) of the recipe's model
(4096-d features, embedding and hidden 256) at batch 64, T 31, for vocabularies of 8,000 and 30,524.

Cases (the names of TrainStepBenchmarks):
  PrefixStep        the recipe's prefix mode: logits at every position of 64 padded prefixes, loss at the last one
  FullPaddedStep    full-sequence teacher forcing padded to 31: logits at every position, CrossEntropy(ignore_index=pad)
  FullBucketedStep  the same over 16 length-bucketed batches (each padded to its longest caption), round robin

Prints one JSON line per case and vocabulary: median seconds per step and target tokens per step. Threads come from
IMAGECAPTIONING_NUM_THREADS, as in interop.py.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
# One definition of the recipe's model for the tests and the benchmarks.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Shared", "reference"))
from recipe_model import RecipeModel  # noqa: E402
from timing import median_seconds  # noqa: E402

BATCH, LENGTH, FEATURES, PAD, BUCKETS = 64, 31, 4096, 0, 16



class Lcg:
    """The 31-bit linear congruential generator of TrainStepBenchmarks: both sides draw the same lengths and words."""

    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return self.state

    def caption_length(self):
        return 6 + self.next() % 7 + self.next() % 7 + self.next() % 7

    def word(self, vocab):
        return 4 + self.next() % (vocab - 4)


def full_sequence(lengths, width, vocab, rng):
    inputs = torch.full((len(lengths), width), PAD, dtype=torch.int64)
    targets = torch.full((len(lengths), width), PAD, dtype=torch.int64)
    for s, n in enumerate(lengths):
        caption = [2] + [rng.word(vocab) for _ in range(n - 2)] + [3]
        inputs[s, :n - 1] = torch.tensor(caption[:-1])
        targets[s, :n - 1] = torch.tensor(caption[1:])
    return inputs, targets, sum(n - 1 for n in lengths)


def main():
    torch.set_num_threads(int(os.environ.get("IMAGECAPTIONING_NUM_THREADS", os.cpu_count())))
    repeat = int(os.environ.get("IMAGECAPTIONING_REPEAT", "10"))
    for vocab in (8000, 30524):
        torch.manual_seed(0)
        rng = Lcg(1)
        model = RecipeModel(vocab, pad=PAD)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        img = torch.tensor([rng.next() / 0x7FFFFFFF for _ in range(BATCH * FEATURES)]).reshape(BATCH, FEATURES)
        inputs, targets, full_tokens = full_sequence([rng.caption_length() for _ in range(BATCH)], LENGTH, vocab, rng)
        prefixes = torch.full((BATCH, LENGTH), PAD, dtype=torch.int64)
        next_words = torch.zeros(BATCH, dtype=torch.int64)
        for s in range(BATCH):
            n = 1 + rng.next() % LENGTH
            prefixes[s, :n] = torch.tensor([rng.word(vocab) for _ in range(n)])
            next_words[s] = rng.word(vocab)
        lengths = sorted(rng.caption_length() for _ in range(BATCH * BUCKETS))
        buckets = []
        bucket_tokens = 0
        for b in range(BUCKETS):
            chunk = lengths[b * BATCH:(b + 1) * BATCH]
            bi, bt, n = full_sequence(chunk, max(chunk) - 1, vocab, rng)
            buckets.append((bi, bt))
            bucket_tokens += n

        def step(loss_fn):
            optimizer.zero_grad()
            loss = loss_fn()
            loss.backward()
            optimizer.step()
            return loss.item()

        def prefix_loss():
            logits = model(img, prefixes)
            last = (prefixes != PAD).sum(1) - 1
            return F.cross_entropy(logits[torch.arange(BATCH), last], next_words, ignore_index=PAD)

        def full_loss(i, t):
            logits = model(img, i)
            return F.cross_entropy(logits.reshape(-1, vocab), t.reshape(-1), ignore_index=PAD)

        turn = [0]

        def bucketed():
            i, t = buckets[turn[0] % BUCKETS]
            turn[0] += 1
            return full_loss(i, t)

        cases = {
            "PrefixStep": (lambda: step(prefix_loss), BATCH),
            "FullPaddedStep": (lambda: step(lambda: full_loss(inputs, targets)), full_tokens),
            "FullBucketedStep": (lambda: step(bucketed), bucket_tokens / BUCKETS),
        }
        for name, (fn, tokens) in cases.items():
            seconds = median_seconds(fn, repeat, warmup=2)
            print(json.dumps({"case": name, "vocabulary": vocab, "median_s": seconds, "tokens_per_step": tokens,
                              "tokens_per_s": tokens / seconds, "threads": torch.get_num_threads()}), flush=True)


if __name__ == "__main__":
    main()
