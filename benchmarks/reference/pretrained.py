"""python3-torch side of the pretrained-captioner benchmarks, from pixel values to token ids, max_length 20, greedy and
beam 4, batch 1 and 16, each architecture written out from transformers' modeling code in the parity references
(tests/Shared/reference):

  ViT-GPT-2 (pretrained_vit_gpt2.py, VisionEncoderDecoderModel): greedy and vectorised beam search (hf_beam_search.py,
            transformers 4.49 on, the library's default) with a KV cache as transformers' generate does (self-attention keys/values cached, GPT-2's cross-attention recomputed from the encoder states each
            step). Configurations "tiny" (the parity tests' size) and "full" (ViT-base/16 at 224 + GPT-2 small, 50,257
            tokens).
  BLIP      (blip_reference.py, BlipForConditionalGeneration): generate's greedy and vectorised beam search on a KV
            cache, the image's cross-attention keys/values computed once. Configurations "blip-tiny" and "blip-base"
            (Salesforce/blip-image-captioning-base's sizes: ViT-B/16 at 384, BERT-base text decoder, 30,524 tokens).

  make ROOT [CONFIGS]  writes ROOT/<config> for each of CONFIGS (comma-separated; default all) with random weights,
                       skipping folders that already have their model.safetensors
  run ROOT CASES       prints one JSON line per case "config/batch/beams": median seconds per call, captions per second

Random weights: both sides produce the same token ids for the tiny configurations (the parity tests check that), so
they do the same work; "tokens" is printed so that a difference at full size shows. Threads come from
IMAGECAPTIONING_NUM_THREADS.
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "Shared", "reference"))
sys.path.insert(0, HERE)
import blip_reference as B  # noqa: E402
import pretrained_vit_gpt2 as R  # noqa: E402
from timing import median_seconds  # noqa: E402

MAX_LENGTH = 20
VIT_GPT2 = {
    "tiny": {"encoder": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64, "image_size": 32,
                         "patch_size": 8, "hidden_act": "gelu", "layer_norm_eps": 1e-12},
             "decoder": {"n_embd": 32, "n_layer": 2, "n_head": 4, "n_positions": 64, "layer_norm_epsilon": 1e-5},
             "size": 32},
    "full": {"encoder": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072, "image_size": 224,
                         "patch_size": 16, "hidden_act": "gelu", "layer_norm_eps": 1e-12},
             "decoder": {"n_embd": 768, "n_layer": 12, "n_head": 12, "n_positions": 1024, "layer_norm_epsilon": 1e-5},
             "size": 224, "vocab_size": 50257},
}
# BLIP's vocabulary is BERT's layout ([PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103), filled with made-up
# word pieces to the size; [DEC] and [ENC] are added after it, as the hub's folder has them.
BLIP = {
    "blip-tiny": {"vision": {"hidden": 32, "intermediate": 64, "layers": 2, "heads": 4, "image": 32, "patch": 8, "eps": 1e-5},
                  "text": {"hidden": 32, "intermediate": 64, "layers": 2, "heads": 4, "positions": 64, "eps": 1e-12},
                  "words": 1000, "std": 0.3},
    "blip-base": {"vision": {"hidden": 768, "intermediate": 3072, "layers": 12, "heads": 12, "image": 384, "patch": 16, "eps": 1e-5},
                  "text": {"hidden": 768, "intermediate": 3072, "layers": 12, "heads": 12, "positions": 512, "eps": 1e-12},
                  "words": 30522, "std": 0.02},
}
CONFIGS = list(VIT_GPT2) + list(BLIP)


def blip_vocabulary(size):
    special = {0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]", 103: "[MASK]"}
    return [special.get(i, f"[unused{i - 1}]" if i < 100 else (f"w{i}" if i % 3 else f"##p{i}")) for i in range(size)]


def make(root, configs):
    for name in configs:
        folder = os.path.join(root, name)
        if os.path.exists(os.path.join(folder, "model.safetensors")):
            continue  # written last: a folder that has it is complete
        if name in BLIP:
            c = BLIP[name]
            # safetensors only: torch.save of the base size would add another gigabyte the benchmark never reads.
            B.make(folder, {"seed": 0, "vocab": blip_vocabulary(c["words"]), "vision": c["vision"], "text": c["text"], "std": c["std"],
                            "eos_is_sep": True, "write_bin": False})
            continue
        c = VIT_GPT2[name]
        spec = {"seed": 0, "formats": ["safetensors"], "encoder": c["encoder"], "decoder": c["decoder"], "scale": 1.0, "embedding_scale": 0.7,
                "preprocessor": {"do_resize": True, "size": c["size"], "resample": 2, "image_mean": [0.5] * 3, "image_std": [0.5] * 3},
                "top_level": {"max_length": MAX_LENGTH, "num_beams": 1}}
        if "vocab_size" in c:
            spec["vocab_size"] = c["vocab_size"]
        R.make(folder, spec)


def image_size(config):
    return config["vision_config"]["image_size"] if "vision_config" in config else config["encoder"]["image_size"]


def loader(folder, config):
    """A function of pixel values that generates (greedy or beam), as the architecture's generate does."""
    state = R.load_state(folder)
    if "vision_config" in config:
        model = B.Blip(config)
        # model.safetensors leaves out the head tied to the word embeddings; the module ties it.
        missing = set(model.load_state_dict(state, strict=False).missing_keys) - {"text_decoder.cls.predictions.decoder.weight", "text_decoder.cls.predictions.decoder.bias"}
        if missing:
            raise SystemExit(f"{folder}: missing {sorted(missing)}")
        model.eval()
        sep = config["text_config"]["sep_token_id"]

        def generate(pixels, beams):
            embeds = model.vision_model(pixels)
            start = B.prompt_ids(model, pixels.size(0), None)
            if beams == 1:
                sequences = B.greedy(model, embeds, start, MAX_LENGTH)[0]
            else:
                return [r["tokens"] for r in B.beam_search(model, embeds, start, MAX_LENGTH, beams, 1.0, False)]
            return [row[start.size(1):] for row in B.trim(sequences, sep, start.size(1))]
        return generate

    eot = config["eos_token_id"]

    def generate(pixels, beams):
        hidden = R.encode_images(state, config, pixels)
        decoder = R.Gpt2(state, config["decoder"])
        if beams == 1:
            return [r["tokens"] for r in R.greedy(decoder, hidden, eot, [eot], eot, MAX_LENGTH)]
        return [r["tokens"] for r in R.beam_search(decoder, hidden, eot, [eot], eot, MAX_LENGTH, beams, 1.0, False)]
    return generate


def run(root, cases):
    torch.set_num_threads(int(os.environ.get("IMAGECAPTIONING_NUM_THREADS", os.cpu_count())))
    loaded = {}
    for case in cases.split(","):
        name, batch, beams = case.split("/")
        batch, beams = int(batch), int(beams)
        folder = os.path.join(root, name)
        if name not in loaded:
            config = json.load(open(os.path.join(folder, "config.json")))
            loaded[name] = (image_size(config), loader(folder, config))
        size, generate = loaded[name]
        # The same pixel values on both sides: sin(0.37 i), in the processors' output range.
        pixels = torch.sin(torch.arange(batch * 3 * size * size, dtype=torch.float64) * 0.37).float().view(batch, 3, size, size)

        def call():
            with torch.no_grad():
                return generate(pixels, beams)

        tokens = sum(len(t) for t in call())
        seconds = median_seconds(call, repeat=3 if name in ("full", "blip-base") else 10, warmup=1)
        print(json.dumps({"case": case, "seconds": seconds, "captions_per_second": batch / seconds, "tokens": tokens}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3].split(",") if len(sys.argv) > 3 else CONFIGS)
    else:
        run(sys.argv[2], sys.argv[3])
