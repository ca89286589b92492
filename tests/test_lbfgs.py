"""LBFGS: trajectories against PyTorch's on small problems (Rosenbrock, least squares, logistic
regression), with and without the strong-Wolfe line search, over several ``step`` calls with a
history short enough to wrap; its state, state dicts and errors."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import backprop as bp
import backprop.optim as bp_optim

_rng = np.random.default_rng(7)
A = _rng.standard_normal((10, 4))
B = _rng.standard_normal((10, 2))
LABELS = (_rng.random(12) < 0.5).astype(np.float64)
FEATURES = _rng.standard_normal((12, 3)) + LABELS[:, None]


def rosenbrock(lib: Any, params: list) -> Any:
    (x,) = params
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def least_squares(lib: Any, params: list) -> Any:
    w, b = params
    return ((lib.tensor(A, dtype=w.dtype) @ w + b - lib.tensor(B, dtype=w.dtype)) ** 2).mean()


def logistic(lib: Any, params: list) -> Any:
    w, b = params
    logits = lib.tensor(FEATURES, dtype=w.dtype) @ w + b
    y = lib.tensor(LABELS, dtype=w.dtype)
    # Softplus written out: the loss of a logistic regression with a small L2 term.
    return (lib.log1p(lib.exp(-logits.abs())) + logits.clamp(min=0) - logits * y).mean() \
        + 0.01 * (w * w).sum()


PROBLEMS: dict[str, tuple[Callable, list[np.ndarray]]] = {
    "rosenbrock": (rosenbrock, [np.array([-1.2, 1.0, -0.5, 0.8])]),
    "least_squares": (least_squares, [_rng.standard_normal((4, 2)), np.zeros(2)]),
    "logistic": (logistic, [np.zeros(3), np.zeros(())]),
}

OPTIONS = [
    {"max_iter": 5, "history_size": 3},
    {"max_iter": 4, "history_size": 2, "line_search_fn": "strong_wolfe"},
    {"lr": 0.5, "max_iter": 3, "history_size": 2, "line_search_fn": "strong_wolfe"},
    {"max_iter": 6, "max_eval": 9, "history_size": 4, "line_search_fn": "strong_wolfe"},
    {"lr": 0.2, "max_iter": 2, "history_size": 1},
]
STEPS = 6


def option_id(options: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in options.items())


class Run:
    """An LBFGS run of one library on one problem, recording what each ``step`` returned."""

    def __init__(self, lib: Any, problem: str, options: dict, dtype: Any = np.float64) -> None:
        self.lib = lib
        self.loss_fn, initial = PROBLEMS[problem]
        self.params = [lib.tensor(a.astype(dtype), requires_grad=True) for a in initial]
        self.optimizer = lib.optim.LBFGS(self.params, **options)
        self.losses: list[float] = []
        self.evaluations = 0

    def closure(self) -> Any:
        self.evaluations += 1
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.lib, self.params)
        loss.backward()
        return loss

    def step(self, steps: int = 1) -> Run:
        for _ in range(steps):
            self.losses.append(self.optimizer.step(self.closure).item())
        return self

    def values(self) -> list[np.ndarray]:
        return [np.array(p.detach().numpy()) for p in self.params]

    def counters(self) -> tuple[int, int]:
        state = self.optimizer.state[self.params[0]]
        return state["func_evals"], state["n_iter"]


def assert_same(ours: Run, theirs: Run, rtol: float = 1e-8, atol: float = 1e-10) -> None:
    for i, (a, b) in enumerate(zip(ours.values(), theirs.values())):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"parameter {i}")
    np.testing.assert_allclose(ours.losses, theirs.losses, rtol=rtol, atol=atol)


@pytest.mark.parametrize("options", OPTIONS, ids=[option_id(o) for o in OPTIONS])
@pytest.mark.parametrize("problem", PROBLEMS)
def test_trajectory_matches_pytorch(torch: Any, problem: str, options: dict) -> None:
    ours, theirs = Run(bp, problem, options), Run(torch, problem, options)
    for _ in range(STEPS):   # compared after every step: the state carries between calls
        ours.step()
        theirs.step()
        assert_same(ours, theirs)
        assert ours.counters() == theirs.counters()
        assert ours.evaluations == theirs.evaluations
    assert ours.losses[-1] < ours.losses[0]
    state = ours.optimizer.state[ours.params[0]]
    assert len(state["old_dirs"]) == options["history_size"]   # the history wrapped


@pytest.mark.parametrize("options", OPTIONS[:2], ids=[option_id(o) for o in OPTIONS[:2]])
def test_float32_trajectory_stays_float32(torch: Any, options: dict) -> None:
    # Two steps: later ones reach gradients of 1e-5, whose curvature products (1e-10) sit at
    # the threshold that keeps a pair, and float32 rounding decides them differently.
    ours, theirs = (Run(lib, "least_squares", options, np.float32).step(2)
                    for lib in (bp, torch))
    assert all(p.dtype == bp.float32 for p in ours.params)
    state = ours.optimizer.state[ours.params[0]]
    assert state["d"].dtype == bp.float32 and state["prev_flat_grad"].dtype == bp.float32
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)


def test_state_layout_matches_pytorch(torch: Any) -> None:
    options = OPTIONS[1]
    ours, theirs = Run(bp, "least_squares", options).step(2), Run(torch, "least_squares",
                                                                   options).step(2)
    mine, reference = ours.optimizer.state_dict(), theirs.optimizer.state_dict()
    assert mine["param_groups"] == reference["param_groups"]
    assert list(mine["state"]) == list(reference["state"]) == [0]
    assert sorted(mine["state"][0]) == sorted(reference["state"][0])
    for key, value in reference["state"][0].items():
        got = mine["state"][0][key]
        if isinstance(value, list):
            assert len(got) == len(value), key
            pairs = list(zip(got, value))
        else:
            pairs = [(got, value)]
        for a, b in pairs:
            if b is None:
                assert a is None, key
            else:
                a = a.numpy() if isinstance(a, bp.Tensor) else a
                b = b.numpy() if isinstance(b, torch.Tensor) else b
                np.testing.assert_allclose(a, b, rtol=1e-9, err_msg=key)
    assert repr(ours.optimizer) == repr(theirs.optimizer)


@pytest.mark.parametrize("source", ["backprop", "pytorch"])
@pytest.mark.parametrize("options", OPTIONS[:2], ids=[option_id(o) for o in OPTIONS[:2]])
def test_state_dict_round_trip_continues_the_same_trajectory(torch: Any, source: str,
                                                             options: dict) -> None:
    """A state saved after two steps (by backprop or by PyTorch) resumes the same run."""
    lib = bp if source == "backprop" else torch
    first = Run(lib, "rosenbrock", options).step(2)
    saved = copy.deepcopy(first.optimizer.state_dict())
    resumed = Run(bp, "rosenbrock", {**options, "lr": 0.01})   # lr comes from the saved groups
    for p, value in zip(resumed.params, first.values()):
        p.data = bp.tensor(value)
    resumed.optimizer.load_state_dict(saved)
    first.losses.clear()
    first.step(3)
    resumed.step(3)
    assert_same(resumed, first, rtol=1e-9, atol=1e-12)


def test_starting_at_an_optimum_returns_at_once() -> None:
    w = bp.tensor([1.0, -2.0], requires_grad=True)
    optimizer = bp_optim.LBFGS([w])
    calls = []

    def closure() -> bp.Tensor:
        calls.append(1)
        optimizer.zero_grad()
        loss = ((w - bp.tensor([1.0, -2.0])) ** 2).sum()
        loss.backward()
        return loss

    assert optimizer.step(closure).item() == 0.0
    assert len(calls) == 1 and w.tolist() == [1.0, -2.0]
    assert optimizer.state[w]["func_evals"] == 1 and optimizer.state[w]["n_iter"] == 0


def test_a_parameter_without_gradient_stays() -> None:
    used, unused = bp.tensor([3.0, -1.0], requires_grad=True), bp.tensor([5.0],
                                                                         requires_grad=True)
    optimizer = bp_optim.LBFGS([used, unused], line_search_fn="strong_wolfe")

    def closure() -> bp.Tensor:
        optimizer.zero_grad()
        loss = (used ** 2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    assert unused.tolist() == [5.0]
    np.testing.assert_allclose(used.tolist(), [0.0, 0.0], atol=1e-6)


def _leaf() -> bp.Tensor:
    return bp.ones(2, requires_grad=True)


@pytest.mark.parametrize("make, error, message", [
    (lambda: bp_optim.LBFGS([{"params": [_leaf()]}, {"params": [_leaf()]}]), ValueError,
     r"LBFGS doesn't support per-parameter options \(parameter groups\)"),
    (lambda: bp_optim.LBFGS([_leaf()]).add_param_group({"params": [_leaf()]}), ValueError,
     "LBFGS doesn't support per-parameter options"),
    (lambda: bp_optim.LBFGS([_leaf()], lr=-1), ValueError, "LBFGS: invalid learning rate lr=-1"),
    (lambda: bp_optim.LBFGS([_leaf()], line_search_fn="armijo"), ValueError,
     "LBFGS: line_search_fn must be None or 'strong_wolfe', got 'armijo'"),
    (lambda: bp_optim.LBFGS([_leaf()]).step(), RuntimeError, "LBFGS.step: a closure is required"),
], ids=["groups", "add_param_group", "lr", "line_search_fn", "closure"])
def test_errors(make: Callable, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make()


def test_deepcopy_continues_like_the_original() -> None:
    run = Run(bp, "rosenbrock", OPTIONS[1]).step(2)
    twin = Run(bp, "rosenbrock", OPTIONS[1])
    twin.params, twin.optimizer = copy.deepcopy((run.params, run.optimizer))
    twin.losses = list(run.losses)
    run.step(2)
    twin.step(2)
    assert_same(twin, run, rtol=0, atol=0)
