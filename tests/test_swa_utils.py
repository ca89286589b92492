"""``optim.swa_utils`` against PyTorch's: averaged weights (SWA and EMA, per tensor and in place,
with and without buffers), the SWALR schedule, and update_bn's recomputed statistics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.optim import swa_utils

_rng = np.random.default_rng(3)
X = _rng.standard_normal((6, 3))
Y = _rng.standard_normal((6, 2))
BATCHES = [_rng.standard_normal((4, 3)) for _ in range(3)]


def make_model(lib: Any, dtype: Any = np.float64, reference: Any = None) -> Any:
    """A small model with a batch norm; ``reference`` (PyTorch's) gives its initial values."""
    nn = lib.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2))
    model = model.to(lib.float32 if dtype == np.float32 else lib.float64)
    if reference is not None:
        model.load_state_dict({k: bp.tensor(v.detach().numpy())
                               for k, v in reference.state_dict().items()})
    return model


def models(torch: Any, dtype: Any = np.float64) -> tuple[Any, Any]:
    torch.manual_seed(0)
    theirs = make_model(torch, dtype)
    return make_model(bp, dtype, theirs), theirs


def averaging(lib: Any, which: str) -> dict[str, Any]:
    utils = lib.optim.swa_utils
    return {"swa": {},
            "swa-multi": {"multi_avg_fn": utils.get_swa_multi_avg_fn()},
            "swa-per-tensor": {"avg_fn": utils.get_swa_avg_fn()},
            "ema-multi": {"multi_avg_fn": utils.get_ema_multi_avg_fn(0.9)},
            "ema-per-tensor": {"avg_fn": utils.get_ema_avg_fn(0.8)},
            "ema-buffers": {"multi_avg_fn": utils.get_ema_multi_avg_fn(0.7), "use_buffers": True},
            "swa-buffers": {"use_buffers": True}}[which]


def train_and_average(lib: Any, model: Any, options: dict, dtype: Any, steps: int = 5) -> Any:
    """SGD steps on the model, folding each into the average (and a forward of the average)."""
    averaged = lib.optim.swa_utils.AveragedModel(model, **options)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    x, y = lib.tensor(X.astype(dtype)), lib.tensor(Y.astype(dtype))
    for _ in range(steps):
        optimizer.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        optimizer.step()
        averaged.update_parameters(model)
    return averaged


WHICH = ["swa", "swa-multi", "swa-per-tensor", "ema-multi", "ema-per-tensor", "ema-buffers",
         "swa-buffers"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("which", WHICH)
def test_averaged_model_matches_pytorch(torch: Any, which: str, dtype: Any) -> None:
    ours_model, their_model = models(torch, dtype)
    ours = train_and_average(bp, ours_model, averaging(bp, which), dtype)
    theirs = train_and_average(torch, their_model, averaging(torch, which), dtype)
    assert repr(ours) == repr(theirs)
    mine, reference = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(reference)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for key, value in reference.items():
        got = mine[key]
        assert got.dtype == bp.tensor(value.numpy()).dtype, key
        np.testing.assert_allclose(got.numpy(), value.numpy(), rtol=rtol, atol=rtol,
                                   err_msg=key)
    assert ours.n_averaged.item() == 5
    # The averaged weights differ from the last ones, and the copy answers calls.
    assert not np.allclose(ours.module[0].weight.detach().numpy(),
                           ours_model[0].weight.detach().numpy())
    x = X.astype(dtype)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(bp.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=rtol, atol=rtol)


def test_averaged_model_loads_pytorchs_state_dict(torch: Any) -> None:
    ours_model, their_model = models(torch)
    theirs = train_and_average(torch, their_model, {}, np.float64)
    ours = swa_utils.AveragedModel(ours_model)
    ours.load_state_dict({k: bp.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert ours.n_averaged.item() == 5
    ours.update_parameters(ours_model)        # the sixth model weighs 1/6
    expected = theirs.module[0].weight.detach().numpy() * 5 / 6 + \
        ours_model[0].weight.detach().numpy() / 6
    np.testing.assert_allclose(ours.module[0].weight.detach().numpy(), expected, rtol=1e-12)


def test_update_bn_matches_pytorch(torch: Any) -> None:
    ours_model, their_model = models(torch)
    for model, lib in ((ours_model, bp), (their_model, torch)):
        model[1].momentum = 0.3
        model.eval()
        # (input, target) pairs, as a DataLoader gives them
        lib.optim.swa_utils.update_bn([(lib.tensor(b), lib.tensor(b[:, :2])) for b in BATCHES],
                                      model)
        assert not model.training and model[1].momentum == 0.3
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(ours_model[1], name).numpy(),
                                   getattr(their_model[1], name).numpy(), rtol=1e-12,
                                   err_msg=name)
    assert ours_model[1].num_batches_tracked.item() == len(BATCHES)


def test_update_bn_without_batch_norm_does_not_run_the_model() -> None:
    calls = []
    model = bp.nn.Linear(3, 2)
    model.register_forward_hook(lambda *args: calls.append(1))
    swa_utils.update_bn([bp.tensor(b) for b in BATCHES], model)
    assert calls == []


SCHEDULES: list[tuple[str, Callable, Any]] = [
    ("cos", lambda u, o: u.SWALR(o, swa_lr=0.05, anneal_epochs=4), 0.5),
    ("linear", lambda u, o: u.SWALR(o, swa_lr=0.05, anneal_epochs=3, anneal_strategy="linear"),
     0.5),
    ("no-annealing", lambda u, o: u.SWALR(o, swa_lr=0.05, anneal_epochs=0), 0.5),
    ("per-group", lambda u, o: u.SWALR(o, swa_lr=[0.05, 0.2], anneal_epochs=5), [0.5, 0.1]),
    ("one-epoch", lambda u, o: u.SWALR(o, swa_lr=0.3, anneal_epochs=1, anneal_strategy="linear"),
     0.5),
]


@pytest.mark.parametrize("make, lr", [s[1:] for s in SCHEDULES], ids=[s[0] for s in SCHEDULES])
def test_swalr_matches_pytorch(torch: Any, make: Callable, lr: Any) -> None:
    runs = []
    for lib in (bp, torch):
        params = [lib.zeros(2, requires_grad=True), lib.zeros(1, requires_grad=True)]
        lrs = lr if isinstance(lr, list) else [lr, lr]
        optimizer = lib.optim.SGD([{"params": [p], "lr": r} for p, r in zip(params, lrs)])
        scheduler = make(lib.optim.swa_utils, optimizer)
        seen = [scheduler.get_last_lr()]
        for epoch in range(8):
            optimizer.step()
            scheduler.step()
            seen.append(scheduler.get_last_lr())
            if epoch == 5:   # a change made by someone else is annealed from, recursively
                for group in optimizer.param_groups:
                    group["lr"] *= 2
        runs.append((seen, scheduler.state_dict()))
    (ours, our_state), (theirs, their_state) = runs
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)
    assert sorted(our_state) == sorted(their_state)
    assert our_state["_anneal_strategy"] == their_state["_anneal_strategy"]


def test_signatures_match_pytorch(torch: Any) -> None:
    import inspect

    assert sorted(swa_utils.__all__) == sorted(torch.optim.swa_utils.__all__)
    for name in swa_utils.__all__:
        ours, theirs = (inspect.signature(getattr(m, name)).parameters.values()
                        for m in (swa_utils, torch.optim.swa_utils))
        assert [(p.name, p.default) for p in ours] == [(p.name, p.default) for p in theirs], name


def _sgd() -> Any:
    return bp.optim.SGD([bp.zeros(1, requires_grad=True)], lr=0.1)


@pytest.mark.parametrize("make, message", [
    (lambda: swa_utils.SWALR(_sgd(), swa_lr=0.1, anneal_strategy="step"),
     "SWALR: anneal_strategy must be one of 'cos' or 'linear', instead got 'step'"),
    (lambda: swa_utils.SWALR(_sgd(), swa_lr=0.1, anneal_epochs=-1),
     "SWALR: anneal_epochs must be equal or greater than 0, got -1"),
    (lambda: swa_utils.SWALR(_sgd(), swa_lr=[0.1, 0.2]),
     "swa_lr must have the same length as optimizer.param_groups"),
    (lambda: swa_utils.get_ema_multi_avg_fn(1.5), "invalid decay value 1.5"),
    (lambda: swa_utils.AveragedModel(bp.nn.Linear(1, 1), avg_fn=swa_utils.get_swa_avg_fn(),
                                     multi_avg_fn=swa_utils.get_swa_multi_avg_fn()),
     "only one of avg_fn and multi_avg_fn"),
    (lambda: swa_utils.AveragedModel(bp.nn.Linear(1, 1)).update_parameters(bp.nn.Linear(1, 1,
                                                                                        False)),
     "the model has 1 parameters, the averaged copy 2"),
])
def test_errors(make: Callable, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()
