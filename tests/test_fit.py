"""The shared training loop and update (backprop.train.fit): sums, period numbers, timing,
stopping early, a resumed first period, the bar's metric; update against PyTorch."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.train import fit as fit_module
from backprop.train.fit import Period, fit, update


def test_sums_each_periods_metrics_and_passes_its_number() -> None:
    seen: list[tuple[int, dict[str, float], int]] = []
    fit(range(3, 5), batches=lambda number: [number, 10 * number],
        step=lambda x: {"total": x, "count": 1},
        end_period=lambda period: seen.append((period.number, period.sums, period.steps)),
        progress=False)
    assert seen == [(3, {"total": 33, "count": 2}, 2), (4, {"total": 44, "count": 2}, 2)]


def test_integer_metrics_stay_integers_and_floats_add_in_order() -> None:
    ends: list[Period] = []
    values = [0.1, 0.2, 0.3]
    fit(range(1, 2), lambda number: values, lambda x: {"loss": x, "seen": 1}, ends.append,
        progress=False)
    assert isinstance(ends[0].sums["seen"], int)
    assert ends[0].sums["loss"] == (0.1 + 0.2) + 0.3  # the order a plain loop adds in


def test_after_step_stops_the_run_after_that_periods_end() -> None:
    stepped: list[int] = []
    ends: list[Period] = []

    def step(x: int) -> dict[str, float]:
        stepped.append(x)
        return {"n": 1}

    fit(range(1, 4), lambda number: range(5), step, ends.append,
        after_step=lambda period: period.number == 2 and period.steps == 3, progress=False)
    assert stepped == [0, 1, 2, 3, 4, 0, 1, 2]  # period 3 never starts
    assert [(p.number, p.steps, p.stopped) for p in ends] == [(1, 5, False), (2, 3, True)]
    assert ends[1].sums == {"n": 3}


def test_after_step_sees_the_running_sums() -> None:
    running: list[float] = []

    def after_step(period: Period) -> bool:
        running.append(period.sums["x"])
        return False

    fit(range(1, 2), lambda number: [1.0, 2.0, 4.0], lambda x: {"x": x}, lambda period: None,
        after_step=after_step, progress=False)
    assert running == [1.0, 3.0, 7.0]


def test_first_sums_continue_the_first_period_only() -> None:
    ends: list[Period] = []
    fit(range(2, 4), lambda number: [1.0], lambda x: {"loss": x}, ends.append,
        first_sums={"loss": 5.0}, progress=False)
    assert [p.sums["loss"] for p in ends] == [6.0, 1.0]


def test_each_period_is_timed_from_before_its_batches() -> None:
    seconds: list[float] = []

    def batches(number: int) -> list[int]:
        time.sleep(0.02)  # setting up the period counts, as it did in every command
        return [number] * number

    def step(x: int) -> dict[str, float]:
        time.sleep(0.01)
        return {}

    fit(range(1, 3), batches, step, lambda period: seconds.append(period.seconds),
        progress=False)
    assert 0.03 <= seconds[0] < 0.03 + 0.5 and 0.04 <= seconds[1] < 0.04 + 0.5
    assert seconds[1] > seconds[0]


def test_the_bar_names_the_period_and_shows_a_metrics_mean(monkeypatch: Any) -> None:
    bars: list[Any] = []

    class Bar:
        def __init__(self, items: Any, description: str, enabled: bool) -> None:
            self.items, self.description, self.postfixes = list(items), description, []
            bars.append(self)

        def __iter__(self) -> Any:
            return iter(self.items)

        def set_postfix(self, values: dict[str, str], refresh: bool) -> None:
            self.postfixes.append(values)

    monkeypatch.setattr(fit_module, "progress_bar", Bar)
    fit(range(1, 3), lambda number: [float(number)] * 20, lambda x: {"loss": x},
        lambda period: None, name="block", shown="loss")
    assert [bar.description for bar in bars] == ["block 1/2", "block 2/2"]
    assert bars[1].postfixes == [{"loss": "2.000"}, {"loss": "2.000"}]  # every 10 steps


def test_an_error_in_a_step_propagates_without_ending_the_period() -> None:
    ends: list[Period] = []

    def step(x: int) -> dict[str, float]:
        if x == 2:
            raise KeyboardInterrupt
        return {}

    with pytest.raises(KeyboardInterrupt):
        fit(range(1, 2), lambda number: [1, 2, 3], step, ends.append, progress=False)
    assert ends == []


def _pair(torch: Any) -> tuple[bp.nn.Linear, Any]:
    """Our Linear layer and PyTorch's, with the same float32 weights."""
    ours = bp.nn.Linear(4, 3, dtype=bp.float32)
    theirs = torch.nn.Linear(4, 3, dtype=torch.float32)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.detach().numpy().copy()))
        theirs.bias.copy_(torch.from_numpy(ours.bias.detach().numpy().copy()))
    return ours, theirs


@pytest.mark.parametrize("max_norm", [0.0, 0.05])
def test_update_matches_pytorchs_zero_grad_backward_clip_step_schedule(torch: Any,
                                                                      max_norm: float) -> None:
    ours, theirs = _pair(torch)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    optimizer = bp.optim.SGD(ours.parameters(), lr=0.5, momentum=0.9)
    scheduler = bp.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    torch_optimizer = torch.optim.SGD(theirs.parameters(), lr=0.5, momentum=0.9)
    torch_scheduler = torch.optim.lr_scheduler.StepLR(torch_optimizer, step_size=1, gamma=0.5)
    for _ in range(3):  # stale gradients would accumulate without zero_grad
        update((ours(bp.tensor(x)) ** 2).sum(), optimizer, scheduler, max_norm=max_norm)
        loss = (theirs(torch.from_numpy(x)) ** 2).sum()
        torch_optimizer.zero_grad()
        loss.backward()
        if max_norm:
            torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm)
        torch_optimizer.step()
        torch_scheduler.step()
    assert optimizer.param_groups[0]["lr"] == torch_optimizer.param_groups[0]["lr"] == 0.0625
    for name in ("weight", "bias"):
        np.testing.assert_allclose(getattr(ours, name).detach().numpy(),
                                   getattr(theirs, name).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_update_clips_only_the_parameters_given() -> None:
    clipped, free = bp.nn.Parameter(bp.tensor([3.0])), bp.nn.Parameter(bp.tensor([4.0]))
    update((clipped * clipped + free * free).sum(), bp.optim.SGD([clipped, free], lr=1.0),
           max_norm=1.0, parameters=[clipped])
    assert clipped.grad.item() == pytest.approx(1.0, rel=1e-5)  # 6, clipped to norm 1
    assert free.grad.item() == 8.0
