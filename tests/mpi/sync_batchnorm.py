"""Train a small net with SyncBatchNorm data-parallel over the ranks of an mpiexec job, and
check it against one process training the same net (plain BatchNorm) on the concatenated batch.

Usage: mpiexec -n 2 python tests/mpi/sync_batchnorm.py --world 2 [--device strict:1]

Each of 5 SGD steps takes a global batch of 8 rows (4 per rank with two ranks). After training,
every rank compares its parameters, running statistics and the last step's input gradient with
the single-process run (which each rank computes itself) and prints one "ok" line.
"""

from __future__ import annotations

import argparse

import numpy as np

import backprop as bp

STEPS, GLOBAL_BATCH = 5, 8


def _net(sync: bool) -> bp.nn.Module:
    bp.manual_seed(3)
    norm = bp.nn.BatchNorm1d(4, momentum=None)
    net = bp.nn.Sequential(bp.nn.Linear(3, 4), norm, bp.nn.Tanh(), bp.nn.Linear(4, 2)).double()
    return bp.nn.SyncBatchNorm.convert_sync_batchnorm(net) if sync else net


def _train(model: bp.nn.Module, rows: slice, device: str) -> tuple[bp.nn.Module, np.ndarray]:
    data = np.random.default_rng(0).standard_normal((STEPS, GLOBAL_BATCH, 3)) * 2 + 1
    optimizer = bp.optim.SGD(model.parameters(), lr=0.1)
    for step in range(STEPS):
        x = bp.tensor(data[step, rows], requires_grad=True, device=device)
        optimizer.zero_grad()
        # Each rank's loss is its share of the global mean; DDP averages the gradients.
        (model(x) ** 2).mean().backward()
        optimizer.step()
    return model, x.grad.cpu().numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--world", type=int, required=True)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    import backprop.distributed as dist
    from backprop.nn.parallel import DistributedDataParallel
    rank, size = dist.init()
    if size != args.world:
        raise SystemExit(f"sync_batchnorm.py: expected a world of {args.world} ranks, got {size}")
    share = GLOBAL_BATCH // size
    mine = slice(rank * share, (rank + 1) * share)
    bare = _net(sync=True).to(args.device)
    _, grad = _train(DistributedDataParallel(bare), mine, args.device)
    alone, alone_grad = _train(_net(sync=False), slice(None), "cpu")
    # One process's mean over 8 rows gives each row 1/8; a rank's mean over 4 gives 1/4.
    np.testing.assert_allclose(grad, alone_grad[mine] * size, rtol=1e-10, atol=1e-14)
    ours = bare.state_dict()
    for name, value in alone.state_dict().items():
        np.testing.assert_allclose(ours[name].cpu().numpy(), value.numpy(), rtol=1e-10,
                                   atol=1e-14, err_msg=name)
    print(f"rank {rank}: ok")


if __name__ == "__main__":
    main()
