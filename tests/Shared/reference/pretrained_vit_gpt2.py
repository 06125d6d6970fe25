"""A plain-torch VisionEncoderDecoderModel (ViT encoder, GPT-2 decoder with cross-attention), its image processor,
GPT-2's byte-level BPE tokenizer and transformers' greedy and beam search, as the reference for the library's
Pretrained/VitGpt2 loader.

Written from transformers' modeling_vit.py (ViTEmbeddings, ViTSelfAttention eager path, ViTLayer: pre-LN, exact GELU),
modeling_gpt2.py (GPT2Attention eager path with the causal mask filled with finfo.min, Conv1D = addmm with [in, out]
weights, NewGELUActivation, cross-attention q_attn/c_attn, lm_head tied to wte), modeling_vision_encoder_decoder.py
(enc_to_dec_proj when the widths differ), image_processing_vit.py (PIL resize, rescale in float64 cast to float32,
normalize in float32), tokenization_gpt2.py (bytes_to_unicode, bpe, the pre-tokenizer pattern, decode) and
generation/utils.py (greedy search) and both of transformers' beam searches (hf_beam_search.py; spec "beam_impl").

make FOLDER SPEC: writes a tiny random checkpoint folder with the real key names and config fields: config.json,
  preprocessor_config.json, optional generation_config.json, vocab.json + merges.txt learnt on a small corpus,
  pytorch_model.bin (torch.save, with the attn.bias/masked_bias buffers, the unused pooler and lm_head tied) and/or
  model.safetensors (hand-written, without the tied head), and PNG images.
run FOLDER SPEC: prints JSON with the pixel values of the images, the logits of given decoder inputs, greedy and beam
  results, and the tokenizer's ids and decodes; with "train", one SGD step; with "fine_tune", an Adam loop over given
  epochs of batches (torch.optim.Adam, per-epoch rate decay, the encoder frozen, partly or fully trainable).
"""
import json
import math
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import regex
import torch
import torch.nn.functional as F
from PIL import Image

import hf_beam_search

PATTERN = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
EOT = "<|endoftext|>"


# ---------------------------------------------------------------- tokenizer (tokenization_gpt2.py)

def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_ENCODER = bytes_to_unicode()
BYTE_DECODER = {v: k for k, v in BYTE_ENCODER.items()}


def get_pairs(word):
    return {(word[i], word[i + 1]) for i in range(len(word) - 1)}


class Gpt2Tokenizer:
    def __init__(self, vocab, merges, clean_up):
        self.encoder = vocab
        self.decoder = {v: k for k, v in vocab.items()}
        self.ranks = {tuple(m.split()): i for i, m in enumerate(merges)}
        self.clean_up = clean_up
        self.special = {EOT}

    def bpe(self, token):
        word = tuple(token)
        pairs = get_pairs(word)
        if not pairs:
            return token
        while True:
            bigram = min(pairs, key=lambda pair: self.ranks.get(pair, float("inf")))
            if bigram not in self.ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new_word.extend(word[i:])
                    break
                else:
                    new_word.extend(word[i:j])
                    i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        return " ".join(word)

    def encode(self, text):
        ids = []
        # Added special tokens are cut out first (the tokens trie), then each piece is pre-tokenized and merged.
        pieces = text.split(EOT)
        for i, piece in enumerate(pieces):
            if i > 0:
                ids.append(self.encoder[EOT])
            for token in regex.findall(PATTERN, piece):
                token = "".join(BYTE_ENCODER[b] for b in token.encode("utf-8"))
                ids.extend(self.encoder[t] for t in self.bpe(token).split(" "))
        return ids

    def decode(self, ids, skip_special_tokens):
        tokens = []
        for i in ids:
            token = self.decoder[i]
            if skip_special_tokens and token in self.special:
                continue
            tokens.append(token)
        text = bytearray([BYTE_DECODER[c] for c in "".join(tokens)]).decode("utf-8", errors="replace")
        if self.clean_up:
            text = (text.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
                    .replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s").replace(" 've", "'ve").replace(" 're", "'re"))
        return text


def learn_bpe(corpus, merges_count):
    """A small byte-level BPE: the 256 byte symbols in GPT-2's order, then the most frequent pairs of the corpus."""
    vocab = OrderedDict((BYTE_ENCODER[b], None) for b in BYTE_ENCODER)
    words = {}
    for line in corpus:
        for token in regex.findall(PATTERN, line):
            word = tuple(BYTE_ENCODER[b] for b in token.encode("utf-8"))
            words[word] = words.get(word, 0) + 1
    merges = []
    for _ in range(merges_count):
        counts = {}
        for word, count in words.items():
            for pair in zip(word, word[1:]):
                counts[pair] = counts.get(pair, 0) + count
        if not counts:
            break
        best = max(sorted(counts), key=lambda p: counts[p])
        merges.append(best)
        vocab[best[0] + best[1]] = None
        merged = {}
        for word, count in words.items():
            out = []
            i = 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + count
        words = merged
    vocab[EOT] = None
    return {token: i for i, token in enumerate(vocab)}, [f"{a} {b}" for a, b in merges]


def pad_vocabulary(vocab, size):
    """Unreachable filler tokens after <|endoftext|>, so a benchmark's output layer has GPT-2's 50,257 rows."""
    vocab = dict(vocab)
    for i in range(len(vocab), size):
        vocab[f"<extra_{i}>"] = i
    return vocab


# ---------------------------------------------------------------- model (modeling_vit.py, modeling_gpt2.py)

def layer_norm(x, state, prefix, eps):
    return F.layer_norm(x, (x.shape[-1],), state[prefix + ".weight"], state[prefix + ".bias"], eps)


def linear(x, state, prefix):
    return F.linear(x, state[prefix + ".weight"], state.get(prefix + ".bias"))


def conv1d(x, state, prefix):
    size_out = x.size()[:-1] + (state[prefix + ".weight"].shape[1],)
    return torch.addmm(state[prefix + ".bias"], x.view(-1, x.size(-1)), state[prefix + ".weight"]).view(size_out)


def activation(name):
    if name == "gelu":
        return F.gelu
    if name in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == "relu":
        return F.relu
    raise ValueError(name)


def vit(state, cfg, pixel_values):
    p = "encoder."
    hidden, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    head = hidden // heads
    eps = cfg.get("layer_norm_eps", 1e-12)
    act = activation(cfg.get("hidden_act", "gelu"))
    x = F.conv2d(pixel_values, state[p + "embeddings.patch_embeddings.projection.weight"], state[p + "embeddings.patch_embeddings.projection.bias"],
                 stride=cfg["patch_size"]).flatten(2).transpose(1, 2)
    cls = state[p + "embeddings.cls_token"].expand(x.shape[0], -1, -1)
    x = torch.cat((cls, x), dim=1) + state[p + "embeddings.position_embeddings"]

    def split(t):
        return t.view(t.size()[:-1] + (heads, head)).permute(0, 2, 1, 3)

    for i in range(cfg["num_hidden_layers"]):
        q = f"{p}encoder.layer.{i}."
        h = layer_norm(x, state, q + "layernorm_before", eps)
        query, key, value = (split(linear(h, state, q + "attention.attention." + n)) for n in ("query", "key", "value"))
        scores = torch.matmul(query, key.transpose(-1, -2)) / math.sqrt(head)
        context = torch.matmul(F.softmax(scores, dim=-1), value).permute(0, 2, 1, 3).contiguous()
        context = context.view(context.size()[:-2] + (hidden,))
        x = linear(context, state, q + "attention.output.dense") + x
        h = layer_norm(x, state, q + "layernorm_after", eps)
        x = linear(act(linear(h, state, q + "intermediate.dense")), state, q + "output.dense") + x
    return layer_norm(x, state, p + "layernorm", eps)


class Gpt2:
    """GPT2LMHeadModel with cross-attention; past holds each layer's self-attention (key, value) as GPT-2's cache does,
    and the cross-attention keys and values are recomputed from the encoder states every step, as GPT-2 does."""

    def __init__(self, state, cfg):
        self.state, self.cfg = state, cfg
        self.n = cfg["n_embd"]
        self.heads = cfg["n_head"]
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        self.act = activation(cfg.get("activation_function", "gelu_new"))
        self.head_weight = state["decoder.transformer.wte.weight"] if cfg.get("tie_word_embeddings", True) else state["decoder.lm_head.weight"]

    def split(self, t):
        return t.view(t.size()[:-1] + (self.heads, self.n // self.heads)).permute(0, 2, 1, 3)

    def merge(self, t):
        t = t.permute(0, 2, 1, 3).contiguous()
        return t.view(t.size()[:-2] + (self.n,))

    def attn(self, query, key, value, layer, causal):
        w = torch.matmul(query, key.transpose(-1, -2))
        if self.cfg.get("scale_attn_weights", True):
            w = w / torch.full([], value.size(-1) ** 0.5, dtype=w.dtype)
        if self.cfg.get("scale_attn_by_inverse_layer_idx", False):
            w = w / float(layer + 1)
        if causal:
            q_len, k_len = query.size(-2), key.size(-2)
            mask = torch.tril(torch.ones((k_len, k_len), dtype=torch.bool))[k_len - q_len:k_len, :k_len]
            w = torch.where(mask, w.to(w.dtype), torch.full([], torch.finfo(w.dtype).min, dtype=w.dtype))
        return torch.matmul(F.softmax(w, dim=-1), value)

    def forward(self, ids, encoder_hidden, past):
        s, n = self.state, self.n
        past_len = 0 if past is None else past[0][0].size(-2)
        positions = torch.arange(past_len, past_len + ids.size(1)).unsqueeze(0)
        x = F.embedding(ids, s["decoder.transformer.wte.weight"]) + F.embedding(positions, s["decoder.transformer.wpe.weight"])
        presents = []
        for i in range(self.cfg["n_layer"]):
            p = f"decoder.transformer.h.{i}."
            h = layer_norm(x, s, p + "ln_1", self.eps)
            query, key, value = conv1d(h, s, p + "attn.c_attn").split(n, dim=2)
            query, key, value = self.split(query), self.split(key), self.split(value)
            if past is not None:
                key = torch.cat((past[i][0], key), dim=-2)
                value = torch.cat((past[i][1], value), dim=-2)
            presents.append((key, value))
            x = conv1d(self.merge(self.attn(query, key, value, i, True)), s, p + "attn.c_proj") + x
            h = layer_norm(x, s, p + "ln_cross_attn", self.eps)
            query = self.split(conv1d(h, s, p + "crossattention.q_attn"))
            key, value = conv1d(encoder_hidden, s, p + "crossattention.c_attn").split(n, dim=2)
            x = conv1d(self.merge(self.attn(query, self.split(key), self.split(value), i, False)), s, p + "crossattention.c_proj") + x
            h = layer_norm(x, s, p + "ln_2", self.eps)
            x = conv1d(self.act(conv1d(h, s, p + "mlp.c_fc")), s, p + "mlp.c_proj") + x
        x = layer_norm(x, s, "decoder.transformer.ln_f", self.eps)
        return F.linear(x, self.head_weight), presents


def encode_images(state, config, pixel_values):
    hidden = vit(state, config["encoder"], pixel_values)
    if "enc_to_dec_proj.weight" in state:
        hidden = linear(hidden, state, "enc_to_dec_proj")
    return hidden


# ---------------------------------------------------------------- generation (generation/utils.py, beam_search.py)

def greedy(decoder, encoder_hidden, start, eos, pad, max_length):
    batch = encoder_hidden.size(0)
    ids = torch.full((batch, 1), start, dtype=torch.long)
    unfinished = torch.ones(batch, dtype=torch.long)
    log_probs = torch.zeros(batch, dtype=torch.float64)
    past, step_input = None, ids
    while ids.size(1) < max_length:
        logits, past = decoder.forward(step_input, encoder_hidden, past)
        scores = logits[:, -1, :]
        next_tokens = torch.argmax(scores, dim=-1)
        chosen = F.log_softmax(scores, dim=-1).gather(1, next_tokens[:, None]).squeeze(1).double()
        log_probs += chosen * unfinished
        next_tokens = next_tokens * unfinished + pad * (1 - unfinished)
        ids = torch.cat([ids, next_tokens[:, None]], dim=-1)
        unfinished = unfinished & ~torch.isin(next_tokens, torch.tensor(eos)) if eos else unfinished
        if unfinished.max() == 0:
            break
        step_input = next_tokens[:, None]
    results = []
    for row in range(batch):
        tokens, finished = [], False
        for t in ids[row, 1:].tolist():
            if t in eos:
                finished = True
                break
            tokens.append(t)
        results.append({"tokens": tokens, "log_probability": log_probs[row].item(), "finished": finished})
    return results


def beam_search(decoder, encoder_hidden, start, eos, pad, max_length, num_beams, length_penalty, early_stopping, impl="vectorized"):
    """generate's beam search on GPT-2's KV cache (hf_beam_search.SEARCHES[impl]), starting from the decoder start."""
    batch = encoder_hidden.size(0)
    encoder_hidden = encoder_hidden.repeat_interleave(num_beams, dim=0)
    past = [None]

    def step(feed):
        logits, past[0] = decoder.forward(feed, encoder_hidden, past[0])
        return logits[:, -1, :]

    def reorder(rows):
        past[0] = [(k.index_select(0, rows), v.index_select(0, rows)) for k, v in past[0]]

    return hf_beam_search.SEARCHES[impl](step, reorder, torch.full((batch, 1), start, dtype=torch.long), eos, pad, max_length,
                                         num_beams, length_penalty, early_stopping)


# ---------------------------------------------------------------- fine-tuning (modeling_vision_encoder_decoder.py)

def shift_tokens_right(labels, pad, start):
    shifted = labels.new_zeros(labels.shape)
    shifted[:, 1:] = labels[:, :-1].clone()
    shifted[:, 0] = start
    shifted.masked_fill_(shifted == -100, pad)
    return shifted


def train_step(folder, config, state, train, images):
    """One SGD step on the VisionEncoderDecoderModel loss (labels = BPE ids + end token, -100 padding), encoder frozen or not."""
    vocab = json.load(open(os.path.join(folder, "vocab.json"), encoding="utf-8"))
    merges = [m for m in open(os.path.join(folder, "merges.txt"), encoding="utf-8").read().split("\n")[1:] if m]
    tok = Gpt2Tokenizer(vocab, merges, False)
    eot = config["eos_token_id"]
    labels = [tok.encode(c) + [eot] for c in train["captions"]]
    length = max(len(l) for l in labels)
    labels = torch.tensor([l + [-100] * (length - len(l)) for l in labels], dtype=torch.long)
    trainable = [k for k, v in state.items() if v.dtype == torch.float32 and v.dim() > 0 and not k.startswith("encoder.pooler.")
                 and k != "decoder.lm_head.weight" and (train["train_encoder"] or not k.startswith("encoder."))]
    state = {k: (v.clone().requires_grad_(k in trainable) if v.dtype == torch.float32 else v) for k, v in state.items()}
    pixels = preprocess(folder, [os.path.join(folder, p) for p in images])
    hidden = encode_images(state, config, pixels)
    decoder = Gpt2(state, config["decoder"])
    logits, _ = decoder.forward(shift_tokens_right(labels, config["pad_token_id"], config["decoder_start_token_id"]), hidden, None)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.view(-1))
    optimizer = torch.optim.SGD([state[k] for k in trainable], lr=train["lr"])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"loss": loss.item(), "parameters": {k: state[k].detach().flatten().tolist() for k in trainable}}


def fine_tune(folder, config, state, spec):
    """Adam over the given epochs of batches ([image file, caption] rows), the rates decayed per epoch; the encoder frozen
    ("Frozen"), trainable ("All") or its last N layers and final layer norm (an int); the trainable encoder parameters in
    a second group at encoder_lr. Returns each step's loss and the trainable parameters at the end."""
    vocab = json.load(open(os.path.join(folder, "vocab.json"), encoding="utf-8"))
    merges = [m for m in open(os.path.join(folder, "merges.txt"), encoding="utf-8").read().split("\n")[1:] if m]
    tok = Gpt2Tokenizer(vocab, merges, False)
    eot = config["eos_token_id"]
    encoder, layers = spec["encoder"], config["encoder"]["num_hidden_layers"]

    def trains(k):
        if not k.startswith("encoder.") or encoder == "All":
            return True
        if encoder == "Frozen":
            return False
        return k.startswith("encoder.layernorm.") or any(k.startswith(f"encoder.encoder.layer.{i}.") for i in range(layers - encoder, layers))

    trainable = [k for k, v in state.items() if v.dtype == torch.float32 and v.dim() > 0 and not k.startswith("encoder.pooler.")
                 and k != "decoder.lm_head.weight" and trains(k)]
    state = {k: (v.clone().requires_grad_(k in trainable) if v.dtype == torch.float32 else v) for k, v in state.items()}
    groups = [{"params": [state[k] for k in trainable if not k.startswith("encoder.")], "lr": spec["lr"]}]
    if any(k.startswith("encoder.") for k in trainable):
        groups.append({"params": [state[k] for k in trainable if k.startswith("encoder.")], "lr": spec.get("encoder_lr", spec["lr"])})
    rates = [g["lr"] for g in groups]
    optimizer = torch.optim.Adam(groups, lr=spec["lr"], betas=(spec["beta1"], spec["beta2"]), eps=spec["eps"])
    decoder = Gpt2(state, config["decoder"])
    losses = []
    for epoch, batches in enumerate(spec["epochs"]):
        for group, rate in zip(optimizer.param_groups, rates):
            group["lr"] = rate * spec["decay"] ** epoch
        for batch in batches:
            labels = [tok.encode(caption) + [eot] for _, caption in batch]
            length = max(len(l) for l in labels)
            labels = torch.tensor([l + [-100] * (length - len(l)) for l in labels], dtype=torch.long)
            pixels = preprocess(folder, [os.path.join(folder, image) for image, _ in batch])
            hidden = encode_images(state, config, pixels)
            logits, _ = decoder.forward(shift_tokens_right(labels, config["pad_token_id"], config["decoder_start_token_id"]), hidden, None)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.view(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return {"losses": losses, "parameters": {k: state[k].detach().flatten().tolist() for k in trainable}}


# ---------------------------------------------------------------- image processor (image_processing_vit.py)

def preprocess(folder, paths):
    pre = json.load(open(os.path.join(folder, "preprocessor_config.json")))
    size = pre.get("size", 224)
    height, width = (size, size) if isinstance(size, int) else (size["height"], size["width"])
    out = []
    for path in paths:
        image = Image.open(path).convert("RGB")
        if pre.get("do_resize", True) and image.size != (width, height):
            image = image.resize((width, height), resample=pre.get("resample", 2), reducing_gap=None)
        x = np.array(image)
        if pre.get("do_rescale", True):
            x = (x.astype(np.float64) * pre.get("rescale_factor", 1 / 255)).astype(np.float32)
        if pre.get("do_normalize", True):
            mean = np.array(pre.get("image_mean", [0.5, 0.5, 0.5]), dtype=x.dtype)
            std = np.array(pre.get("image_std", [0.5, 0.5, 0.5]), dtype=x.dtype)
            x = (x - mean) / std
        out.append(x.transpose(2, 0, 1))
    return torch.from_numpy(np.stack(out))


# ---------------------------------------------------------------- checkpoint files

CORPUS = [
    "a man riding a horse on the beach", "a dog is running through the grass", "two people are sitting on a bench",
    "a woman holding an umbrella in the rain", "the cat sleeps on the red sofa", "children playing football in the park",
    "café au lait et crème brûlée, déjà vu", "naïve façade über straße", "emoji 🐶 and 🐱 are friends 👍",
    "it's they're we've I'm don't can't", "12 apples and 345 oranges, 3.14", "   spaces   and\ttabs\nnew lines",
]


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for key, t in tensors.items():
        data = t.contiguous().numpy().astype("<f4").tobytes()
        header[key] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def make(folder, spec):
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(spec.get("seed", 0))
    vocab, merges = learn_bpe(CORPUS, spec.get("merges", 150))
    if "vocab_size" in spec:
        vocab = pad_vocabulary(vocab, spec["vocab_size"])
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
    eot = vocab[EOT]
    enc = spec["encoder"]
    dec = dict(spec["decoder"])
    dec.update({"vocab_size": len(vocab), "bos_token_id": eot, "eos_token_id": eot, "add_cross_attention": True, "model_type": "gpt2",
                "architectures": ["GPT2LMHeadModel"], "is_decoder": True})
    enc = dict(enc, model_type="vit", architectures=["ViTModel"])
    config = {"architectures": ["VisionEncoderDecoderModel"], "model_type": "vision-encoder-decoder", "is_encoder_decoder": True,
              "encoder": enc, "decoder": dec, "decoder_start_token_id": eot, "pad_token_id": eot, "eos_token_id": eot,
              "tie_word_embeddings": False, "transformers_version": "4.40.0"}
    config.update(spec.get("top_level", {}))
    json.dump(config, open(os.path.join(folder, "config.json"), "w"), indent=2)
    json.dump(spec["preprocessor"], open(os.path.join(folder, "preprocessor_config.json"), "w"), indent=2)
    if "generation" in spec:
        json.dump(spec["generation"], open(os.path.join(folder, "generation_config.json"), "w"), indent=2)

    # Weights drawn with std scale / sqrt(fan-in) keep the activations of order one (a well-conditioned float32
    # model, so that 1e-5 is a fair tolerance); embeddings are drawn wider, so that the tied head's logits are spread.
    scale = spec.get("scale", 1.0)
    embedding_scale = spec.get("embedding_scale", 0.7)
    state = OrderedDict()

    def param(key, *shape, fan_in=None):
        std = embedding_scale if fan_in is None else scale / math.sqrt(fan_in)
        state[key] = torch.randn(*shape) * std

    h, patch, ch = enc["hidden_size"], enc["patch_size"], enc.get("num_channels", 3)
    positions = (enc["image_size"] // patch) ** 2 + 1
    param("encoder.embeddings.cls_token", 1, 1, h)
    param("encoder.embeddings.position_embeddings", 1, positions, h)
    param("encoder.embeddings.patch_embeddings.projection.weight", h, ch, patch, patch, fan_in=ch * patch * patch)
    param("encoder.embeddings.patch_embeddings.projection.bias", h, fan_in=100)
    for i in range(enc["num_hidden_layers"]):
        p = f"encoder.encoder.layer.{i}."
        for n in ("query", "key", "value"):
            param(p + f"attention.attention.{n}.weight", h, h, fan_in=h)
            param(p + f"attention.attention.{n}.bias", h, fan_in=100)
        param(p + "attention.output.dense.weight", h, h, fan_in=h)
        param(p + "attention.output.dense.bias", h, fan_in=100)
        param(p + "intermediate.dense.weight", enc["intermediate_size"], h, fan_in=h)
        param(p + "intermediate.dense.bias", enc["intermediate_size"], fan_in=100)
        param(p + "output.dense.weight", h, enc["intermediate_size"], fan_in=enc["intermediate_size"])
        param(p + "output.dense.bias", h, fan_in=100)
        for n in ("layernorm_before", "layernorm_after"):
            state[p + n + ".weight"] = 1 + torch.randn(h) * 0.1
            state[p + n + ".bias"] = torch.randn(h) * 0.1
    state["encoder.layernorm.weight"] = 1 + torch.randn(h) * 0.1
    state["encoder.layernorm.bias"] = torch.randn(h) * 0.1
    param("encoder.pooler.dense.weight", h, h, fan_in=h)
    param("encoder.pooler.dense.bias", h, fan_in=100)
    n, inner, npos, V = dec["n_embd"], dec.get("n_inner") or 4 * dec["n_embd"], dec["n_positions"], len(vocab)
    if h != n:
        param("enc_to_dec_proj.weight", n, h, fan_in=h)
        param("enc_to_dec_proj.bias", n, fan_in=100)
    param("decoder.transformer.wte.weight", V, n)
    param("decoder.transformer.wpe.weight", npos, n)
    for i in range(dec["n_layer"]):
        p = f"decoder.transformer.h.{i}."
        for ln in ("ln_1", "ln_cross_attn", "ln_2"):
            state[p + ln + ".weight"] = 1 + torch.randn(n) * 0.1
            state[p + ln + ".bias"] = torch.randn(n) * 0.1
        state[p + "attn.bias"] = torch.tril(torch.ones((npos, npos), dtype=torch.bool)).view(1, 1, npos, npos)
        state[p + "attn.masked_bias"] = torch.tensor(-1e4)
        param(p + "attn.c_attn.weight", n, 3 * n, fan_in=n)
        param(p + "attn.c_attn.bias", 3 * n, fan_in=100)
        param(p + "attn.c_proj.weight", n, n, fan_in=n)
        param(p + "attn.c_proj.bias", n, fan_in=100)
        state[p + "crossattention.bias"] = torch.tril(torch.ones((npos, npos), dtype=torch.bool)).view(1, 1, npos, npos)
        state[p + "crossattention.masked_bias"] = torch.tensor(-1e4)
        param(p + "crossattention.c_attn.weight", n, 2 * n, fan_in=n)
        param(p + "crossattention.c_attn.bias", 2 * n, fan_in=100)
        param(p + "crossattention.q_attn.weight", n, n, fan_in=n)
        param(p + "crossattention.q_attn.bias", n, fan_in=100)
        param(p + "crossattention.c_proj.weight", n, n, fan_in=n)
        param(p + "crossattention.c_proj.bias", n, fan_in=100)
        param(p + "mlp.c_fc.weight", n, inner, fan_in=n)
        param(p + "mlp.c_fc.bias", inner, fan_in=100)
        param(p + "mlp.c_proj.weight", inner, n, fan_in=inner)
        param(p + "mlp.c_proj.bias", n, fan_in=100)
    state["decoder.transformer.ln_f.weight"] = 1 + torch.randn(n) * 0.1
    state["decoder.transformer.ln_f.bias"] = torch.randn(n) * 0.1
    # Scaling the end token's embedding row (the tied head's row) makes captions end at varied lengths.
    state["decoder.transformer.wte.weight"][eot] *= spec.get("eos_scale", 1.0)
    state["decoder.lm_head.weight"] = state["decoder.transformer.wte.weight"]  # tied: one storage, as HF saves it
    if "bin" in spec.get("formats", ["bin"]):
        torch.save(state, os.path.join(folder, "pytorch_model.bin"))
    if "safetensors" in spec.get("formats", ["bin"]):
        write_safetensors(os.path.join(folder, "model.safetensors"),
                          OrderedDict((k, v) for k, v in state.items() if v.dtype == torch.float32 and v.dim() > 0 and k != "decoder.lm_head.weight"))
    rng = np.random.RandomState(spec.get("seed", 0))
    for i, (w, hgt) in enumerate(spec.get("images", [])):
        pixels = rng.randint(0, 256, size=(hgt, w, 3), dtype=np.uint8)
        Image.fromarray(pixels, "RGB").save(os.path.join(folder, f"image{i}.png"))
    print(json.dumps({"vocab_size": len(vocab), "eot": eot}))


def load_state(folder):
    path = os.path.join(folder, "pytorch_model.bin")
    if os.path.exists(path):
        return torch.load(path)
    with open(os.path.join(folder, "model.safetensors"), "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(length))
        data = f.read()
    return {k: torch.from_numpy(np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype="<f4").copy()).view(v["shape"])
            for k, v in header.items() if k != "__metadata__"}


def run(folder, spec):
    config = json.load(open(os.path.join(folder, "config.json")))
    state = load_state(folder)
    gen_path = os.path.join(folder, "generation_config.json")
    gen = json.load(open(gen_path)) if os.path.exists(gen_path) else dict(config)
    start = gen.get("decoder_start_token_id", gen.get("bos_token_id"))
    eos = gen.get("eos_token_id")
    eos = [] if eos is None else eos if isinstance(eos, list) else [eos]
    pad = gen.get("pad_token_id", eos[0] if eos else start)
    max_length = spec.get("max_length", gen.get("max_length", 20))
    num_beams = spec.get("num_beams", gen.get("num_beams", 1))
    length_penalty = spec.get("length_penalty", gen.get("length_penalty", 1.0))
    early_stopping = spec.get("early_stopping", gen.get("early_stopping", False))
    out = {}
    with torch.no_grad():
        pixels = preprocess(folder, [os.path.join(folder, p) for p in spec["images"]])
        out["pixel_values"] = pixels.flatten().tolist()
        hidden = encode_images(state, config, pixels)
        decoder = Gpt2(state, config["decoder"])
        if "decoder_input_ids" in spec:
            ids = torch.tensor(spec["decoder_input_ids"], dtype=torch.long)
            logits, _ = decoder.forward(ids, hidden, None)
            out["logits"] = logits.flatten().tolist()
            # The same logits through the cache one token at a time, as generation computes them.
            past, steps = None, []
            for t in range(ids.size(1)):
                step_logits, past = decoder.forward(ids[:, t:t + 1], hidden, past)
                steps.append(step_logits)
            out["cached_logits_max_difference"] = (torch.cat(steps, dim=1) - logits).abs().max().item()
            # The exact values the float32 logits approximate: float32 kernels (oneDNN's convolution here, libtorch's
            # im2col where oneDNN is off) each round in their own order.
            state64 = {k: v.double() if v.dtype == torch.float32 else v for k, v in state.items()}
            logits64, _ = Gpt2(state64, config["decoder"]).forward(ids, encode_images(state64, config, pixels.double()), None)
            out["logits_float64"] = logits64.flatten().tolist()
        out["greedy"] = greedy(decoder, hidden, start, eos, pad, max_length)
        out["beam"] = beam_search(decoder, hidden, start, eos, pad, max_length, max(num_beams, 2), length_penalty, early_stopping,
                                  spec.get("beam_impl", "vectorized"))
        vocab = json.load(open(os.path.join(folder, "vocab.json"), encoding="utf-8"))
        merges = [m for m in open(os.path.join(folder, "merges.txt"), encoding="utf-8").read().split("\n")[1:] if m]
        tok_cfg_path = os.path.join(folder, "tokenizer_config.json")
        clean = json.load(open(tok_cfg_path)).get("clean_up_tokenization_spaces", False) if os.path.exists(tok_cfg_path) else False
        tok = Gpt2Tokenizer(vocab, merges, clean)
        out["beam_texts"] = [tok.decode(r["tokens"], True) for r in out["beam"]]
        out["defaults"] = {"max_length": max_length, "num_beams": num_beams, "start": start, "eos": eos, "pad": pad}
    if "train" in spec:
        out["train"] = train_step(folder, config, state, spec["train"], spec["images"])
    if "fine_tune" in spec:
        out["fine_tune"] = fine_tune(folder, config, state, spec["fine_tune"])
    if "texts" in spec:
        for clean_up in (False, True):
            tok = Gpt2Tokenizer(vocab, merges, clean_up)
            out[f"tokenizer_{clean_up}"] = {
                "ids": [tok.encode(t) for t in spec["texts"]],
                "decoded": [tok.decode(ids, True) for ids in spec["decode_ids"]],
                "decoded_with_special": [tok.decode(ids, False) for ids in spec["decode_ids"]],
            }
    print(json.dumps(out))


class Hostile:
    """A pickle that would run a shell command when unpickled by pickle itself; the library's reader must refuse it."""

    def __reduce__(self):
        return (os.system, ("touch " + os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(OUT_PATH))), "pwned"),))


def hostile(path, _spec):
    global OUT_PATH
    OUT_PATH = path
    torch.save({"decoder.transformer.wte.weight": torch.zeros(2, 2), "payload": Hostile()}, path)


OUT_PATH = ""


if __name__ == "__main__":
    torch.set_num_threads(1)
    command, folder, spec_path = sys.argv[1], sys.argv[2], sys.argv[3]
    if command == "hostile":
        hostile(folder, None)
    else:
        spec = json.load(open(spec_path, encoding="utf-8"))
        {"make": make, "run": run}[command](folder, spec)
