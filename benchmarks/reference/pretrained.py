"""python3-torch side of the pretrained-captioner benchmarks: ViT-GPT-2 (transformers' VisionEncoderDecoderModel
computation, written out in tests/Shared/reference/pretrained_vit_gpt2.py) generating with a KV cache
as transformers' generate does (self-attention keys/values cached, GPT-2's cross-attention recomputed from the
encoder states each step), greedy and beam 4, batch 1 and 16, max_length 20, from pixel values.

  make ROOT       writes ROOT/tiny and ROOT/full (ViT-base/16 224 + GPT-2 small, 50,257 tokens) with random weights
  run ROOT CASES  prints one JSON line per case "config/batch/beams": median seconds per call and captions per second

Random weights: both sides produce the same token ids (the parity tests check that), so they do the same work.
Threads come from IMAGECAPTIONING_NUM_THREADS.
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "Shared", "reference"))
sys.path.insert(0, HERE)
import pretrained_vit_gpt2 as R  # noqa: E402
from timing import median_seconds  # noqa: E402

MAX_LENGTH = 20
CONFIGS = {
    "tiny": {"encoder": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64, "image_size": 32,
                         "patch_size": 8, "hidden_act": "gelu", "layer_norm_eps": 1e-12},
             "decoder": {"n_embd": 32, "n_layer": 2, "n_head": 4, "n_positions": 64, "layer_norm_epsilon": 1e-5},
             "size": 32},
    "full": {"encoder": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072, "image_size": 224,
                         "patch_size": 16, "hidden_act": "gelu", "layer_norm_eps": 1e-12},
             "decoder": {"n_embd": 768, "n_layer": 12, "n_head": 12, "n_positions": 1024, "layer_norm_epsilon": 1e-5},
             "size": 224, "vocab_size": 50257},
}


def make(root):
    for name, c in CONFIGS.items():
        spec = {"seed": 0, "formats": ["safetensors"], "encoder": c["encoder"], "decoder": c["decoder"], "scale": 1.0, "embedding_scale": 0.7,
                "preprocessor": {"do_resize": True, "size": c["size"], "resample": 2, "image_mean": [0.5] * 3, "image_std": [0.5] * 3},
                "top_level": {"max_length": MAX_LENGTH, "num_beams": 1}}
        if "vocab_size" in c:
            spec["vocab_size"] = c["vocab_size"]
        R.make(os.path.join(root, name), spec)


def run(root, cases):
    torch.set_num_threads(int(os.environ.get("IMAGECAPTIONING_NUM_THREADS", os.cpu_count())))
    loaded = {}
    for case in cases.split(","):
        name, batch, beams = case.split("/")
        batch, beams = int(batch), int(beams)
        folder = os.path.join(root, name)
        if name not in loaded:
            loaded[name] = (json.load(open(os.path.join(folder, "config.json"))), R.load_state(folder))
        config, state = loaded[name]
        size = CONFIGS[name]["size"]
        # The same pixel values on both sides: sin(0.37 i), in the processor's output range [-1, 1].
        pixels = torch.sin(torch.arange(batch * 3 * size * size, dtype=torch.float64) * 0.37).float().view(batch, 3, size, size)
        eot = config["eos_token_id"]

        def call():
            with torch.no_grad():
                hidden = R.encode_images(state, config, pixels)
                decoder = R.Gpt2(state, config["decoder"])
                if beams == 1:
                    return R.greedy(decoder, hidden, eot, [eot], eot, MAX_LENGTH)
                return R.beam_search(decoder, hidden, eot, [eot], eot, MAX_LENGTH, beams, 1.0, False)

        tokens = sum(len(r["tokens"]) for r in call())
        seconds = median_seconds(call, repeat=3 if name == "full" else 10, warmup=1)
        print(json.dumps({"case": case, "seconds": seconds, "captions_per_second": batch / seconds, "tokens": tokens}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        run(sys.argv[2], sys.argv[3])
