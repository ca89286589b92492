"""One rank fails while the others wait in a collective: the job must end, non-zero, with the
failing rank's error shown, instead of hanging.

Usage: mpiexec -n 2 python tests/mpi/failing_rank.py MODE
MODE: raise (rank 1 raises), leave (rank 1 exits early without error: rank 0's collective must
time out; set BACKPROP_DIST_TIMEOUT low), kill (rank 1 is killed by SIGKILL), backward (rank 1
raises in the middle of a DistributedDataParallel backward), before-init (rank 1 raises
before it starts MPI: rank 0's MPI start-up must time out; set BACKPROP_DIST_TIMEOUT low).
"""

from __future__ import annotations

import os
import signal
import sys

import backprop as bp
import backprop.distributed as dist


def main(mode: str) -> None:
    if mode == "before-init" and os.environ.get("PMI_RANK") == "1":  # MPICH's launcher's rank
        raise RuntimeError("rank 1 fails before init on purpose")
    rank, size = dist.init()
    if size < 2:
        raise SystemExit("failing_rank.py: run it with mpiexec -n 2 or more")
    dist.barrier()  # everyone is up
    if rank == 1:
        if mode == "raise":
            raise RuntimeError("rank 1 fails on purpose")
        if mode == "leave":
            return
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
    if mode == "backward":
        from backprop.nn.parallel import DistributedDataParallel

        model = DistributedDataParallel(bp.nn.Sequential(bp.nn.Linear(4, 4), bp.nn.Linear(4, 1)),
                                        bucket_cap_mb=1e-6)  # a bucket per parameter
        out = model(bp.ones(2, 4))
        if rank == 1:
            def fail(grad: bp.Tensor) -> None:
                raise RuntimeError("rank 1 fails during backward on purpose")

            model.module[0].weight.register_hook(fail)
        out.sum().backward()
    total = bp.ones(1)
    for _ in range(1000):
        dist.all_reduce(total)
    print(f"rank {rank}: the collectives finished, which they must not", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
