"""The self-critical (REINFORCE) loss as self-critical.pytorch's RewardCriterion computes it, the reference for
ImageCaptioning.Training.SelfCriticalLoss and SelfCriticalSequences.Mask.

RewardCriterion (captioning/modules/losses.py) takes the log-softmax [N, T, V] and the sampled tokens; a step is real
when no end token came before it (there the end id is 0 and doubles as padding, so its mask is (seq > 0) shifted one
step right after a leading 1), and the loss is -sum(logp * reward * mask) / sum(mask), with reward the advantage
(sample's reward - greedy baseline) repeated over the steps.

Input JSON: logits {shape [N, T, V], data}, dtype ("float32" or "float64"), tokens {shape [N, T], data}, end,
rewards [N], baselines [N]. Prints the loss, the mask [N, T] and the gradient of the loss with respect to the logits.
"""
import json
import sys

import torch
import torch.nn.functional as F


def main():
    torch.set_num_threads(1)
    spec = json.load(open(sys.argv[1]))
    dtype = {"float32": torch.float32, "float64": torch.float64}[spec["dtype"]]
    logits = torch.tensor(spec["logits"]["data"], dtype=dtype).reshape(spec["logits"]["shape"]).requires_grad_()
    seq = torch.tensor(spec["tokens"]["data"], dtype=torch.int64).reshape(spec["tokens"]["shape"])
    n, steps = seq.shape

    logp = F.log_softmax(logits, dim=2).gather(2, seq.unsqueeze(2)).squeeze(2)
    ended_before = torch.cat([torch.zeros(n, 1, dtype=torch.int64), (seq == spec["end"]).long().cumsum(1)[:, :-1]], 1) > 0
    mask = (~ended_before).to(dtype)
    advantage = torch.tensor(spec["rewards"], dtype=dtype) - torch.tensor(spec["baselines"], dtype=dtype)
    reward = advantage.unsqueeze(1).expand(n, steps)
    loss = torch.sum(-logp * reward * mask) / torch.sum(mask)
    loss.backward()

    json.dump({
        "loss": loss.item(),
        "mask": mask.reshape(-1).tolist(),
        "gradient": logits.grad.reshape(-1).tolist(),
    }, sys.stdout)


if __name__ == "__main__":
    main()
