"""BLIP image captioning (Hugging Face BlipForConditionalGeneration) in plain PyTorch, as the reference for the
library's Pretrained/Blip code. transformers itself is not installable here, so this follows its source:

- modeling_blip.py: BlipVisionEmbeddings (patch conv with bias, class embedding, position embedding), pre-LN
  BlipEncoderLayer (fused qkv, scale head_dim**-0.5, exact GELU MLP, layer_norm_eps), post_layernorm on the whole
  last hidden state; BlipForConditionalGeneration.generate (input_ids[:, 0] = bos_token_id, the prompt's final [SEP]
  dropped, sep_token_id as the end, pad_token_id as the pad).
- modeling_blip_text.py: BlipTextEmbeddings (word + absolute position, LayerNorm), post-LN BlipTextLayer (causal
  self-attention with the additive -10000 mask, cross-attention to the image, GELU intermediate), BlipTextLMPredictionHead
  (dense + GELU + LayerNorm, decoder tied to the word embeddings, bias).
- generation/utils.py: greedy (_sample without sampling) on a KV cache, and both of transformers' beam searches
  (hf_beam_search.py: the vectorised one of 4.49 on, BeamSearchScorer of 4.36-4.48; spec "beam_impl").
- image_processing_blip.py: PIL resize (BICUBIC), rescale in float64 then float32, normalize in float32.
- tokenization_bert.py: BasicTokenizer, WordpieceTokenizer and the slow tokenizer's decode with clean-up.

Commands:
  make DIR SPEC.json     writes a tiny random checkpoint folder with the real key names and config fields
  run DIR SPEC.json      prints the logits, vision output, greedy and beam generations for SPEC's inputs
  preprocess RAW W H PREPROCESSOR_CONFIG.json [PNG]   prints the processor's resized bytes and pixel values
  tokenize DIR SPEC.json prints ids and decoded texts for SPEC's texts
  train DIR SPEC.json    prints the loss and the parameters after one SGD step of fine-tuning
  fine_tune DIR SPEC.json prints each step's loss and the trainable parameters after an Adam loop over SPEC's batches
                         of [image file, caption] rows, the loss BlipForConditionalGeneration.forward(labels=...) computes
"""
import collections
import json
import math
import os
import struct
import sys
import unicodedata

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import hf_beam_search


def encode(t):
    t = t.detach()
    if t.dtype in (torch.int64, torch.int32, torch.bool):
        return {"shape": list(t.shape), "dtype": "int64", "data": t.reshape(-1).long().tolist()}
    return {"shape": list(t.shape), "dtype": "float32", "data": t.float().reshape(-1).tolist()}


def tensor(spec):
    dtype = {"float32": torch.float32, "int64": torch.int64}[spec["dtype"]]
    return torch.tensor(spec["data"], dtype=dtype).reshape(spec["shape"])


def activation(name):
    if name == "gelu":
        return lambda x: F.gelu(x)
    raise ValueError(name)


# ---------------------------------------------------------------- vision (modeling_blip.py)

class VisionEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["hidden_size"]
        self.class_embedding = nn.Parameter(torch.zeros(1, 1, d))
        self.patch_embedding = nn.Conv2d(3, d, kernel_size=c["patch_size"], stride=c["patch_size"])
        positions = (c["image_size"] // c["patch_size"]) ** 2 + 1
        self.position_embedding = nn.Parameter(torch.zeros(1, positions, d))

    def forward(self, pixel_values):
        b = pixel_values.shape[0]
        patch = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(b, 1, -1)
        x = torch.cat([cls, patch], dim=1)
        return x + self.position_embedding[:, : x.size(1), :]


class VisionAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.d, self.h = c["hidden_size"], c["num_attention_heads"]
        self.scale = (self.d // self.h) ** -0.5
        self.qkv = nn.Linear(self.d, 3 * self.d)
        self.projection = nn.Linear(self.d, self.d)

    def forward(self, x):
        b, t, d = x.size()
        qkv = self.qkv(x).reshape(b, t, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = torch.matmul(q, k.transpose(-1, -2)) * self.scale
        probs = F.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(b, t, d)
        return self.projection(ctx)


class VisionMlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.act = activation(c["hidden_act"])
        self.fc1 = nn.Linear(c["hidden_size"], c["intermediate_size"])
        self.fc2 = nn.Linear(c["intermediate_size"], c["hidden_size"])

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class VisionLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, eps = c["hidden_size"], c["layer_norm_eps"]
        self.self_attn = VisionAttention(c)
        self.layer_norm1 = nn.LayerNorm(d, eps=eps)
        self.mlp = VisionMlp(c)
        self.layer_norm2 = nn.LayerNorm(d, eps=eps)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class VisionEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layers = nn.ModuleList([VisionLayer(c) for _ in range(c["num_hidden_layers"])])


class VisionModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = VisionEmbeddings(c)
        self.encoder = VisionEncoder(c)
        self.post_layernorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, pixel_values):
        x = self.embeddings(pixel_values)
        for layer in self.encoder.layers:
            x = layer(x)
        return self.post_layernorm(x)


# ---------------------------------------------------------------- text decoder (modeling_blip_text.py)

class TextEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, input_ids, past_length):
        positions = torch.arange(past_length, past_length + input_ids.size(1)).unsqueeze(0)
        return self.LayerNorm(self.word_embeddings(input_ids) + self.position_embeddings(positions))


class SelfAttention(nn.Module):
    def __init__(self, c, cross):
        super().__init__()
        self.h = c["num_attention_heads"]
        self.dh = c["hidden_size"] // self.h
        source = c["encoder_hidden_size"] if cross else c["hidden_size"]
        self.query = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.key = nn.Linear(source, c["hidden_size"])
        self.value = nn.Linear(source, c["hidden_size"])

    def heads(self, x):
        b = x.size(0)
        return x.view(b, -1, self.h, self.dh).transpose(1, 2)

    def forward(self, x, mask, keys, values):
        b = x.size(0)
        q = self.heads(self.query(x))
        scores = torch.matmul(q, keys.transpose(-1, -2)) / math.sqrt(self.dh)
        if mask is not None:
            scores = scores + mask
        probs = nn.Softmax(dim=-1)(scores)
        ctx = torch.matmul(probs, values).permute(0, 2, 1, 3).contiguous()
        return ctx.view(b, -1, self.h * self.dh)


class AttentionOutput(nn.Module):
    def __init__(self, c, inner):
        super().__init__()
        self.dense = nn.Linear(inner, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, h, residual):
        return self.LayerNorm(self.dense(h) + residual)


class TextAttention(nn.Module):
    def __init__(self, c, cross):
        super().__init__()
        self.self = SelfAttention(c, cross)
        self.output = AttentionOutput(c, c["hidden_size"])


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])
        self.act = activation(c["hidden_act"])

    def forward(self, x):
        return self.act(self.dense(x))


class TextLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = TextAttention(c, False)
        self.crossattention = TextAttention(c, True)
        self.intermediate = Intermediate(c)
        self.output = AttentionOutput(c, c["intermediate_size"])

    def forward(self, x, mask, cache, image_keys, image_values):
        a = self.attention.self
        k, v = a.heads(a.key(x)), a.heads(a.value(x))
        if cache is not None:
            if cache[0] is not None:
                k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
            cache[0], cache[1] = k, v
        x = self.attention.output(a(x, mask, k, v), x)
        x = self.crossattention.output(self.crossattention.self(x, None, image_keys, image_values), x)
        return self.output(self.intermediate(x), x)


class TextEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([TextLayer(c) for _ in range(c["num_hidden_layers"])])


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = TextEmbeddings(c)
        self.encoder = TextEncoder(c)


class Transform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.act = activation(c["hidden_act"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, x):
        return self.LayerNorm(self.act(self.dense(x)))


class Predictions(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transform = Transform(c)
        self.decoder = nn.Linear(c["hidden_size"], c["vocab_size"], bias=True)
        self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))
        self.decoder.bias = self.bias


class Cls(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.predictions = Predictions(c)


class TextDecoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = Bert(c)
        self.cls = Cls(c)
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight

    def image_keys_values(self, image_embeds):
        out = []
        for layer in self.bert.encoder.layer:
            a = layer.crossattention.self
            out.append((a.heads(a.key(image_embeds)), a.heads(a.value(image_embeds))))
        return out

    def forward(self, input_ids, image_kv, attention_mask=None, caches=None, past_length=0):
        """Logits [B, T, V]; with caches, the self-attention keys/values of earlier positions are used and grown."""
        b, t = input_ids.shape
        total = past_length + t
        if attention_mask is None:
            attention_mask = torch.ones(b, total)
        seq_ids = torch.arange(t)
        causal = (seq_ids[None, None, :].repeat(b, t, 1) <= seq_ids[None, :, None]).to(attention_mask.dtype)
        if causal.shape[1] < attention_mask.shape[1]:
            prefix = attention_mask.shape[1] - causal.shape[1]
            causal = torch.cat([torch.ones(b, t, prefix, dtype=causal.dtype), causal], dim=-1)
        mask = causal[:, None, :, :] * attention_mask[:, None, None, :]
        mask = (1.0 - mask.float()) * -10000.0
        x = self.bert.embeddings(input_ids, past_length)
        for i, layer in enumerate(self.bert.encoder.layer):
            x = layer(x, mask, None if caches is None else caches[i], image_kv[i][0], image_kv[i][1])
        p = self.cls.predictions
        return p.decoder(p.transform(x))


class Blip(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.vision_model = VisionModel(config["vision_config"])
        self.text_decoder = TextDecoder(config["text_config"])


# ---------------------------------------------------------------- generation (generation/utils.py)

def prompt_ids(model, batch, input_ids):
    tc = model.config["text_config"]
    if input_ids is None:
        input_ids = torch.tensor([[tc["bos_token_id"], tc["eos_token_id"]]]).repeat(batch, 1)
    input_ids = input_ids.clone()
    input_ids[:, 0] = tc["bos_token_id"]
    return input_ids[:, :-1]


def greedy(model, image_embeds, input_ids, max_length, min_length=0):
    tc = model.config["text_config"]
    eos, pad = tc["sep_token_id"], tc["pad_token_id"]
    dec = model.text_decoder
    image_kv = dec.image_keys_values(image_embeds)
    caches = [[None, None] for _ in dec.bert.encoder.layer]
    b, cur_len = input_ids.shape
    unfinished = torch.ones(b, dtype=torch.long)
    logprob = torch.zeros(b, dtype=torch.float64)
    feed, past = input_ids, 0
    while cur_len < max_length:
        logits = dec(feed, image_kv, caches=caches, past_length=past)[:, -1, :].float()
        past += feed.size(1)
        if cur_len < min_length:
            logits[:, eos] = -float("inf")
        next_tokens = torch.argmax(logits, dim=-1)
        step = F.log_softmax(logits, dim=-1).gather(1, next_tokens[:, None])[:, 0]
        logprob += step.double() * unfinished
        next_tokens = next_tokens * unfinished + pad * (1 - unfinished)
        input_ids = torch.cat([input_ids, next_tokens[:, None]], dim=-1)
        cur_len += 1
        unfinished = unfinished & (next_tokens != eos).long()
        feed = next_tokens[:, None]
        if unfinished.max() == 0:
            break
    return input_ids, logprob


def beam_search(model, image_embeds, input_ids, max_length, num_beams, length_penalty, early_stopping, min_length=0, impl="vectorized"):
    """generate's beam search on the text decoder's KV cache (hf_beam_search.SEARCHES[impl]): per image, the tokens
    after the prompt, whether [SEP] ended them, the score and the summed log probability."""
    tc = model.config["text_config"]
    dec = model.text_decoder
    # generate() expands the encoder states and the prompt by num_beams (image-major).
    image_kv = dec.image_keys_values(image_embeds.repeat_interleave(num_beams, 0))
    caches = [[None, None] for _ in dec.bert.encoder.layer]
    past = [0]

    def step(feed):
        logits = dec(feed, image_kv, caches=caches, past_length=past[0])[:, -1, :]
        past[0] += feed.size(1)
        return logits

    def reorder(rows):
        for cache in caches:
            cache[0], cache[1] = cache[0].index_select(0, rows), cache[1].index_select(0, rows)

    return hf_beam_search.SEARCHES[impl](step, reorder, input_ids, [tc["sep_token_id"]], tc["pad_token_id"], max_length,
                                         num_beams, length_penalty, early_stopping, min_length)


def trim(sequences, eos, prompt_len):
    """Each row up to and including its first end token after the prompt (HF pads the rest), else the whole row."""
    rows = []
    for row in (sequences.tolist() if torch.is_tensor(sequences) else sequences):
        tail = row[prompt_len:]
        rows.append(row[: prompt_len + tail.index(eos) + 1] if eos in tail else row)
    return rows


# ---------------------------------------------------------------- checkpoint writing

def safetensors_save(path, tensors):
    header = {}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def make(folder, spec):
    torch.manual_seed(spec.get("seed", 0))
    os.makedirs(folder, exist_ok=True)
    vocab = spec["vocab"]
    with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    v, t = spec["vision"], spec["text"]
    vision_config = {
        "hidden_size": v["hidden"], "intermediate_size": v["intermediate"], "num_hidden_layers": v["layers"],
        "num_attention_heads": v["heads"], "image_size": v["image"], "patch_size": v["patch"], "hidden_act": "gelu",
        "layer_norm_eps": v["eps"], "attention_dropout": 0.0, "initializer_range": 0.02, "model_type": "blip_vision_model",
    }
    dec_id = len(vocab)
    text_config = {
        "vocab_size": len(vocab) + 2, "hidden_size": t["hidden"], "encoder_hidden_size": v["hidden"],
        "intermediate_size": t["intermediate"], "num_hidden_layers": t["layers"], "num_attention_heads": t["heads"],
        "max_position_embeddings": t["positions"], "hidden_act": "gelu", "layer_norm_eps": t["eps"],
        "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "is_decoder": True, "use_cache": True,
        "pad_token_id": vocab.index("[PAD]"), "bos_token_id": dec_id, "eos_token_id": vocab.index("[SEP]") if spec.get("eos_is_sep") else 2,
        "sep_token_id": vocab.index("[SEP]"), "model_type": "blip_text_model",
    }
    text_config.update(spec.get("text_extra", {}))
    config = {
        "architectures": ["BlipForConditionalGeneration"], "model_type": "blip", "projection_dim": 512,
        "initializer_factor": 1.0, "initializer_range": 0.02, "logit_scale_init_value": 2.6592,
        "text_config": text_config, "vision_config": vision_config, "torch_dtype": "float32",
        "transformers_version": "4.26.0.dev0",
    }
    config.update(spec.get("config_extra", {}))
    json.dump(config, open(os.path.join(folder, "config.json"), "w"), indent=2)
    json.dump({
        "do_normalize": True, "do_rescale": True, "do_resize": True, "do_convert_rgb": True,
        "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
        "image_processor_type": "BlipImageProcessor", "processor_class": "BlipProcessor", "resample": 3,
        "rescale_factor": 0.00392156862745098, "size": {"height": v["image"], "width": v["image"]},
    }, open(os.path.join(folder, "preprocessor_config.json"), "w"), indent=2)
    json.dump({"do_lower_case": True, "model_max_length": 512, "tokenizer_class": "BertTokenizer",
               "bos_token": "[DEC]", "sep_token": "[SEP]", "cls_token": "[CLS]", "pad_token": "[PAD]",
               "unk_token": "[UNK]", "mask_token": "[MASK]"},
              open(os.path.join(folder, "tokenizer_config.json"), "w"), indent=2)
    json.dump({"[DEC]": dec_id, "[ENC]": dec_id + 1}, open(os.path.join(folder, "added_tokens.json"), "w"))
    json.dump({"bos_token": "[DEC]", "cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]",
               "sep_token": "[SEP]", "unk_token": "[UNK]", "additional_special_tokens": ["[ENC]"]},
              open(os.path.join(folder, "special_tokens_map.json"), "w"))

    model = Blip(config)
    std = spec.get("std", 0.3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or "layer_norm" in name or "post_layernorm" in name:
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.1 * torch.randn_like(p))
            else:
                p.normal_(0.0, std)
        # A larger end-token bias lets the tiny random model finish some captions before the length limit.
        model.text_decoder.cls.predictions.bias[text_config["sep_token_id"]] += spec.get("sep_bias", 0.0)
    state = collections.OrderedDict((k, v.clone()) for k, v in model.state_dict().items())
    if spec.get("write_bin", True):
        # HF's torch.save keeps the tied copies and the persistent position_ids buffer of older versions.
        with_buffer = collections.OrderedDict(state)
        with_buffer["text_decoder.bert.embeddings.position_ids"] = torch.arange(t["positions"]).expand((1, -1)).clone()
        torch.save(with_buffer, os.path.join(folder, "pytorch_model.bin"))
    if spec.get("write_safetensors", True):
        # save_pretrained drops the shared copies: the decoder weight and bias live under their tied names only.
        tied = {"text_decoder.cls.predictions.decoder.weight", "text_decoder.cls.predictions.decoder.bias"}
        safetensors_save(os.path.join(folder, "model.safetensors"), {k: v for k, v in state.items() if k not in tied})
    if spec.get("images"):
        from PIL import Image
        rng = np.random.RandomState(spec.get("seed", 0))
        for i, (w, h) in enumerate(spec["images"]):
            Image.fromarray(rng.randint(0, 256, size=(h, w, 3), dtype=np.uint8), "RGB").save(os.path.join(folder, f"image{i}.png"))


def load(folder):
    config = json.load(open(os.path.join(folder, "config.json")))
    model = Blip(config)
    state = torch.load(os.path.join(folder, "pytorch_model.bin"))
    state.pop("text_decoder.bert.embeddings.position_ids", None)
    model.load_state_dict(state)
    model.eval()
    return model


def run(folder, spec):
    torch.set_num_threads(1)
    model = load(folder)
    out = {}
    with torch.no_grad():
        pixel_values = tensor(spec["pixel_values"])
        image_embeds = model.vision_model(pixel_values)
        out["image_embeds"] = encode(image_embeds)
        if "input_ids" in spec:
            ids = tensor(spec["input_ids"])
            mask = tensor(spec["attention_mask"]).float() if "attention_mask" in spec else None
            kv = model.text_decoder.image_keys_values(image_embeds)
            out["logits"] = encode(model.text_decoder(ids, kv, attention_mask=mask))
        prompt = tensor(spec["prompt_ids"]) if "prompt_ids" in spec else None
        if prompt is not None and prompt.size(0) == 1:
            prompt = prompt.repeat(pixel_values.size(0), 1)
        start = prompt_ids(model, pixel_values.size(0), prompt)
        max_length = spec["max_length"]
        eos = model.config["text_config"]["sep_token_id"]
        min_length = spec.get("min_length", 0)
        seqs, logprob = greedy(model, image_embeds, start, max_length, min_length)
        out["greedy"] = trim(seqs, eos, start.size(1))
        out["greedy_logprob"] = logprob.tolist()
        for beams in spec.get("beams", []):
            found = beam_search(model, image_embeds, start, max_length, beams, spec.get("length_penalty", 1.0), spec.get("early_stopping", False),
                                min_length, spec.get("beam_impl", "vectorized"))
            out[f"beam{beams}"] = [row + r["tokens"] + ([eos] if r["finished"] else []) for row, r in zip(start.tolist(), found)]
            out[f"beam{beams}_score"] = [r["score"] for r in found]
            out[f"beam{beams}_logprob"] = [r["log_probability"] for r in found]
    print(json.dumps(out))


def train_step(folder, spec):
    """One fine-tuning step as BlipForConditionalGeneration.forward(labels=...) computes the loss (the text decoder's
    shifted cross entropy, mean over labels that are not -100, label_smoothing from text_config), then SGD."""
    torch.set_num_threads(1)
    model = load(folder)
    model.train()
    for p in model.vision_model.parameters():
        p.requires_grad_(not spec.get("freeze_vision", False))
    pixel_values, ids = tensor(spec["pixel_values"]), tensor(spec["input_ids"])
    mask = tensor(spec["attention_mask"]).float()
    labels = ids.masked_fill(mask == 0, -100)
    image_embeds = model.vision_model(pixel_values)
    kv = model.text_decoder.image_keys_values(image_embeds)
    scores = model.text_decoder(ids, kv, attention_mask=mask)
    smoothing = model.config["text_config"].get("label_smoothing", 0.0)
    loss = F.cross_entropy(scores[:, :-1, :].reshape(-1, scores.size(-1)), labels[:, 1:].reshape(-1), label_smoothing=smoothing)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=spec["lr"])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(json.dumps({"loss": loss.item(), "state": {k: encode(v) for k, v in model.state_dict().items()}}))


# ---------------------------------------------------------------- preprocessing (image_processing_blip.py)

def preprocess(raw_path, width, height, config_path, png_path=None):
    """BlipImageProcessor on the RGB bytes of RAW_PATH (width x height); optionally saves them as PNG_PATH first."""
    from PIL import Image
    c = json.load(open(config_path))
    image = Image.frombytes("RGB", (width, height), open(raw_path, "rb").read())
    if png_path:
        image.save(png_path)
        image = Image.open(png_path).convert("RGB")
    image = image.resize((c["size"]["width"], c["size"]["height"]), resample=c["resample"], reducing_gap=None)
    print(json.dumps({"pixel_values": encode(normalize(image, c).unsqueeze(0)),
                      "resized": encode(torch.from_numpy(np.array(image).astype(np.int64)))}))


def normalize(image, c):
    """BlipImageProcessor's rescale (float64 product stored as float32) and normalize of a resized image: [3, H, W]."""
    array = np.array(image)
    array = (array.astype(np.float64) * c["rescale_factor"]).astype(np.float32)
    array = (array - np.array(c["image_mean"], dtype=np.float32)) / np.array(c["image_std"], dtype=np.float32)
    return torch.from_numpy(array.transpose(2, 0, 1).copy())


def pixel_values(folder, paths):
    """BlipImageProcessor on image files: RGB, the bicubic resize, rescale and normalize: [B, 3, H, W]."""
    from PIL import Image
    c = json.load(open(os.path.join(folder, "preprocessor_config.json")))
    out = []
    for path in paths:
        image = Image.open(path).convert("RGB").resize((c["size"]["width"], c["size"]["height"]), resample=c["resample"], reducing_gap=None)
        out.append(normalize(image, c))
    return torch.stack(out)


# ---------------------------------------------------------------- tokenizer (tokenization_bert.py)

def _is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch):
    cp = ord(ch)
    if (33 <= cp <= 47) or (58 <= cp <= 64) or (91 <= cp <= 96) or (123 <= cp <= 126):
        return True
    return unicodedata.category(ch).startswith("P")


def _is_chinese(cp):
    return ((0x4E00 <= cp <= 0x9FFF) or (0x3400 <= cp <= 0x4DBF) or (0x20000 <= cp <= 0x2A6DF) or (0x2A700 <= cp <= 0x2B73F)
            or (0x2B740 <= cp <= 0x2B81F) or (0x2B820 <= cp <= 0x2CEAF) or (0xF900 <= cp <= 0xFAFF) or (0x2F800 <= cp <= 0x2FA1F))


def basic_tokenize(text):
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        out.append(" " if _is_whitespace(ch) else ch)
    text = "".join(out)
    text = "".join(f" {ch} " if _is_chinese(ord(ch)) else ch for ch in text)
    text = unicodedata.normalize("NFC", text)
    split = []
    for token in text.strip().split():
        token = token.lower()
        token = "".join(ch for ch in unicodedata.normalize("NFD", token) if unicodedata.category(ch) != "Mn")
        current = []
        pieces = []
        for ch in token:
            if _is_punctuation(ch):
                if current:
                    pieces.append("".join(current))
                    current = []
                pieces.append(ch)
            else:
                current.append(ch)
        if current:
            pieces.append("".join(current))
        split.extend(pieces)
    return " ".join(split).strip().split()


def wordpiece(word, vocab):
    if len(word) > 100:
        return ["[UNK]"]
    tokens, start = [], 0
    while start < len(word):
        end, cur = len(word), None
        while start < end:
            sub = word[start:end]
            if start > 0:
                sub = "##" + sub
            if sub in vocab:
                cur = sub
                break
            end -= 1
        if cur is None:
            return ["[UNK]"]
        tokens.append(cur)
        start = end
    return tokens


def tokenize(folder, spec):
    added = json.load(open(os.path.join(folder, "added_tokens.json")))
    vocab = read_vocab(folder)
    id_to_token = {i: tok for tok, i in vocab.items()}
    for tok, i in added.items():
        id_to_token[i] = tok
    specials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]", "[ENC]"}
    out = {"ids": [], "decoded": []}
    for text in spec["texts"]:
        # The slow tokenizer splits the added and special tokens out first (its trie), then tokenizes the rest.
        ids, rest = [], text
        segments = []
        while rest:
            hits = [(rest.find(s), s) for s in specials if rest.find(s) >= 0]
            if not hits:
                segments.append(rest)
                break
            pos, tok = min(hits, key=lambda h: (h[0], -len(h[1])))
            segments.append(rest[:pos])
            segments.append((tok,))
            rest = rest[pos + len(tok):]
        for seg in segments:
            if isinstance(seg, tuple):
                ids.append(vocab[seg[0]] if seg[0] in vocab else added[seg[0]])
                continue
            for word in basic_tokenize(seg):
                ids.extend(vocab[p] for p in wordpiece(word, vocab))
        out["ids"].append(ids)
    for ids in spec["decode"]:
        tokens = [id_to_token[i] for i in ids if id_to_token[i] not in specials]
        text = " ".join(tokens).replace(" ##", "").strip()
        for a, b in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
                     (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
            text = text.replace(a, b)
        out["decoded"].append(text)
    print(json.dumps(out))


def read_vocab(folder):
    lines = open(os.path.join(folder, "vocab.txt"), encoding="utf-8").read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return {tok: i for i, tok in enumerate(lines)}


def fine_tune(folder, spec):
    """Adam over SPEC's epochs of batches ([image file, caption] rows), the rates decayed per epoch; the vision model
    frozen ("Frozen"), trainable ("All") or its last N layers and post_layernorm (an int), in a second group at
    encoder_lr. Each batch as a BLIP fine-tuning script feeds BlipForConditionalGeneration.forward: input_ids = [DEC]
    (text_config.bos_token_id), the caption's WordPiece ids, [SEP], right-padded with [PAD] under attention_mask 0;
    labels = input_ids with the padding set to -100; the loss is BlipTextLMHeadModel's: the logits of every position
    but the last against the labels after it, CrossEntropyLoss(reduction="mean", label_smoothing=text_config's).
    With SPEC's "prompt", each row is [DEC] + the prompt's ids + the caption's + [SEP] and, as BLIP's own
    blip_decoder.forward does (decoder_targets[:, :prompt_length] = -100, prompt_length counting [DEC]), the labels
    of [DEC] and the prompt are -100."""
    torch.set_num_threads(1)
    model = load(folder)
    model.train()
    tc = model.config["text_config"]
    vocab = read_vocab(folder)
    encoder, layers = spec["encoder"], model.config["vision_config"]["num_hidden_layers"]

    def trains(k):
        if not k.startswith("vision_model.") or encoder == "All":
            return True
        if encoder == "Frozen":
            return False
        return k.startswith("vision_model.post_layernorm.") or any(k.startswith(f"vision_model.encoder.layers.{i}.") for i in range(layers - encoder, layers))

    named = [(k, p) for k, p in model.named_parameters()]
    for k, p in named:
        p.requires_grad_(trains(k))
    groups = [{"params": [p for k, p in named if trains(k) and not k.startswith("vision_model.")], "lr": spec["lr"]}]
    if any(trains(k) and k.startswith("vision_model.") for k, _ in named):
        groups.append({"params": [p for k, p in named if trains(k) and k.startswith("vision_model.")], "lr": spec.get("encoder_lr", spec["lr"])})
    rates = [g["lr"] for g in groups]
    optimizer = torch.optim.Adam(groups, lr=spec["lr"], betas=(spec["beta1"], spec["beta2"]), eps=spec["eps"])
    smoothing = tc.get("label_smoothing", 0.0)
    losses = []
    prompt = [vocab[p] for w in basic_tokenize(spec["prompt"]) for p in wordpiece(w, vocab)] if spec.get("prompt") else []
    for epoch, batches in enumerate(spec["epochs"]):
        for group, rate in zip(optimizer.param_groups, rates):
            group["lr"] = rate * spec["decay"] ** epoch
        for batch in batches:
            rows = [[tc["bos_token_id"]] + prompt + [vocab[p] for w in basic_tokenize(caption) for p in wordpiece(w, vocab)] + [tc["sep_token_id"]]
                    for _, caption in batch]
            length = max(len(r) for r in rows)
            input_ids = torch.tensor([r + [tc["pad_token_id"]] * (length - len(r)) for r in rows], dtype=torch.long)
            mask = torch.tensor([[1] * len(r) + [0] * (length - len(r)) for r in rows], dtype=torch.long)
            labels = input_ids.masked_fill(mask == 0, -100)
            labels[:, :1 + len(prompt)] = -100
            image_embeds = model.vision_model(pixel_values(folder, [os.path.join(folder, image) for image, _ in batch]))
            scores = model.text_decoder(input_ids, model.text_decoder.image_keys_values(image_embeds), attention_mask=mask.float())
            loss_fct = nn.CrossEntropyLoss(reduction="mean", label_smoothing=smoothing)
            loss = loss_fct(scores[:, :-1, :].contiguous().view(-1, scores.size(-1)), labels[:, 1:].contiguous().view(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    state = model.state_dict()
    trained = {k for k, _ in named if trains(k)}
    print(json.dumps({"losses": losses, "parameters": {k: state[k].detach().flatten().tolist() for k in sorted(trained)}}))


def main():
    command = sys.argv[1]
    if command == "make":
        make(sys.argv[2], json.load(open(sys.argv[3])))
    elif command == "run":
        run(sys.argv[2], json.load(open(sys.argv[3])))
    elif command == "preprocess":
        preprocess(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6] if len(sys.argv) > 6 else None)
    elif command == "train":
        train_step(sys.argv[2], json.load(open(sys.argv[3])))
    elif command == "fine_tune":
        fine_tune(sys.argv[2], json.load(open(sys.argv[3])))
    elif command == "tokenize":
        tokenize(sys.argv[2], json.load(open(sys.argv[3])))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
