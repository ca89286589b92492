"""Learning-rate schedulers: the lr (and momentum) sequence over a training run, and the
parameters it produces, against PyTorch; state-dict round trips; errors."""

from __future__ import annotations

import copy
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from test_optim import Lib, Run, assert_same_params, libs, split_groups, train, values

import backprop as bp
import backprop.optim as bp_optim
from backprop.optim import lr_scheduler

STEPS = 60


def sgd(optim: Any, params: list) -> Any:
    return optim.SGD(params, lr=0.1, momentum=0.9)


def sgd_groups(optim: Any, params: list) -> Any:
    return optim.SGD(split_groups(params, lr=0.02), lr=0.1, momentum=0.9)


def adam(optim: Any, params: list) -> Any:
    return optim.Adam(params, lr=0.01)


def adagrad(optim: Any, params: list) -> Any:
    return optim.Adagrad(params, lr=0.1)


def sequential(s: Any, opt: Any) -> Any:
    warmup = s.LinearLR(opt, start_factor=0.1, total_iters=5)
    cosine = s.CosineAnnealingLR(opt, T_max=STEPS - 5, eta_min=1e-3)
    return s.SequentialLR(opt, [warmup, cosine], milestones=[5])


def sequential3(s: Any, opt: Any) -> Any:
    return s.SequentialLR(opt, [s.ConstantLR(opt, factor=0.5, total_iters=3),
                                s.ExponentialLR(opt, gamma=0.9),
                                s.StepLR(opt, step_size=4, gamma=0.5)], milestones=[6, 20])


def chained(s: Any, opt: Any) -> Any:
    return s.ChainedScheduler([s.ConstantLR(opt, factor=0.5, total_iters=10),
                               s.ExponentialLR(opt, gamma=0.95)])


def decay(epoch: int) -> float:
    return 1.0 / (1.0 + 0.1 * epoch)


def constant(epoch: int) -> float:
    return 0.97


def half_per_cycle(x: float) -> float:
    return 0.5 ** x


class Damped:
    """A callable-object scale function: its ``__dict__`` goes into the state dict."""

    def __init__(self, rate: float) -> None:
        self.rate = rate

    def __call__(self, x: float) -> float:
        return 1.0 / (1.0 + self.rate * x)


# (id, optimizer factory, scheduler factory(lr_scheduler module, optimizer), steps)
CASES: list[tuple[str, Callable, Callable, int]] = [
    ("StepLR", sgd, lambda s, o: s.StepLR(o, step_size=7, gamma=0.5), STEPS),
    ("StepLR-adam", adam, lambda s, o: s.StepLR(o, step_size=3), STEPS),
    ("MultiStepLR", sgd, lambda s, o: s.MultiStepLR(o, milestones=[5, 15, 15, 30], gamma=0.5),
     STEPS),
    ("ExponentialLR", sgd_groups, lambda s, o: s.ExponentialLR(o, gamma=0.95), STEPS),
    ("CosineAnnealingLR", sgd, lambda s, o: s.CosineAnnealingLR(o, T_max=STEPS), STEPS),
    ("CosineAnnealingLR-periodic", sgd_groups,
     lambda s, o: s.CosineAnnealingLR(o, T_max=10, eta_min=1e-3), STEPS),
    ("LinearLR-warmup", adam, lambda s, o: s.LinearLR(o, start_factor=0.1, total_iters=10), STEPS),
    ("LinearLR-decay", sgd,
     lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=30), STEPS),
    ("ConstantLR", sgd, lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=10), STEPS),
    ("PolynomialLR", sgd_groups, lambda s, o: s.PolynomialLR(o, total_iters=30, power=2.0), STEPS),
    ("LambdaLR", sgd, lambda s, o: s.LambdaLR(o, lr_lambda=decay), STEPS),
    ("LambdaLR-per-group", sgd_groups, lambda s, o: s.LambdaLR(o, lr_lambda=[decay, constant]),
     STEPS),
    ("MultiplicativeLR", adam, lambda s, o: s.MultiplicativeLR(o, lr_lambda=constant), STEPS),
    ("CosineAnnealingWarmRestarts", sgd,
     lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.01), STEPS),
    ("CosineAnnealingWarmRestarts-T_mult1", adam,
     lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=7), STEPS),
    ("OneCycleLR-sgd", sgd, lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=50), 50),
    ("OneCycleLR-adam-beta1", adam, lambda s, o: s.OneCycleLR(o, max_lr=0.05, total_steps=50),
     50),
    ("OneCycleLR-linear", sgd_groups,
     lambda s, o: s.OneCycleLR(o, max_lr=[0.5, 0.1], epochs=5, steps_per_epoch=10,
                               anneal_strategy="linear", base_momentum=[0.8, 0.7]), 50),
    ("OneCycleLR-three-phase", adam,
     lambda s, o: s.OneCycleLR(o, max_lr=0.05, total_steps=55, three_phase=True,
                               pct_start=0.25, div_factor=10.0, final_div_factor=100.0), 55),
    ("OneCycleLR-no-momentum", adagrad,
     lambda s, o: s.OneCycleLR(o, max_lr=0.3, total_steps=50, cycle_momentum=False), 50),
    ("CyclicLR", sgd, lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
     STEPS),
    ("CyclicLR-triangular2-asymmetric", sgd_groups,
     lambda s, o: s.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=[0.1, 0.05], step_size_up=3,
                             step_size_down=7, mode="triangular2",
                             base_momentum=[0.8, 0.7], max_momentum=[0.9, 0.95]), STEPS),
    ("CyclicLR-exp_range-adam-beta1", adam,
     lambda s, o: s.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=5, mode="exp_range",
                             gamma=0.97), STEPS),
    ("CyclicLR-scale_fn-cycle", sgd,
     lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2, step_size_down=4,
                             scale_fn=half_per_cycle), STEPS),
    ("CyclicLR-scale_fn-iterations", sgd,
     lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=6,
                             scale_fn=Damped(0.05), scale_mode="iterations"), STEPS),
    ("CyclicLR-no-momentum-sawtooth", adagrad,
     lambda s, o: s.CyclicLR(o, base_lr=0.05, max_lr=0.2, step_size_up=5, step_size_down=0,
                             cycle_momentum=False), STEPS),
    ("SequentialLR", sgd, sequential, STEPS),
    ("SequentialLR-three", sgd_groups, sequential3, STEPS),
    ("ChainedScheduler", adam, chained, STEPS),
]


def run_both(torch: Any, make_optimizer: Callable, make_scheduler: Callable, steps: int,
             metrics: list | None = None) -> tuple[Run, Run]:
    return tuple(train(lib, make_optimizer, steps, make_scheduler=make_scheduler, metrics=metrics)
                 for lib in libs(torch))


@pytest.mark.parametrize("name, make_optimizer, make_scheduler, steps", CASES,
                         ids=[c[0] for c in CASES])
def test_schedule_matches_pytorch(torch: Any, name: str, make_optimizer: Callable,
                                  make_scheduler: Callable, steps: int) -> None:
    ours, theirs = run_both(torch, make_optimizer, make_scheduler, steps)
    assert ours.lrs == theirs.lrs  # the same formulas in the same order: bit for bit
    assert ours.momenta == theirs.momenta
    assert_same_params(ours.params, theirs.params)
    assert len(set(np.round(np.ravel(ours.lrs), 12))) > 1  # the schedule really changes the lr
    ours_state, theirs_state = ours.scheduler.state_dict(), theirs.scheduler.state_dict()
    assert sorted(ours_state) == sorted(theirs_state)
    assert ours.optimizer.state_dict()["param_groups"] == theirs.optimizer.state_dict()[
        "param_groups"]


FLOAT32 = [c for c in CASES if c[0] in ("CyclicLR-exp_range-adam-beta1", "PolynomialLR",
                                         "CyclicLR-triangular2-asymmetric",
                                         "CosineAnnealingWarmRestarts")]


@pytest.mark.parametrize("name, make_optimizer, make_scheduler, steps", FLOAT32,
                         ids=[c[0] for c in FLOAT32])
def test_schedule_matches_pytorch_in_float32(torch: Any, name: str, make_optimizer: Callable,
                                             make_scheduler: Callable, steps: int) -> None:
    ours, theirs = (train(lib, make_optimizer, steps, make_scheduler=make_scheduler,
                          dtype=np.float32) for lib in libs(torch))
    assert ours.lrs == theirs.lrs and ours.momenta == theirs.momenta
    assert all(p.dtype == bp.float32 for p in ours.params)
    assert_same_params(ours.params, theirs.params, rtol=1e-4, atol=1e-5)


def test_every_scheduler_has_a_case_and_pytorchs_signature(torch: Any) -> None:
    """The same public schedulers as PyTorch, with its parameter names and defaults, each with a
    trajectory case above."""
    assert sorted(lr_scheduler.__all__) == sorted(torch.optim.lr_scheduler.__all__)
    covered = {c[0].split("-")[0] for c in CASES} | {"LRScheduler", "ReduceLROnPlateau"}
    assert set(lr_scheduler.__all__) <= covered
    for name in lr_scheduler.__all__:
        ours, theirs = (inspect.signature(getattr(module, name)).parameters.values()
                        for module in (lr_scheduler, torch.optim.lr_scheduler))
        assert [(p.name, p.default) for p in ours] == [(p.name, p.default) for p in theirs], name


METRICS = [1.0 / (1 + i // 6) + 0.01 * ((i * 37) % 5) for i in range(STEPS)]

PLATEAU = [
    ("defaults", {}),
    ("patience-factor", {"patience": 2, "factor": 0.5}),
    ("cooldown-min_lr", {"patience": 1, "factor": 0.5, "cooldown": 3, "min_lr": 0.01}),
    ("abs-threshold", {"patience": 2, "threshold": 0.05, "threshold_mode": "abs"}),
    ("rel-threshold", {"patience": 0, "threshold": 0.1, "factor": 0.7}),
    ("max-mode", {"mode": "max", "patience": 2, "factor": 0.5}),
    ("max-abs", {"mode": "max", "patience": 1, "threshold": 0.02, "threshold_mode": "abs"}),
    ("eps", {"patience": 0, "factor": 0.5, "eps": 0.01}),
    ("groups-min_lrs", {"patience": 1, "factor": 0.3, "min_lr": [0.005, 0.001]}),
]


@pytest.mark.parametrize("name, options", PLATEAU, ids=[p[0] for p in PLATEAU])
def test_reduce_lr_on_plateau_matches_pytorch(torch: Any, name: str, options: dict) -> None:
    make_optimizer = sgd_groups if isinstance(options.get("min_lr"), list) else sgd
    ours, theirs = run_both(torch, make_optimizer,
                            lambda s, o: s.ReduceLROnPlateau(o, **options), STEPS, METRICS)
    assert ours.lrs == theirs.lrs
    assert_same_params(ours.params, theirs.params)
    for key in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
        assert getattr(ours.scheduler, key) == getattr(theirs.scheduler, key)


def test_reduce_lr_on_plateau_accepts_a_tensor_metric() -> None:
    opt = bp_optim.SGD([bp.ones(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    sched.step(bp.tensor(1.0))
    sched.step(bp.tensor([2.0]))
    assert sched.get_last_lr() == [0.5]


CLOSED_FORM = [
    ("StepLR", lambda s, o: s.StepLR(o, step_size=3, gamma=0.5)),
    ("MultiStepLR", lambda s, o: s.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.5)),
    ("ExponentialLR", lambda s, o: s.ExponentialLR(o, gamma=0.9)),
    ("CosineAnnealingLR", lambda s, o: s.CosineAnnealingLR(o, T_max=8, eta_min=0.01)),
    ("LinearLR", lambda s, o: s.LinearLR(o, start_factor=0.2, total_iters=6)),
    ("ConstantLR", lambda s, o: s.ConstantLR(o, factor=0.25, total_iters=4)),
    ("PolynomialLR", lambda s, o: s.PolynomialLR(o, total_iters=8, power=1.5)),
    ("LambdaLR", lambda s, o: s.LambdaLR(o, lr_lambda=decay)),
    ("CosineAnnealingWarmRestarts", lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3,
                                                                                 T_mult=2)),
]
EPOCHS = [3, 7, 2, 10, 0.5, 4.25, 12.75, 1]


@pytest.mark.parametrize("name, make_scheduler", CLOSED_FORM, ids=[c[0] for c in CLOSED_FORM])
def test_step_with_an_epoch_matches_pytorch(torch: Any, name: str,
                                            make_scheduler: Callable) -> None:
    """The deprecated ``step(epoch)`` jumps with the closed form (fractional epochs are
    CosineAnnealingWarmRestarts' documented per-batch use)."""
    sequences = []
    for lib in libs(torch):
        opt = sgd(lib.optim, lib.params())
        sched = make_scheduler(lib.optim.lr_scheduler, opt)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in EPOCHS:
                opt.step()
                sched.step(epoch if "Warm" in name else int(epoch))
                lrs.append(sched.get_last_lr())
        sequences.append(lrs)
    assert sequences[0] == sequences[1]


def test_multistep_state_from_a_plain_dict() -> None:
    """Checkpoints store the milestone Counter as a plain dict; it must still work."""
    opt = _opt()
    sched = lr_scheduler.MultiStepLR(opt, milestones=[1, 3])
    state = sched.state_dict()
    state["milestones"] = dict(state["milestones"])
    sched.load_state_dict(state)
    opt.step()
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(4)
    assert sched.get_last_lr() == pytest.approx([0.1 * 0.1 * 0.1])


# -- state dicts ---------------------------------------------------------------------------------

ROUND_TRIP = [c for c in CASES if c[0] in ("StepLR", "MultiStepLR", "CosineAnnealingLR-periodic",
                                            "OneCycleLR-adam-beta1", "SequentialLR",
                                            "ChainedScheduler", "LambdaLR",
                                            "CosineAnnealingWarmRestarts",
                                            "CyclicLR-triangular2-asymmetric",
                                            "CyclicLR-scale_fn-iterations")]


@pytest.mark.parametrize("name, make_optimizer, make_scheduler, steps", ROUND_TRIP,
                         ids=[c[0] for c in ROUND_TRIP])
def test_state_dict_round_trip(name: str, make_optimizer: Callable, make_scheduler: Callable,
                               steps: int) -> None:
    lib = Lib(bp, bp_optim)
    first = train(lib, make_optimizer, 20, make_scheduler=make_scheduler)
    saved_optimizer = copy.deepcopy(first.optimizer.state_dict())
    saved_scheduler = copy.deepcopy(first.scheduler.state_dict())

    params = [bp.tensor(v, requires_grad=True) for v in values(first.params)]
    optimizer = make_optimizer(bp_optim, params)
    scheduler = make_scheduler(lr_scheduler, optimizer)  # before loading: it rewrites the lrs
    optimizer.load_state_dict(saved_optimizer)
    scheduler.load_state_dict(saved_scheduler)
    resumed = Run(params, optimizer, scheduler)

    train(lib, make_optimizer, steps - 20, run=first)
    train(lib, make_optimizer, steps - 20, run=resumed)
    assert first.lrs[20:] == resumed.lrs
    for a, b in zip(values(first.params), values(resumed.params)):
        np.testing.assert_array_equal(a, b)


def test_reduce_lr_on_plateau_state_dict_round_trip() -> None:
    opt = bp_optim.SGD([bp.ones(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=1, factor=0.5)
    for metric in METRICS[:10]:
        sched.step(-metric)
    saved = copy.deepcopy(sched.state_dict())
    other = lr_scheduler.ReduceLROnPlateau(opt)
    other.load_state_dict(saved)
    for metric in METRICS[10:]:
        sched.step(-metric)
        other.step(-metric)
        assert other.num_bad_epochs == sched.num_bad_epochs
    assert other.mode == "max" and other.best == sched.best


def test_resuming_with_last_epoch_matches_an_uninterrupted_run() -> None:
    """PyTorch's documented resume path: initial_lr in the groups and last_epoch given."""
    opt = bp_optim.SGD([bp.ones(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    for _ in range(3):
        opt.step()
        sched.step()
    resumed = lr_scheduler.ExponentialLR(opt, gamma=0.5, last_epoch=sched.last_epoch)
    opt.step()
    resumed.step()
    assert resumed.get_last_lr() == [0.0625]


# -- warnings and errors -------------------------------------------------------------------------

def test_warns_when_stepped_before_the_optimizer() -> None:
    opt = bp_optim.SGD([bp.ones(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_no_warning_in_the_right_order() -> None:
    opt = bp_optim.SGD([bp.ones(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()


def test_get_lr_outside_step_warns() -> None:
    opt = bp_optim.SGD([bp.ones(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def _opt(optimizer: str = "SGD", **options: Any) -> Any:
    return getattr(bp_optim, optimizer)([bp.ones(1, requires_grad=True)], lr=0.1, **options)


def _one_cycle_past_the_end() -> None:
    opt = _opt()
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2, cycle_momentum=False)
    for _ in range(3):
        opt.step()
        sched.step()


ERRORS = [
    (lambda: lr_scheduler.StepLR("not an optimizer", step_size=1), TypeError,
     "str is not an Optimizer"),
    (lambda: lr_scheduler.ExponentialLR(_opt(), gamma=0.5, last_epoch=3), KeyError,
     "initial_lr"),
    (lambda: lr_scheduler.LinearLR(_opt(), start_factor=0), ValueError, "start_factor=0"),
    (lambda: lr_scheduler.LinearLR(_opt(), end_factor=2), ValueError, "end_factor=2"),
    (lambda: lr_scheduler.ConstantLR(_opt(), factor=1.5), ValueError, "factor=1.5"),
    (lambda: lr_scheduler.LambdaLR(_opt(), lr_lambda=[decay, decay]), ValueError,
     "expected 1 lr_lambdas"),
    (lambda: lr_scheduler.MultiplicativeLR(_opt(), lr_lambda=0.5), TypeError,
     "should be a function"),
    (lambda: lr_scheduler.ReduceLROnPlateau(_opt(), factor=1.0), ValueError, "factor should be"),
    (lambda: lr_scheduler.ReduceLROnPlateau(_opt(), mode="avg"), ValueError, "'avg' is unknown"),
    (lambda: lr_scheduler.ReduceLROnPlateau(_opt(), threshold_mode="pct"), ValueError,
     "'pct' is unknown"),
    (lambda: lr_scheduler.ReduceLROnPlateau(_opt(), min_lr=[0.1, 0.2]), ValueError,
     "expected 1 min_lrs"),
    (lambda: lr_scheduler.OneCycleLR(_opt(), max_lr=1.0), ValueError, "total_steps OR"),
    (lambda: lr_scheduler.OneCycleLR(_opt(), max_lr=1.0, total_steps=0), ValueError,
     "positive integer total_steps"),
    (lambda: lr_scheduler.OneCycleLR(_opt(), max_lr=1.0, total_steps=5, pct_start=1), ValueError,
     "pct_start"),
    (lambda: lr_scheduler.OneCycleLR(_opt(), max_lr=1.0, total_steps=5, anneal_strategy="exp"),
     ValueError, "'cos' or 'linear'"),
    (lambda: lr_scheduler.OneCycleLR(_opt("Adagrad"), max_lr=1.0, total_steps=5), ValueError,
     "momentum or beta1"),
    (lambda: lr_scheduler.OneCycleLR(_opt(), max_lr=[1.0, 2.0], total_steps=5), ValueError,
     "max_lr must have the same length"),
    (_one_cycle_past_the_end, ValueError, "tried to step 3 times"),
    (lambda: lr_scheduler.CosineAnnealingWarmRestarts(_opt(), T_0=0), ValueError, "T_0"),
    (lambda: lr_scheduler.CosineAnnealingWarmRestarts(_opt(), T_0=2, T_mult=0), ValueError,
     "T_mult"),
    (lambda: lr_scheduler.CosineAnnealingWarmRestarts(_opt(), T_0=2, eta_min="0"), ValueError,
     "float or int eta_min, but got '0'"),
    (lambda: lr_scheduler.CyclicLR(_opt(), base_lr=0.1, max_lr=1.0, mode="cosine"), ValueError,
     "CyclicLR: mode 'cosine' is invalid"),
    (lambda: lr_scheduler.CyclicLR(_opt(), base_lr=0.1, max_lr=1.0, scale_fn=half_per_cycle,
                                   scale_mode="epoch"), ValueError,
     "CyclicLR: scale_mode 'epoch' is invalid"),
    (lambda: lr_scheduler.CyclicLR(_opt(), base_lr=0.1, max_lr=1.0, step_size_up=0), ValueError,
     "CyclicLR: step_size_up must be positive, got 0"),
    (lambda: lr_scheduler.CyclicLR(_opt(), base_lr=0.1, max_lr=1.0, step_size_down=-1),
     ValueError, "CyclicLR: step_size_down must be non-negative, got -1"),
    (lambda: lr_scheduler.CyclicLR(_opt(), base_lr=[0.1, 0.2], max_lr=1.0), ValueError,
     "base_lr must have the same length"),
    (lambda: lr_scheduler.CyclicLR(_opt("Adagrad"), base_lr=0.1, max_lr=1.0), ValueError,
     "CyclicLR: optimizer must support momentum or beta1"),
    (lambda: lr_scheduler.SequentialLR(o := _opt(), [lr_scheduler.StepLR(o, 2)], milestones=[3]),
     ValueError, "one more scheduler than milestones"),
    (lambda: lr_scheduler.SequentialLR(_opt(), [lr_scheduler.StepLR(_opt(), 2)], milestones=[]),
     ValueError, "same optimizer"),
    (lambda: lr_scheduler.ChainedScheduler([lr_scheduler.ReduceLROnPlateau(_opt())]), ValueError,
     "does not support ReduceLROnPlateau"),
    (lambda: lr_scheduler.ChainedScheduler([]), ValueError, "at least one scheduler"),
]


@pytest.mark.parametrize("make, error, message", ERRORS, ids=[m for _, _, m in ERRORS])
def test_errors(make: Callable, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make()
