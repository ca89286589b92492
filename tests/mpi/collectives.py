"""Check all_reduce, broadcast and barrier across the ranks of an mpiexec job; prints one
"ok" line per rank.

Usage: mpiexec -n 2 python tests/mpi/collectives.py --world 2
"""

from __future__ import annotations

import argparse

import numpy as np

import backprop as bp
import backprop.distributed as dist


def check(world: int) -> None:
    rank, size = dist.init()
    if size != world:
        raise SystemExit(f"collectives.py: expected a world of {world} ranks, got {size}: launch "
                         f"with mpiexec -n {world}")
    ranks = np.arange(1, size + 1, dtype=np.float64)  # rank r holds r + 1
    mine = float(rank + 1)
    expected = {"sum": ranks.sum(), "avg": ranks.mean(), "product": ranks.prod(),
                "min": ranks.min(), "max": ranks.max()}
    for op, value in expected.items():
        t = bp.full((2, 3), mine, dtype=bp.float64)
        assert dist.all_reduce(t, op=op) is None
        assert np.allclose(t.numpy(), value), (op, t.numpy(), value)
    t = bp.full((3,), rank + 1, dtype=bp.int64)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    assert t.tolist() == [int(ranks.sum())] * 3

    # A non-contiguous view receives the result in place, and its base sees it.
    base = bp.full((4, 4), mine, dtype=bp.float32)
    view = base[:, 1]
    dist.all_reduce(view, op="max")
    assert np.all(base.numpy()[:, 1] == size) and np.all(base.numpy()[:, 0] == mine)

    flags = bp.tensor([rank == 0, False])  # booleans: sum is "any", product is "all"
    dist.all_reduce(flags)
    assert flags.tolist() == [True, False]

    work = dist.all_reduce(bp.ones(5), async_op=True)
    assert work.wait() and work.is_completed()

    src = size - 1
    t = bp.full((2, 2), float(rank), dtype=bp.float64)
    dist.broadcast(t, src=src)
    assert np.all(t.numpy() == src)

    dist.barrier()
    print(f"rank {rank} of {size}: ok", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--world", type=int, required=True)
    check(parser.parse_args().world)
