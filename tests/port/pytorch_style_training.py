"""A training script written for PyTorch, unchanged: the port test runs it with `torch` bound to
backprop. It defines a model class, uses a DataLoader, an optimizer with a scheduler, a loss
module, gradient clipping, eval mode and a state_dict round trip."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, n_in: int, n_hidden: int, n_out: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_hidden)
        self.norm = nn.LayerNorm(n_hidden)
        self.drop = nn.Dropout(0.1)
        self.fc2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        x = self.drop(F.relu(self.norm(self.fc1(x))))
        return self.fc2(x)


def make_data(n: int = 512):
    """Two interleaved spirals-like classes from a fixed formula (no randomness in the data)."""
    t = torch.linspace(0, 1, n)
    angle = t * 5.0
    radius = t * 2 + 0.2
    labels = (torch.arange(n) % 2).long()
    sign = labels.float() * 2 - 1
    x = torch.stack([radius * torch.cos(angle) * sign, radius * torch.sin(angle) * sign], dim=1)
    return x, labels


def main(epochs: int = 40) -> dict:
    torch.manual_seed(0)
    x, y = make_data()
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    model = Net(2, 64, 2)
    optimizer = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=15, gamma=0.5)
    criterion = nn.CrossEntropyLoss()
    first_loss = None
    for epoch in range(epochs):
        model.train()
        for inputs, targets in loader:
            optimizer.zero_grad()
            loss = criterion(model(inputs), targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            if first_loss is None:
                first_loss = loss.item()
        scheduler.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
    restored = Net(2, 64, 2)
    restored.load_state_dict(model.state_dict())
    restored.eval()
    with torch.no_grad():
        same = torch.equal(restored(x), model(x))
    return {"first_loss": first_loss, "last_loss": loss.item(), "accuracy": accuracy,
            "restored_equal": same}
