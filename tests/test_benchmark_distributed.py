"""The data-parallel scaling benchmark (benchmarks/distributed.py) runs under ``mpiexec -n 2``
and reports sane figures. No speed is asserted: benchmarks are not timed tests.

Skips without mpi4py or mpiexec, and fails instead under ``BACKPROP_REQUIRE_MPI=1`` (CI), by
the ``mpi`` fixture of test_distributed.py.
"""

from __future__ import annotations

from test_distributed import mpi  # noqa: F401 - the fixture: skip, or fail where MPI is required

from benchmarks import distributed


def test_two_ranks_report_step_and_allreduce_times(mpi: None) -> None:  # noqa: F811
    result = distributed.launch("W1", processes=2, threads=1, steps=3, blocks=2, warmup=1)
    assert result["workload"] == "W1"
    assert result["world_size"] == 2
    assert result["rows_per_rank"] == 64  # half of the global batch of 128
    assert result["step_ms"] > 0 and result["samples_per_s"] > 0
    assert all(t > 0 for t in result["step_ms_by_rank"])
    # every rank waited for the gradient all-reduce at least once, and for less than a step
    assert all(0 < wait < result["step_ms"] for wait in result["allreduce_wait_ms_by_rank"])
    assert 0 < result["allreduce_wait_ms"] < result["step_ms"]
    assert 0 < result["allreduce_share"] < 1
    assert result["ranks_agree"]  # DistributedDataParallel kept the ranks' parameters equal


def test_shard_splits_every_batch_by_rows() -> None:
    problem = distributed.WORKLOADS["W3"].module.make_problem(batch=4, n_batches=2)
    halves = [distributed.shard(problem, rank, 2) for rank in (0, 1)]
    for i, (x, y) in enumerate(problem.batches):
        assert (x[:2] == halves[0].batches[i][0]).all() and (x[2:] == halves[1].batches[i][0]).all()
        assert (y[2:] == halves[1].batches[i][1]).all()
    assert halves[0].config["batch"] == 2
