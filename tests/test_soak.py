"""Long runs stay flat (issue 8, part 4), the test-sized soak: 2,000 steps of the W1 benchmark
(MLP 784-256-256-10, batch 128, SGD with momentum) with a GradientMonitor on, looking between
steps every 100 steps. ``python -m benchmarks.soak`` is the full-length run (20,000 W1 steps and
2,000 W4 steps). No timing is asserted: step times are printed by the benchmark only."""

from __future__ import annotations

import pytest

from benchmarks import soak, w1_mlp
from benchmarks.common import CapturingLib

STEPS = 2000
EVERY = 100
# Warm-up ends at step 200 (10% of the run; soak.WARMUP_FRACTION). Everything a run allocates
# once is made in its first steps: the gradients and momentum buffers on step 1, the monitor's
# weight snapshots and activation statistics on its first recorded step (step 0, then one in 10),
# NumPy's and OpenBLAS's scratch buffers and the allocator's pools for each array size on the
# first forward and backward. By step 200 the monitor has recorded 20 times and every batch of
# the pool has been seen 50 times, so any growth after it is growth per step: a leak.
WARMUP_STEP = 200
GROWTH_LIMIT_KB = 5 * 1024


@pytest.fixture(scope="module")
def result() -> soak.SoakResult:
    return soak.soak(w1_mlp, STEPS, EVERY, monitor_every=10)


def test_warmup_point_is_step_200(result):
    assert result.baseline.step == WARMUP_STEP
    assert [r.step for r in result.reports] == list(range(0, STEPS + 1, EVERY))


def test_rss_growth_after_warmup_under_5mb(result):
    if result.baseline.rss_kb < 0:
        pytest.skip("no /proc/self/status: RSS cannot be read on this platform")
    growths = {r.step: r.rss_kb - result.baseline.rss_kb for r in result.after_warmup}
    assert max(growths.values()) < GROWTH_LIMIT_KB, growths


def test_no_node_alive_between_steps(result):
    # counted before any gc.collect(): a graph kept alive by a reference cycle would count
    alive = {r.step: r.nodes for r in result.reports if r.step > 0}
    assert all(n == 0 for n in alive.values()), alive


def test_nothing_waits_for_the_cycle_collector(result):
    # what an explicit collection frees right after each look: the step's graph must go by
    # reference counting alone, so there is nothing for it to find
    found = {r.step: r.cyclic_garbage for r in result.reports if r.step > 0}
    assert all(n == 0 for n in found.values()), found


def test_live_tensors_do_not_grow(result):
    # from the first look after training starts (gradients and momentum buffers exist by then):
    # the parameters, their gradients, the momentum buffers and the batch pool, nothing more
    first = result.reports[1]
    counts = {r.step: r.tensors for r in result.reports[1:]}
    assert max(counts.values()) <= first.tensors, counts
    problem = w1_mlp.make_problem()
    n_params = len(problem.params)
    assert first.tensors == 3 * n_params + 2 * len(problem.batches)


def test_monitor_was_recording(result):
    # one record in 10 steps; the history (1000 rows at most) is not full after 2000 steps
    assert result.monitor_records == STEPS // 10


def test_counter_sees_graphs_that_are_kept():
    # the check above could pass by counting nothing: keeping the losses must show their graphs
    lib = CapturingLib()
    step = w1_mlp.build(lib, w1_mlp.make_problem())
    before = soak._preexisting()
    ignore = frozenset(map(id, before))
    kept = [step() for _ in range(3)]
    nodes, _ = soak.live_graph_objects(ignore)
    assert nodes >= 3 * 5  # per step at least 3 Linear, 2 ReLU and the loss
    del kept
    assert soak.live_graph_objects(ignore)[0] == 0


def test_capturing_lib_keeps_the_workloads_model_and_optimizer():
    import backprop as bp

    lib = CapturingLib()
    w1_mlp.build(lib, w1_mlp.make_problem())
    assert isinstance(lib.model, bp.nn.Sequential)
    assert isinstance(lib.optimizer, bp.optim.SGD)
    assert lib.optim.lr_scheduler is bp.optim.lr_scheduler  # the rest passes through
