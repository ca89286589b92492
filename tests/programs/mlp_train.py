"""Usage: python mlp_train.py [--epochs N] [-b BATCH] [--lr LR] [--out FILE] [--exit-code N]

A small PyTorch classification program: an MLP on three blobs of points, trained with Adam on
mini-batches from a DataLoader. It prints each epoch's mean loss."""

# ruff: noqa: PLR0402, I001 - written the way PyTorch programs are

import argparse
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

from mlp_model import MLP, blobs


def train(args):
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    x, y = blobs(96, generator)
    loader = DataLoader(TensorDataset(x, y), batch_size=args.batch_size, shuffle=True)
    model = MLP(2, 16, 3)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    losses = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        total = 0.0
        for inputs, targets in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(inputs), targets)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(inputs)
        losses.append(total / len(x))
        print(f"epoch {epoch} loss {losses[-1]:.4f}")
    model.eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
    print(f"accuracy {accuracy:.2f}")
    return model, losses


def main():
    parser = argparse.ArgumentParser(description="Train an MLP on three blobs.")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("-b", "--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the final loss to this file")
    parser.add_argument("--exit-code", type=int, default=0)
    args = parser.parse_args()
    print(f"torch is {torch.__name__}; argv {sys.argv[1:]}; file {__file__}")
    print(f"Linear is served: {isinstance(MLP(2, 2, 2).fc1, nn.Linear)}")
    _, losses = train(args)
    if args.out:
        with open(args.out, "w") as file:
            file.write(f"{losses[-1]:.6f}\n")
    sys.exit(args.exit_code)


if __name__ == "__main__":
    main()
