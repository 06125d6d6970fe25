"""sgrvinod's a-PyTorch-Tutorial-to-Image-Captioning DecoderWithAttention, as the reference for SoftAttentionCaptionModel.

The forward pass is the tutorial's: captions sorted by length, and at step t only the captions still running are
decoded (the C# model decodes every position and masks instead). Differences from the tutorial, matching the C#
options: the embedding has a padding_idx, dropout is 0, and the penalty sums over cells instead of averaging.

Input JSON: state (the C# state_dict), features [B, P, C], inputs and targets [B, T] right-padded with pad, pad,
lambda. Prints the logits and attention [B, T, P] (zero where the target is pad), the loss (cross entropy over real
targets + lambda * mean over captions of sum over cells of (1 - sum over steps of alpha)^2) and every parameter's
gradient of that loss.
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from model_recipe import encode, tensor


class Attention(nn.Module):
    def __init__(self, encoder_dim, decoder_dim, attention_dim):
        super().__init__()
        self.encoder_att = nn.Linear(encoder_dim, attention_dim)
        self.decoder_att = nn.Linear(decoder_dim, attention_dim)
        self.full_att = nn.Linear(attention_dim, 1)
        self.relu = nn.ReLU()
        self.softmax = nn.Softmax(dim=1)

    def forward(self, encoder_out, decoder_hidden):
        att1 = self.encoder_att(encoder_out)
        att2 = self.decoder_att(decoder_hidden)
        att = self.full_att(self.relu(att1 + att2.unsqueeze(1))).squeeze(2)
        alpha = self.softmax(att)
        return (encoder_out * alpha.unsqueeze(2)).sum(dim=1), alpha


class DecoderWithAttention(nn.Module):
    def __init__(self, attention_dim, embed_dim, decoder_dim, vocab_size, encoder_dim, pad):
        super().__init__()
        self.attention = Attention(encoder_dim, decoder_dim, attention_dim)
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad)
        self.decode_step = nn.LSTMCell(embed_dim + encoder_dim, decoder_dim, bias=True)
        self.init_h = nn.Linear(encoder_dim, decoder_dim)
        self.init_c = nn.Linear(encoder_dim, decoder_dim)
        self.f_beta = nn.Linear(decoder_dim, encoder_dim)
        self.sigmoid = nn.Sigmoid()
        self.fc = nn.Linear(decoder_dim, vocab_size)

    def forward(self, encoder_out, captions, decode_lengths):
        """Logits and alphas [B, T, *] in the input order, zero past each caption's decode length."""
        batch_size, num_pixels = encoder_out.size(0), encoder_out.size(1)
        decode_lengths, sort_ind = decode_lengths.sort(dim=0, descending=True)
        encoder_out, captions = encoder_out[sort_ind], captions[sort_ind]
        embeddings = self.embedding(captions)
        mean_encoder_out = encoder_out.mean(dim=1)
        h, c = self.init_h(mean_encoder_out), self.init_c(mean_encoder_out)
        steps = captions.size(1)
        predictions = torch.zeros(batch_size, steps, self.fc.out_features)
        alphas = torch.zeros(batch_size, steps, num_pixels)
        for t in range(int(decode_lengths.max())):
            batch_size_t = int((decode_lengths > t).sum())
            awe, alpha = self.attention(encoder_out[:batch_size_t], h[:batch_size_t])
            gate = self.sigmoid(self.f_beta(h[:batch_size_t]))
            awe = gate * awe
            h, c = self.decode_step(torch.cat([embeddings[:batch_size_t, t, :], awe], dim=1), (h[:batch_size_t], c[:batch_size_t]))
            predictions[:batch_size_t, t, :] = self.fc(h)
            alphas[:batch_size_t, t, :] = alpha
        unsort = sort_ind.argsort()
        return predictions[unsort], alphas[unsort]


def build(spec):
    """The tutorial's decoder with its sizes read from, and its weights set to, the C# state_dict."""
    state = {k: tensor(v) for k, v in spec["state"].items()}
    vocab, embed = state["embedding.weight"].shape
    attention_dim, encoder_dim = state["attention.encoder_att.weight"].shape
    decoder_dim = state["init_h.weight"].shape[0]
    model = DecoderWithAttention(attention_dim, embed, decoder_dim, vocab, encoder_dim, spec["pad"])
    model.load_state_dict(state)
    return model


def main():
    torch.set_num_threads(1)
    spec = json.load(open(sys.argv[1]))
    model = build(spec)
    features, inputs, targets = tensor(spec["features"]), tensor(spec["inputs"]), tensor(spec["targets"])
    real = targets != spec["pad"]
    logits, alphas = model(features, inputs, real.sum(1))
    cross_entropy = F.cross_entropy(logits[real], targets[real])
    penalty = spec["lambda"] * ((1.0 - alphas.sum(dim=1)) ** 2).sum(dim=1).mean()
    loss = cross_entropy + penalty
    loss.backward()
    out = {
        "logits": encode(logits),
        "attention": encode(alphas),
        "loss": loss.item(),
        "penalty": penalty.item(),
        "gradients": {name: encode(p.grad) for name, p in model.named_parameters()},
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
