"""The PyTorch recipe's captioning model (init-inject), as the recipe writes it, with its sizes as parameters.
Shared by the test references (copied beside them) and benchmarks/reference, which imports it from here."""
import torch
import torch.nn as nn


class RecipeModel(nn.Module):
    def __init__(self, vocab_size, feature_size=4096, embed_size=256, hidden_size=256, pad=0):
        super().__init__()
        self.img_to_h = nn.Linear(feature_size, hidden_size)
        self.img_to_c = nn.Linear(feature_size, hidden_size)
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=pad)
        self.lstm = nn.LSTM(embed_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, vocab_size)

    def forward(self, img, caps):
        h0 = torch.tanh(self.img_to_h(img)).unsqueeze(0)
        c0 = torch.tanh(self.img_to_c(img)).unsqueeze(0)
        out, _ = self.lstm(self.embedding(caps), (h0, c0))
        return self.fc(out)
