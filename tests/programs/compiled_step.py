"""A PyTorch training step under ``@torch.compile``: prints the compiled object's type and each
epoch's loss (run by ``backprop run`` in tests/test_capture.py, unchanged from PyTorch)."""

import torch
import torch.nn as nn
import torch.nn.functional as F


def main() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    x = torch.randn(32, 4)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()

    @torch.compile
    def train_step(inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss

    print(type(train_step).__name__)
    for epoch in range(30):
        loss = train_step(x, y)
        print(f"epoch {epoch} {loss.item():.6f}")


if __name__ == "__main__":
    main()
