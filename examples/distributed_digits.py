"""Data-parallel training over MPI: N processes train one MLP on the embedded digits, each on its
share of every batch, with gradients averaged after each backward pass.

Usage: mpiexec -n 2 python examples/distributed_digits.py [--epochs 10] [--batch-size 64]
       python examples/distributed_digits.py              (no launcher: one process, same code)
       mpiexec -f hosts.txt -n 8 python examples/distributed_digits.py   (several machines)
       mpiexec -n 4 python examples/distributed_digits.py --device cuda  (a GPU per rank)

Needs the [mpi] extra: pip install 'backprop[mpi]' (its mpiexec is in the environment's bin/).
Set OMP_NUM_THREADS=1 when several ranks share a machine, so their BLAS threads don't compete.
"""

from __future__ import annotations

import argparse
import time

import backprop as bp
import backprop.distributed as dist
from backprop.nn.parallel import DistributedDataParallel
from backprop.utils.data import DataLoader, DistributedSampler, TensorDataset


def make_model() -> bp.nn.Module:
    return bp.nn.Sequential(bp.nn.Flatten(), bp.nn.Linear(64, 128), bp.nn.ReLU(),
                            bp.nn.Linear(128, 10))


def accuracy(model: bp.nn.Module, images: bp.Tensor, labels: bp.Tensor, device: str) -> float:
    with bp.no_grad():
        predicted = model(images.to(device)).argmax(dim=1)
        return (predicted == labels.to(device)).float().mean().item()


def rank_device(name: str, rank: int) -> str:
    """A bare "cuda" gives each rank its own GPU (rank r takes GPU r mod the count)."""
    return f"cuda:{rank % bp.cuda.device_count()}" if name == "cuda" else name


def main(epochs: int = 10, batch_size: int = 64, lr: float = 3e-3, seed: int = 0,
         device: str = "cpu") -> float:
    """Train; return the test accuracy (the same on every rank: the models are equal)."""
    rank, world_size = dist.init()  # rank 0 of 1 without mpiexec
    device = rank_device(device, rank)
    if batch_size % world_size:
        raise SystemExit(f"--batch-size {batch_size} must be a multiple of the {world_size} "
                         "processes")
    train, test = bp.datasets.Digits(train=True), bp.datasets.Digits(train=False)
    dataset = TensorDataset(train.data, train.targets)

    bp.manual_seed(seed + rank)  # the ranks may start apart: DDP copies rank 0's weights
    # On GPUs of their own the ranks exchange gradients through NCCL, otherwise through MPI.
    model = DistributedDataParallel(make_model().to(device))
    optimizer = bp.optim.Adam(model.parameters(), lr=lr)
    # batch_size is the global batch: each rank takes its slice of every step's batch.
    sampler = DistributedSampler(dataset, seed=seed)
    loader = DataLoader(dataset, batch_size=batch_size // world_size, sampler=sampler)

    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        total = bp.zeros(2, dtype=bp.float64)  # loss sum, samples
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            loss = bp.nn.functional.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()  # the gradients arrive averaged over the ranks
            optimizer.step()
            total += bp.tensor([loss.item() * len(labels), len(labels)], dtype=bp.float64)
        dist.all_reduce(total)  # summed over the ranks
        if rank == 0:
            loss_sum, seen = total.tolist()
            print(f"epoch {epoch:2d}  loss {loss_sum / seen:.4f}  test accuracy "
                  f"{accuracy(model.module, test.data, test.targets, device):.4f}  "
                  f"({time.perf_counter() - start:.2f} s, world size {world_size})", flush=True)
    return accuracy(model.module, test.data, test.targets, device)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--device", default="cpu", help="cpu, cuda (a GPU per rank) or cuda:N")
    args = parser.parse_args()
    main(args.epochs, args.batch_size, args.lr, device=args.device)
