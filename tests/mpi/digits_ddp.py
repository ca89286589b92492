"""Train the digits MLP for 20 steps, in float64, data-parallel over the ranks of an mpiexec job,
and save rank 0's parameters; ``train_alone`` is the single-process run it must equal.

Usage: mpiexec -n 2 python tests/mpi/digits_ddp.py OUT.npz --world 2 [--bucket-cap-mb 0.05]
       [--device cuda]

Each step the ranks together take one batch of 64 from the same shuffled order as the single
process (DistributedSampler: 32 samples per rank with two ranks). The ranks start from
different random initialisations, so the run also checks that DistributedDataParallel copies
rank 0's parameters. Two runs are saved: ``plain/`` (one forward and backward per step) and
``accumulate/`` (each rank's 32 as two micro-batches of 16, the first under ``no_sync()``).
After training the script checks that every rank holds exactly rank 0's parameters.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

import numpy as np

import backprop as bp
from backprop.train.config import TrainConfig
from backprop.train.data import load_data
from backprop.train.models import build_model
from backprop.utils.data import DataLoader, DistributedSampler, TensorDataset

STEPS = 20
GLOBAL_BATCH = 64
SEED = 7


def _dataset() -> TensorDataset:
    data = load_data(TrainConfig())
    return TensorDataset(data.train_x.double(), data.train_y)


def _model(seed: int) -> bp.nn.Module:
    bp.manual_seed(seed)
    return build_model(TrainConfig(), (1, 8, 8), 10).double()


def _batches(rank: int, world: int) -> DataLoader:
    dataset = _dataset()
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=SEED)
    return DataLoader(dataset, batch_size=GLOBAL_BATCH // world, sampler=sampler)


def _train(model: bp.nn.Module, params: list, loader: DataLoader, micro_batches: int,
           device: str = "cpu") -> None:
    optimizer = bp.optim.Adam(params, lr=1e-2)
    batches = iter(loader)
    for _ in range(STEPS):
        images, labels = next(batches)
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        pieces = list(zip(images.chunk(micro_batches), labels.chunk(micro_batches)))
        for i, (x, y) in enumerate(pieces):
            last = i == len(pieces) - 1
            sync = model.no_sync() if not last and hasattr(model, "no_sync") else contextlib.nullcontext()
            with sync:
                loss = bp.nn.functional.cross_entropy(model(x), y) / len(pieces)
                loss.backward()
        optimizer.step()


def train_alone() -> dict[str, np.ndarray]:
    """The reference: one process, batches of 64 from the same order."""
    model = _model(SEED)
    _train(model, list(model.parameters()), _batches(0, 1), micro_batches=1)
    return {name: p.detach().numpy() for name, p in model.named_parameters()}


def train_distributed(world: int, bucket_cap_mb: float, device: str) -> dict[str, np.ndarray]:
    import backprop.distributed as dist
    from backprop.nn.parallel import DistributedDataParallel

    rank, size = dist.init()
    if size != world:
        raise SystemExit(f"digits_ddp.py: expected a world of {world} ranks, got {size}: launch "
                         f"with mpiexec -n {world}")
    saved = {}
    for variant, micro_batches in (("plain", 1), ("accumulate", 2)):
        bare = _model(SEED + rank).to(device)  # different on each rank: DDP must copy rank 0's
        model = DistributedDataParallel(bare, bucket_cap_mb=bucket_cap_mb)
        assert len(model.reducer.buckets) > 1, "the test wants several buckets"
        if rank == 0 and variant == "plain":
            way = "nccl" if model.reducer.transport is not None else "host memory over MPI"
            print(f"gradients travel through {way}", file=sys.stderr)
        _train(model, list(model.parameters()), _batches(rank, size), micro_batches, device)
        for name, p in bare.named_parameters():
            assert p.device == device and p.grad.device == device
            mine = p.detach().cpu().numpy().copy()
            theirs = bp.tensor(mine)
            dist.broadcast(theirs, src=0)
            assert np.array_equal(mine, theirs.numpy()), f"rank {rank}: {name} differs from rank 0"
            saved[f"{variant}/{name}"] = mine
    return saved


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--world", type=int, required=True)
    parser.add_argument("--bucket-cap-mb", type=float, default=0.05)
    parser.add_argument("--device", default="cpu", help="where each rank trains (cuda, strict:1)")
    args = parser.parse_args(argv)
    saved = train_distributed(args.world, args.bucket_cap_mb, args.device)
    import backprop.distributed as dist

    if dist.get_rank() == 0:
        np.savez(args.out, **saved)
        print(f"saved {len(saved)} arrays to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
