"""python3-torch side of the attention benchmarks: the two grid models (the soft-attention decoder of sgrvinod's
tutorial and a transformer of torch.nn.TransformerDecoderLayer, the architectures of the parity tests in
tests/ImageCaptioning.Tests/reference) at batch 32, a 7x7 grid of 512 channels, vocabulary 8,000, T 16.
Soft attention: embedding, hidden and attention 512; transformer: d_model 512, 8 heads, 2 layers, feed-forward 2048.
Dropout 0 on both.

Cases (the names of AttentionBenchmarks):
  SoftAttentionStep    one training step (loss, backward, Adam) with the tutorial's forward (captions sorted by
                       length, each step decoding only the captions still running), cross entropy over the real
                       targets (ignore_index=pad) plus the doubly stochastic attention penalty
  TransformerStep      one training step: logits at every position, cross entropy with ignore_index=pad
  SoftAttentionGreedy  greedy decoding of the 32 images, at most 16 tokens, carrying (h, c)
  TransformerGreedy    greedy decoding as nn.TransformerDecoder users write it: the memory projected once, the whole
                       prefix re-run through the layers every step, the last position's logits taken
  SoftAttentionBeam3   beam search of width 3 for the 32 images at once, carrying (h, c) per beam (reordered)
  TransformerBeam3     beam search of width 3, each beam's prefix re-run every step as in TransformerGreedy

For decoding the end token's output bias is set to -1e4 on both sides (random weights would otherwise end captions
at different steps on each side), so every caption runs to 16 tokens and both sides do the same work.
Prints one JSON line per case: median seconds per call, target tokens per step (training) or generated tokens
(decoding). Threads come from IMAGECAPTIONING_NUM_THREADS, as in interop.py.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# The architectures of the parity tests, imported rather than copied.
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "ImageCaptioning.Tests", "reference"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "Shared", "reference"))
from model_soft_attention import DecoderWithAttention  # noqa: E402
from model_transformer import TransformerCaptioner  # noqa: E402
from timing import median_seconds  # noqa: E402

BATCH, CELLS, CHANNELS, VOCAB, LENGTH, PAD, START, END = 32, 49, 512, 8000, 16, 0, 2, 3
HIDDEN, D_MODEL, HEADS, LAYERS, FEED_FORWARD, MAX_POSITIONS = 512, 512, 8, 2, 2048, 64
MAX_LENGTH = LENGTH


class Lcg:
    """The 31-bit linear congruential generator of AttentionBenchmarks: both sides draw the same batch."""

    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return self.state


def batch():
    """Features [B, P, C] and inputs/targets [B, T] right-padded: caption lengths 6 to 17 tokens, marks included."""
    rng = Lcg(1)
    features = torch.tensor([rng.next() / 0x7FFFFFFF for _ in range(BATCH * CELLS * CHANNELS)]).reshape(BATCH, CELLS, CHANNELS)
    inputs = torch.full((BATCH, LENGTH), PAD, dtype=torch.int64)
    targets = torch.full((BATCH, LENGTH), PAD, dtype=torch.int64)
    tokens = 0
    for s in range(BATCH):
        n = 6 + rng.next() % 12
        caption = [START] + [4 + rng.next() % (VOCAB - 4) for _ in range(n - 2)] + [END]
        inputs[s, :n - 1] = torch.tensor(caption[:-1])
        targets[s, :n - 1] = torch.tensor(caption[1:])
        tokens += n - 1
    return features, inputs, targets, tokens


def soft_attention_greedy(model, features):
    mean = features.mean(dim=1)
    h, c = model.init_h(mean), model.init_c(mean)
    token = torch.full((features.shape[0],), START, dtype=torch.int64)
    finished = torch.zeros(features.shape[0], dtype=torch.bool)
    generated = 0
    for _ in range(MAX_LENGTH):
        awe, _ = model.attention(features, h)
        awe = model.sigmoid(model.f_beta(h)) * awe
        h, c = model.decode_step(torch.cat([model.embedding(token), awe], dim=1), (h, c))
        token = model.fc(h).argmax(1)
        generated += int((~finished).sum())
        finished |= token == END
        if bool(finished.all()):
            break
    return generated


def transformer_greedy(model, features):
    memory = model.feature_proj(features)
    tokens = torch.full((features.shape[0], 1), START, dtype=torch.int64)
    finished = torch.zeros(features.shape[0], dtype=torch.bool)
    generated = 0
    for _ in range(MAX_LENGTH):
        steps = tokens.size(1)
        x = model.embedding(tokens) + model.positions(torch.arange(steps)).unsqueeze(0)
        mask = torch.triu(torch.full((steps, steps), float("-inf")), diagonal=1)
        for layer in model.layers:
            x = layer(x, memory, tgt_mask=mask)
        token = model.fc(x[:, -1]).argmax(1)
        generated += int((~finished).sum())
        finished |= token == END
        if bool(finished.all()):
            break
        tokens = torch.cat([tokens, token.unsqueeze(1)], dim=1)
    return generated


def beam_search(step, reorder, images, width):
    """Batched beam search as the tutorial's caption.py does it per image, here for all images at once: beam b of
    image i is row i * width + b; log_softmax plus the running scores, topk(width) over width * V per image, the
    state and histories reordered to the chosen beams. Only beam 0 is live at the first step. With the end token
    suppressed (see main) no hypothesis ends, so there is no finished-hypothesis bookkeeping. Returns the tokens of
    each image's best caption."""
    scores = torch.full((images, width), float("-inf"))
    scores[:, 0] = 0
    tokens = torch.full((images * width,), START, dtype=torch.int64)
    history = torch.empty((images * width, 0), dtype=torch.int64)
    offsets = (torch.arange(images) * width).unsqueeze(1)
    for _ in range(MAX_LENGTH):
        logits = step(tokens, history)
        total = logits.log_softmax(1).view(images, width, -1) + scores.unsqueeze(2)
        scores, flat = total.view(images, -1).topk(width, 1)
        rows = (offsets + torch.div(flat, VOCAB, rounding_mode="floor")).reshape(-1)
        tokens = (flat % VOCAB).reshape(-1)
        reorder(rows)
        history = torch.cat([history[rows], tokens.unsqueeze(1)], dim=1)
    return history[scores.argmax(1) + offsets.squeeze(1)].numel()


def soft_attention_beam(model, features, width=3):
    grid = features.repeat_interleave(width, 0)
    mean = grid.mean(dim=1)
    state = [model.init_h(mean), model.init_c(mean)]

    def step(tokens, _):
        h, c = state
        awe, _ = model.attention(grid, h)
        awe = model.sigmoid(model.f_beta(h)) * awe
        state[0], state[1] = model.decode_step(torch.cat([model.embedding(tokens), awe], dim=1), (h, c))
        return model.fc(state[0])

    def reorder(rows):
        state[0], state[1] = state[0][rows], state[1][rows]

    return beam_search(step, reorder, features.shape[0], width)


def transformer_beam(model, features, width=3):
    memory = model.feature_proj(features).repeat_interleave(width, 0)
    start = torch.full((memory.shape[0], 1), START, dtype=torch.int64)

    def step(_, history):
        # The whole prefix (start token and the words so far) through the layers again, as in transformer_greedy.
        prefix = torch.cat([start, history], dim=1)
        steps = prefix.size(1)
        x = model.embedding(prefix) + model.positions(torch.arange(steps)).unsqueeze(0)
        mask = torch.triu(torch.full((steps, steps), float("-inf")), diagonal=1)
        for layer in model.layers:
            x = layer(x, memory, tgt_mask=mask)
        return model.fc(x[:, -1])

    return beam_search(step, lambda rows: None, features.shape[0], width)


def main():
    torch.set_num_threads(int(os.environ.get("IMAGECAPTIONING_NUM_THREADS", os.cpu_count())))
    repeat = int(os.environ.get("IMAGECAPTIONING_REPEAT", "10"))
    features, inputs, targets, tokens = batch()
    real = targets != PAD
    torch.manual_seed(0)
    soft = DecoderWithAttention(HIDDEN, HIDDEN, HIDDEN, VOCAB, CHANNELS, PAD)
    torch.manual_seed(0)
    transformer = TransformerCaptioner(VOCAB, CHANNELS, D_MODEL, HEADS, LAYERS, FEED_FORWARD, "relu", MAX_POSITIONS, PAD)

    def stepper(model, loss_fn):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            optimizer.zero_grad()
            loss = loss_fn()
            loss.backward()
            optimizer.step()
            return loss.item()
        return step

    def soft_loss():
        logits, alphas = soft(features, inputs, real.sum(1))
        penalty = ((1.0 - alphas.sum(dim=1)) ** 2).sum(dim=1).mean()
        return F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1), ignore_index=PAD) + penalty

    def transformer_loss():
        logits = transformer(features, inputs)
        return F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1), ignore_index=PAD)

    for name, fn in (("SoftAttentionStep", stepper(soft, soft_loss)), ("TransformerStep", stepper(transformer, transformer_loss))):
        seconds = median_seconds(fn, repeat, warmup=2)
        print(json.dumps({"case": name, "median_s": seconds, "tokens_per_step": tokens, "tokens_per_s": tokens / seconds,
                          "threads": torch.get_num_threads()}), flush=True)
    soft.eval()
    transformer.eval()
    with torch.no_grad():
        # As in AttentionBenchmarks: the end token can never win, so every caption runs to the limit on both sides.
        soft.fc.bias[END] = -1e4
        transformer.fc.bias[END] = -1e4
        for name, fn, model, runs in (("SoftAttentionGreedy", soft_attention_greedy, soft, repeat),
                                      ("TransformerGreedy", transformer_greedy, transformer, repeat),
                                      ("SoftAttentionBeam3", soft_attention_beam, soft, max(1, repeat // 2)),
                                      ("TransformerBeam3", transformer_beam, transformer, max(1, repeat // 2))):
            generated = fn(model, features)
            seconds = median_seconds(lambda: fn(model, features), runs)
            print(json.dumps({"case": name, "median_s": seconds, "tokens": generated, "tokens_per_s": generated / seconds,
                              "threads": torch.get_num_threads()}), flush=True)


if __name__ == "__main__":
    main()
