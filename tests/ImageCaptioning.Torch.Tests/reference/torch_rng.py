"""torch.get_rng_state / set_rng_state reference.

Argument: a seed. Prints JSON: the CPU generator state right after torch.manual_seed(seed) (as a byte list), then
after drawing torch.randn(100), and the torch.rand(8) drawn from that second state.
"""
import json
import sys

import torch

seed = int(sys.argv[1])
torch.manual_seed(seed)
seeded = torch.get_rng_state()
torch.randn(100)
advanced = torch.get_rng_state()
following = torch.rand(8)
json.dump({
    "seeded": seeded.tolist(),
    "advanced": advanced.tolist(),
    "following": following.tolist(),
}, sys.stdout)
