"""The model and data of mlp_train.py, imported from next to it as a PyTorch program's own
modules are (pytorch/examples' word_language_model keeps its model in model.py)."""

# ruff: noqa: PLR0402 - written the way PyTorch programs are

import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, n_in, n_hidden, n_classes):
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_hidden)
        self.fc2 = nn.Linear(n_hidden, n_classes)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def blobs(n, generator):
    """Three classes of points around three centres in the plane."""
    centres = torch.tensor([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    labels = torch.arange(n) % 3
    points = centres[labels] + 0.5 * torch.randn(n, 2, generator=generator)
    return points, labels
