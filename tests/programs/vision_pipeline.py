"""Usage: python vision_pipeline.py OUT_DIR [--epochs N]

A small PyTorch program touching what issue 18 serves around the ops: torchvision's FakeData and
transforms through a DataLoader, a CNN trained with SGD, torch.accelerator and cudnn flags,
TensorBoard scalars, inference_mode, the whole model saved and loaded back under
safe_globals, an ONNX export with a dynamic batch and a grid of images saved as PNG."""

# ruff: noqa: PLR0402, I001 - written the way PyTorch programs are

import argparse
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision import datasets, transforms
from torch.utils.tensorboard import SummaryWriter


class Net(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return F.log_softmax(self.fc(torch.flatten(x, 1)), dim=1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    device = (torch.accelerator.current_accelerator() if torch.accelerator.is_available()
              else torch.device("cpu"))
    transform = transforms.Compose([transforms.Resize(8), transforms.ToTensor(),
                                    transforms.Normalize((0.5,), (0.5,))])
    data = datasets.FakeData(size=64, image_size=(1, 10, 10), num_classes=3, transform=transform)
    loader = torch.utils.data.DataLoader(data, batch_size=16, shuffle=True)
    model = Net(3).to(device)
    compiled = torch.compile(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    writer = SummaryWriter(os.path.join(args.out, "runs"))
    for epoch in range(args.epochs):
        total = 0.0
        for images, labels in loader:
            optimizer.zero_grad()
            loss = F.nll_loss(compiled(images.to(device)), labels.to(device))
            loss.backward()
            optimizer.step()
            total += loss.item()
        writer.add_scalar("loss", total / len(loader), epoch)
        print(f"epoch {epoch} loss {total / len(loader):.4f}")
    writer.close()
    model.eval()
    with torch.inference_mode():
        batch = next(iter(loader))[0]
        expected = model(batch)
    torch.save(model, os.path.join(args.out, "model.pt"))
    with torch.serialization.safe_globals([Net, nn.Conv2d, nn.Linear]):
        loaded = torch.load(os.path.join(args.out, "model.pt"))
    with torch.no_grad():
        print(f"reloaded equal {torch.equal(loaded(batch), expected)}")
    torch.onnx.export(loaded, (batch[:2],), os.path.join(args.out, "model.onnx"),
                      input_names=["images"], output_names=["log_probs"],
                      dynamic_axes={"images": {0: "batch"}, "log_probs": {0: "batch"}})
    torchvision.utils.save_image(batch, os.path.join(args.out, "batch.png"), nrow=4)
    print("done")


if __name__ == "__main__":
    main()
