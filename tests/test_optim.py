"""Optimizers: 50-step trajectories against PyTorch for every option, state dicts, errors, and the
Optimizer base class's semantics (groups, zero_grad, closures, hooks, in-place updates).

The trajectory tests train the same small tanh MLP on fixed float64 data with backprop and with
PyTorch, from the same initial parameters, and compare the parameters after every run.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import backprop as bp
import backprop.optim as bp_optim
import backprop.optim.optimizer as optimizer_module
from backprop.errors import GraphError

RTOL, ATOL = 1e-6, 1e-9
STEPS = 50

_rng = np.random.default_rng(1234)
X = _rng.standard_normal((8, 3))
Y = _rng.standard_normal((8, 2))
INITIAL = [_rng.standard_normal((3, 6)) * 0.7, _rng.standard_normal(6) * 0.1,
           _rng.standard_normal((6, 2)) * 0.7, _rng.standard_normal(2) * 0.1]


# -- the problem, written once for both libraries ------------------------------------------------

@dataclass
class Lib:
    """One library's way to build the problem: backprop and PyTorch share the API."""

    module: Any          # bp or torch
    optim: Any           # backprop.optim or torch.optim

    def params(self, dtype: Any = np.float64) -> list:
        return [self.module.tensor(a.astype(dtype), requires_grad=True) for a in INITIAL]

    def loss(self, params: list, sign: float = 1.0) -> Any:
        w1, b1, w2, b2 = params
        x = self.module.tensor(X.astype(params[0].detach().numpy().dtype))
        y = self.module.tensor(Y.astype(params[0].detach().numpy().dtype))
        out = self.module.tanh(x @ w1 + b1) @ w2 + b2
        return ((out - y) ** 2).mean() * sign


def libs(torch: Any) -> tuple[Lib, Lib]:
    return Lib(bp, bp_optim), Lib(torch, torch.optim)


def values(params: list) -> list[np.ndarray]:
    return [np.array(p.detach().numpy()) for p in params]


@dataclass
class Run:
    """What a training run records: parameters at the end, and lr / momentum per step."""

    params: list
    optimizer: Any
    scheduler: Any = None
    lrs: list = field(default_factory=list)
    momenta: list = field(default_factory=list)


def train(lib: Lib, make_optimizer: Callable, steps: int = STEPS, *, sign: float = 1.0,
          make_scheduler: Callable | None = None, metrics: list | None = None,
          run: Run | None = None, dtype: Any = np.float64) -> Run:
    """Train ``steps`` steps (continuing ``run`` when given); return what happened."""
    if run is None:
        params = lib.params(dtype)
        optimizer = make_optimizer(lib.optim, params)
        scheduler = make_scheduler(lib.optim.lr_scheduler, optimizer) if make_scheduler else None
        run = Run(params, optimizer, scheduler)
    for i in range(steps):
        run.optimizer.zero_grad()
        lib.loss(run.params, sign).backward()
        run.optimizer.step()
        if run.scheduler is not None:
            if metrics is not None:
                run.scheduler.step(metrics[i])
            else:
                run.scheduler.step()
            run.lrs.append(list(run.scheduler.get_last_lr()))
            run.momenta.append([(g.get("momentum"), g.get("betas"))
                                for g in run.optimizer.param_groups])
    return run


def assert_same_params(ours: list, theirs: list, rtol: float = RTOL, atol: float = ATOL) -> None:
    for i, (a, b) in enumerate(zip(values(ours), values(theirs))):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"parameter {i}")


def split_groups(params: list, **second: Any) -> list[dict]:
    """Two parameter groups: the first layer with the defaults, the second with ``second``."""
    return [{"params": params[:2]}, {"params": params[2:], **second}]


# -- trajectories against PyTorch ----------------------------------------------------------------

CASES = [
    ("SGD", {}),
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.05,
             "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01,
             "maximize": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "groups": {"lr": 0.02, "momentum": 0.5}}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-6}),   # lerp's other branch
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "maximize": True, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01, "groups": {"lr": 0.002, "betas": (0.8, 0.99), "amsgrad": True}}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.2, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "maximize": True}),
    ("AdamW", {"lr": 0.01, "groups": {"lr": 0.03, "weight_decay": 0.0}}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.005, "centered": True}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.005, "alpha": 0.9, "eps": 1e-6, "maximize": True}),
    ("RMSprop", {"lr": 0.005, "groups": {"lr": 0.001, "centered": True, "momentum": 0.3}}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.1, "eps": 1e-6}),
    ("Adagrad", {"lr": 0.1, "maximize": True, "lr_decay": 0.05, "weight_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "groups": {"lr": 0.5, "lr_decay": 0.1}}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-5}),
    ("Adadelta", {"weight_decay": 0.1, "maximize": True}),
    ("Adadelta", {"groups": {"lr": 0.3, "rho": 0.95}}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-6}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {"lr": 0.01, "groups": {"lr": 0.03, "betas": (0.8, 0.99)}}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.01, "momentum_decay": 0.01, "betas": (0.5, 0.9)}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.01, "groups": {"lr": 0.003, "momentum_decay": 0.0}}),
    ("RAdam", {}),                                          # rho_t > 5 from step 6 on
    ("RAdam", {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-6}),
    ("RAdam", {"lr": 0.01, "betas": (0.9, 0.6)}),           # rho_t <= 5 always: the SGD branch
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01, "groups": {"lr": 0.03, "betas": (0.8, 0.99)}}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.1)}),   # both clips
    ("Rprop", {"lr": 0.05, "maximize": True}),
    ("Rprop", {"groups": {"lr": 0.001, "etas": (0.6, 1.1)}}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.1, "lambd": 0.1, "alpha": 0.5, "t0": 2}),   # averaging from step 3
    ("ASGD", {"lr": 0.1, "weight_decay": 0.1, "maximize": True, "t0": 0}),
    ("ASGD", {"lr": 0.1, "groups": {"lr": 0.05, "lambd": 0.01, "t0": 3}}),
    ("Adafactor", {}),
    ("Adafactor", {"lr": 0.5}),      # the relative step is 1/sqrt(t) from step 5 on
    ("Adafactor", {"lr": 0.05, "weight_decay": 0.1, "maximize": True}),
    ("Adafactor", {"eps": (1e-3, 1e-2), "d": 1.5, "beta2_decay": -0.5}),   # clipping and eps1
    ("Adafactor", {"groups": {"lr": 0.03, "d": 2.0}}),
]


def case_id(case: tuple[str, dict]) -> str:
    name, options = case
    return name + "-" + ("defaults" if not options else
                         ",".join(f"{k}={v}" for k, v in options.items()))


def optimizer_factory(name: str, options: dict) -> Callable:
    options = dict(options)
    second = options.pop("groups", None)

    def make(optim: Any, params: list) -> Any:
        given = params if second is None else split_groups(params, **second)
        return getattr(optim, name)(given, **options)

    return make


def sign_of(options: dict) -> float:
    """Maximizing runs maximize the negated loss, so they converge like the others."""
    return -1.0 if options.get("maximize") else 1.0


@pytest.fixture(params=[None, 40], ids=["whole", "chunked"])
def chunk_bytes(request: Any, monkeypatch: Any) -> int | None:
    """Run once as is and once with updates sliced into 40-byte chunks (5 float64 values, so
    every parameter of the test model is split, unevenly), the path large parameters take."""
    if request.param is not None:
        monkeypatch.setattr(optimizer_module, "_CHUNK_BYTES", request.param)
    return request.param


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_trajectory_matches_pytorch(torch: Any, case: tuple[str, dict],
                                    chunk_bytes: int | None) -> None:
    name, options = case
    make = optimizer_factory(name, options)
    ours, theirs = (train(lib, make, sign=sign_of(options)) for lib in libs(torch))
    assert_same_params(ours.params, theirs.params)
    # the runs really moved: a loose equality would otherwise pass with no updates at all
    assert not np.allclose(values(ours.params)[0], INITIAL[0])


@pytest.mark.parametrize("name, options", [("SGD", {"lr": 0.1, "momentum": 0.9}),
                                           ("Adam", {"lr": 0.01, "amsgrad": True}),
                                           ("RMSprop", {"lr": 0.005, "centered": True,
                                                        "momentum": 0.5}),
                                           ("Adadelta", {"lr": 0.5, "weight_decay": 0.01}),
                                           ("Adamax", {"lr": 0.01, "weight_decay": 0.01}),
                                           ("NAdam", {"lr": 0.01, "weight_decay": 0.01}),
                                           ("RAdam", {"lr": 0.01, "weight_decay": 0.01}),
                                           ("Rprop", {"lr": 0.05}),
                                           ("ASGD", {"lr": 0.1, "lambd": 0.01, "t0": 2}),
                                           ("Adafactor", {"lr": 0.01, "weight_decay": 0.01})])
def test_float32_trajectory_stays_float32(torch: Any, name: str, options: dict,
                                          chunk_bytes: int | None) -> None:
    make = optimizer_factory(name, options)
    ours, theirs = (train(lib, make, dtype=np.float32) for lib in libs(torch))
    for p in ours.params:
        assert p.dtype == np.float32
    for state in ours.optimizer.state.values():
        for value in state.values():
            assert not isinstance(value, bp.Tensor) or value.dtype == np.float32
    # float32 runs on both sides, whose rounding differs per step and accumulates over 50 steps.
    assert_same_params(ours.params, theirs.params, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_state_dict_layout_matches_pytorch(torch: Any, case: tuple[str, dict]) -> None:
    name, options = case
    make = optimizer_factory(name, options)
    ours, theirs = (train(lib, make, steps=5, sign=sign_of(options)) for lib in libs(torch))
    mine, reference = ours.optimizer.state_dict(), theirs.optimizer.state_dict()
    assert mine["param_groups"] == reference["param_groups"]
    assert sorted(mine["state"]) == sorted(reference["state"])
    for index, entry in reference["state"].items():
        assert sorted(mine["state"][index]) == sorted(entry)
        for key, value in entry.items():
            if key == "step":
                assert mine["state"][index][key] == float(value)
            else:
                np.testing.assert_allclose(mine["state"][index][key].numpy(), value.numpy(),
                                           rtol=RTOL, atol=ATOL)
    assert repr(ours.optimizer) == repr(theirs.optimizer)


# -- state dicts ---------------------------------------------------------------------------------

ROUND_TRIP = [("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
              ("Adam", {"lr": 0.01, "amsgrad": True, "groups": {"lr": 0.003}}),
              ("AdamW", {"lr": 0.01}),
              ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.5}),
              ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
              ("Adadelta", {"lr": 0.5, "groups": {"rho": 0.8}}),
              ("Adamax", {"lr": 0.01}),
              ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
              ("RAdam", {"lr": 0.01}),
              ("Rprop", {"lr": 0.05, "step_sizes": (1e-4, 0.2)}),
              ("ASGD", {"lr": 0.1, "lambd": 0.01, "t0": 5}),
              ("Adafactor", {"lr": 0.05, "groups": {"d": 2.0}})]


@pytest.mark.parametrize("case", ROUND_TRIP, ids=[case_id(c) for c in ROUND_TRIP])
def test_state_dict_round_trip_continues_the_same_trajectory(case: tuple[str, dict]) -> None:
    name, options = case
    make = optimizer_factory(name, options)
    lib = Lib(bp, bp_optim)
    first = train(lib, make, steps=20)
    saved = copy.deepcopy(first.optimizer.state_dict())

    params = [bp.tensor(v, requires_grad=True) for v in values(first.params)]
    optimizer = getattr(bp_optim, name)(params if "groups" not in options
                                        else split_groups(params), lr=0.5)  # lr is restored
    optimizer.load_state_dict(saved)
    resumed = Run(params, optimizer)

    train(lib, make, steps=30, run=first)
    train(lib, make, steps=30, run=resumed)
    # NAdam's mu_product is a float32 scalar until loaded, then the parameters' dtype (as in
    # PyTorch): the resumed run rounds it differently, in the last bits.
    rtol = 1e-12 if name == "NAdam" else 0
    for a, b in zip(values(first.params), values(resumed.params)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0)
    # the loaded state was copied, not shared with the dict it came from
    for entry in saved["state"].values():
        for value in entry.values():
            if isinstance(value, bp.Tensor):
                assert all(value._data is not v._data for s in optimizer.state.values()
                           for v in s.values() if isinstance(v, bp.Tensor))


@pytest.mark.parametrize("case", ROUND_TRIP, ids=[case_id(c) for c in ROUND_TRIP])
def test_loads_a_pytorch_state_dict(torch: Any, case: tuple[str, dict]) -> None:
    """A checkpoint written by PyTorch (tensors in its state) resumes in backprop."""
    name, options = case
    make = optimizer_factory(name, options)
    ours_lib, torch_lib = libs(torch)
    theirs = train(torch_lib, make, steps=20)
    params = [bp.tensor(v, requires_grad=True) for v in values(theirs.params)]
    optimizer = make(bp_optim, params)
    optimizer.load_state_dict(theirs.optimizer.state_dict())
    ours = Run(params, optimizer)
    train(torch_lib, make, steps=30, run=theirs)
    train(ours_lib, make, steps=30, run=ours)
    assert_same_params(ours.params, theirs.params)


def test_state_dict_indices_and_named_parameters(torch: Any) -> None:
    dicts = []
    for lib in libs(torch):
        named = [(f"p{i}", p) for i, p in enumerate(lib.params())]
        groups = [{"params": named[:1]}, {"params": named[1:], "lr": 0.2}]
        dicts.append(lib.optim.SGD(groups, lr=0.1).state_dict())
    mine, reference = dicts
    assert mine["param_groups"] == reference["param_groups"]
    assert mine["param_groups"][1]["params"] == [1, 2, 3]
    assert mine["param_groups"][1]["param_names"] == ["p1", "p2", "p3"]


@pytest.mark.parametrize("bad, message", [
    ({"state": {}, "param_groups": []}, "different number of parameter groups"),
    ({"state": {}, "param_groups": [{"lr": 0.1, "params": [0]}]}, "doesn't match the size"),
    ([], "expected a dict"),
])
def test_load_state_dict_errors(bad: Any, message: str) -> None:
    optimizer = bp_optim.SGD(Lib(bp, bp_optim).params(), lr=0.1)
    with pytest.raises(ValueError, match=message):
        optimizer.load_state_dict(bad)


# -- errors --------------------------------------------------------------------------------------

def _leaf() -> bp.Tensor:
    return bp.ones(2, requires_grad=True)


def _shared() -> list[dict]:
    p = _leaf()
    return [{"params": [p]}, {"params": [p], "lr": 0.5}]


ERRORS = [
    (lambda: bp_optim.SGD(_leaf()), TypeError, "single Tensor"),
    (lambda: bp_optim.SGD({"params": [_leaf()]}), TypeError, "wrap a parameter group in a list"),
    (lambda: bp_optim.SGD([_leaf(), 1.0]), TypeError, r"can only optimize Tensors.*params\[1\]"),
    (lambda: bp_optim.SGD([]), ValueError, "empty parameter list"),
    (lambda: bp_optim.SGD([{"params": {_leaf()}}]), TypeError, "ordered collections"),
    (lambda: bp_optim.SGD([_leaf() * 2]), ValueError, "can't optimize a non-leaf Tensor"),
    (lambda: bp_optim.SGD([p := _leaf(), p]), ValueError, "same parameter more than once"),
    (lambda: bp_optim.SGD(_shared()), ValueError, "more than one parameter group"),
    (lambda: bp_optim.SGD([{"params": [_leaf()], "lr": -1.0}], lr=0.1), ValueError,
     r"invalid learning rate lr=-1.0"),
    (lambda: bp_optim.SGD([_leaf()], lr=-0.1), ValueError, r"SGD: invalid learning rate lr=-0.1"),
    (lambda: bp_optim.SGD([_leaf()], momentum=-0.5), ValueError, "momentum=-0.5"),
    (lambda: bp_optim.SGD([_leaf()], weight_decay=-1), ValueError, "weight_decay=-1"),
    (lambda: bp_optim.SGD([_leaf()], nesterov=True), ValueError, "Nesterov momentum requires"),
    (lambda: bp_optim.SGD([_leaf()], momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "zero dampening"),
    (lambda: bp_optim.Adam([_leaf()], lr=-1e-3), ValueError, "Adam: invalid learning rate"),
    (lambda: bp_optim.Adam([_leaf()], betas=(1.0, 0.999)), ValueError,
     r"beta parameter at index 0: betas\[0\]=1.0"),
    (lambda: bp_optim.Adam([_leaf()], betas=(0.9, -0.1)), ValueError, "index 1"),
    (lambda: bp_optim.AdamW([_leaf()], betas=0.9), ValueError, "AdamW: betas must be a pair"),
    (lambda: bp_optim.Adam([_leaf()], eps=-1e-8), ValueError, "eps=-1e-08"),
    (lambda: bp_optim.AdamW([_leaf()], weight_decay=-0.1), ValueError, "AdamW.*weight_decay"),
    (lambda: bp_optim.RMSprop([_leaf()], alpha=-0.5), ValueError, "RMSprop.*alpha=-0.5"),
    (lambda: bp_optim.Adagrad([_leaf()], lr_decay=-1), ValueError, "Adagrad.*lr_decay=-1"),
    (lambda: bp_optim.Adagrad([_leaf()], initial_accumulator_value=-1), ValueError,
     "initial_accumulator_value=-1"),
    (lambda: bp_optim.Adam([_leaf()], differentiable=True), NotImplementedError, "differentiable"),
    (lambda: bp_optim.Adadelta([_leaf()], rho=1.5), ValueError, "Adadelta: invalid rho value rho=1.5"),
    (lambda: bp_optim.Adadelta([_leaf()], lr=-1), ValueError, "Adadelta: invalid learning rate"),
    (lambda: bp_optim.Adamax([_leaf()], betas=(0.9, 1.0)), ValueError, r"Adamax.*betas\[1\]=1.0"),
    (lambda: bp_optim.Adamax([_leaf()], eps=-1), ValueError, "Adamax.*eps=-1"),
    (lambda: bp_optim.NAdam([_leaf()], momentum_decay=-1), ValueError,
     "NAdam.*momentum_decay=-1"),
    (lambda: bp_optim.NAdam([_leaf()], betas=0.9), ValueError, "NAdam: betas must be a pair"),
    (lambda: bp_optim.RAdam([_leaf()], weight_decay=-0.1), ValueError, "RAdam.*weight_decay"),
    (lambda: bp_optim.RAdam([_leaf()], differentiable=True), NotImplementedError,
     "RAdam: differentiable=True"),
    (lambda: bp_optim.Rprop([_leaf()], etas=(0.5, 0.9)), ValueError,
     r"Rprop: invalid eta values etas=\(0.5, 0.9\)"),
    (lambda: bp_optim.Rprop([_leaf()], step_sizes=1e-6), ValueError,
     "Rprop: step_sizes must be a pair"),
    (lambda: bp_optim.Rprop([_leaf()], lr=-1), ValueError, "Rprop: invalid learning rate"),
    (lambda: bp_optim.ASGD([_leaf()], weight_decay=-1), ValueError, "ASGD.*weight_decay=-1"),
    (lambda: bp_optim.ASGD([_leaf()], differentiable=True), NotImplementedError,
     "ASGD: differentiable=True"),
    (lambda: bp_optim.Adafactor([_leaf()], beta2_decay=0.5), ValueError,
     "Adafactor: invalid beta2_decay=0.5; it must be <= 0"),
    (lambda: bp_optim.Adafactor([_leaf()], eps=(None, -1)), ValueError,
     r"Adafactor: invalid eps\[1\]=-1"),
    (lambda: bp_optim.Adafactor([_leaf()], d=0.5), ValueError,
     "Adafactor: invalid clipping threshold d=0.5; it must be >= 1"),
    (lambda: bp_optim.Adafactor([_leaf()], lr=-1), ValueError, "Adafactor: invalid learning rate"),
    (lambda: bp_optim.SGD([_leaf()]).add_param_group([_leaf()]), TypeError, "must be a dict"),
    (lambda: bp_optim.SGD([_leaf()]).add_param_group({"lr": 0.1}), ValueError, "no 'params'"),
    (lambda: bp_optim.SGD([("w", _leaf())]).add_param_group({"params": [_leaf()]}), ValueError,
     "with/without names"),
]


@pytest.mark.parametrize("make, error, message", ERRORS, ids=[m for _, _, m in ERRORS])
def test_errors(make: Callable, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make()


# -- base-class semantics ------------------------------------------------------------------------

def _loss(w: bp.Tensor) -> bp.Tensor:
    return ((w * w) * bp.tensor([1.0, 3.0])).sum()


def test_zero_grad_set_to_none() -> None:
    w = bp.tensor([1.0, 2.0], requires_grad=True)
    optimizer = bp_optim.SGD([w], lr=0.1)
    _loss(w).backward()
    optimizer.zero_grad()
    assert w.grad is None


def test_zero_grad_in_place_keeps_the_tensor_and_detaches_it() -> None:
    w = bp.tensor([1.0, 2.0], requires_grad=True)
    optimizer = bp_optim.SGD([w], lr=0.1)
    _loss(w).backward(create_graph=True)
    grad = w.grad
    assert grad.grad_fn is not None
    optimizer.zero_grad(set_to_none=False)
    assert w.grad is grad and grad.grad_fn is None and not grad.requires_grad
    assert grad.tolist() == [0.0, 0.0]
    _loss(w).backward()           # accumulates into the zeroed gradient
    assert w.grad.tolist() == [2.0, 12.0]


def test_parameters_without_gradient_are_skipped() -> None:
    used, unused = bp.tensor([1.0, 2.0], requires_grad=True), bp.tensor([5.0], requires_grad=True)
    for optimizer in (bp_optim.Adam([used, unused], lr=0.1),
                      bp_optim.SGD([used, unused], lr=0.1, momentum=0.9, weight_decay=0.1)):
        optimizer.zero_grad()
        _loss(used).backward()
        optimizer.step()
        assert unused.tolist() == [5.0]
        assert unused not in optimizer.state


def test_step_updates_in_place_without_recording_a_graph() -> None:
    w = bp.tensor([1.0, 2.0], requires_grad=True)
    storage = w._data
    optimizer = bp_optim.Adam([w], lr=0.1)
    _loss(w).backward()
    optimizer.step()
    assert w._data is storage and w.grad_fn is None and w.is_leaf
    assert optimizer.state[w]["exp_avg"].grad_fn is None
    assert bp.is_grad_enabled()


def test_step_bumps_the_version_so_stale_graphs_refuse_to_backward() -> None:
    w = bp.tensor([1.0, 2.0], requires_grad=True)
    optimizer = bp_optim.SGD([w], lr=0.1)
    _loss(w).backward()
    stale = (w * w).sum()        # saves w
    optimizer.step()
    with pytest.raises(GraphError):
        stale.backward()


def test_closure_runs_with_grad_and_its_loss_is_returned() -> None:
    w = bp.tensor([1.0, 2.0], requires_grad=True)
    twin = bp.tensor([1.0, 2.0], requires_grad=True)
    optimizer, reference = bp_optim.SGD([w], lr=0.1), bp_optim.SGD([twin], lr=0.1)
    seen = []

    def closure() -> bp.Tensor:
        seen.append(bp.is_grad_enabled())
        optimizer.zero_grad()
        loss = _loss(w)
        loss.backward()
        return loss

    with bp.no_grad():
        loss = optimizer.step(closure)
    assert seen == [True] and loss.item() == 13.0
    _loss(twin).backward()
    reference.step()
    assert w.tolist() == twin.tolist()


def test_step_hooks() -> None:
    w = bp.tensor([1.0, 2.0], requires_grad=True)
    optimizer = bp_optim.SGD([w], lr=0.1)
    calls = []
    pre = optimizer.register_step_pre_hook(lambda opt, args, kwargs: calls.append("pre"))
    optimizer.register_step_post_hook(lambda opt, args, kwargs: calls.append("post"))
    optimizer.step()
    pre.remove()
    optimizer.step()
    assert calls == ["pre", "post", "post"]


def test_subclass_calling_super_step_runs_hooks_once() -> None:
    class Clipped(bp_optim.SGD):
        def step(self, closure: Any = None) -> Any:
            assert not bp.is_grad_enabled()
            return super().step(closure)

    w = bp.tensor([1.0, 2.0], requires_grad=True)
    optimizer = Clipped([w], lr=0.1)
    calls = []
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: calls.append("pre"))
    _loss(w).backward()
    optimizer.step()
    assert calls == ["pre"] and w.tolist() == [pytest.approx(0.8), pytest.approx(0.8)]


def test_deepcopy_gives_an_independent_optimizer() -> None:
    w = bp.tensor([1.0, 2.0], requires_grad=True)
    optimizer = bp_optim.Adam([w], lr=0.1)
    _loss(w).backward()
    optimizer.step()
    clone = copy.deepcopy(optimizer)
    clone_w = clone.param_groups[0]["params"][0]
    assert clone_w is not w and clone.state[clone_w]["step"] == 1
    clone.step()
    assert clone.state[clone_w]["step"] == 2 and optimizer.state[w]["step"] == 1


def test_add_param_group_fills_defaults_and_is_optimized() -> None:
    w, b = bp.tensor([1.0, 2.0], requires_grad=True), bp.tensor([3.0], requires_grad=True)
    optimizer = bp_optim.SGD([w], lr=0.1, momentum=0.9)
    optimizer.add_param_group({"params": b, "lr": 0.5})
    group = optimizer.param_groups[1]
    assert len(group["params"]) == 1 and group["params"][0] is b
    assert (group["lr"], group["momentum"], group["nesterov"]) == (0.5, 0.9, False)
    (b * b).sum().backward()
    optimizer.step()
    assert b.tolist() == [0.0]
    assert optimizer.defaults["lr"] == 0.1


def test_pytorch_defaults() -> None:
    params = [_leaf()]
    assert bp_optim.SGD(params).defaults["lr"] == 1e-3
    adam = bp_optim.Adam(params).defaults
    assert (adam["lr"], adam["betas"], adam["eps"], adam["weight_decay"]) == (1e-3, (0.9, 0.999),
                                                                              1e-8, 0)
    assert bp_optim.AdamW(params).defaults["weight_decay"] == 1e-2
    rms = bp_optim.RMSprop(params).defaults
    assert (rms["lr"], rms["alpha"], rms["eps"]) == (1e-2, 0.99, 1e-8)
    ada = bp_optim.Adagrad(params).defaults
    assert (ada["lr"], ada["eps"], ada["lr_decay"]) == (1e-2, 1e-10, 0)


OPTIMIZERS = [name for name in bp_optim.__all__
              if isinstance(getattr(bp_optim, name), type) and name != "Optimizer"]
# PyTorch's optimizers that backprop leaves out, and why: SparseAdam updates only the entries of
# sparse gradients, and backprop has no sparse tensors; Muon orthogonalizes its updates in
# bfloat16, which NumPy lacks, so its numbers could not be PyTorch's.
NOT_PROVIDED = {"SparseAdam", "Muon"}


def test_every_optimizer_has_a_case_and_pytorchs_signature(torch: Any) -> None:
    """The same public optimizers as PyTorch (less the ones named above), each with trajectory
    cases against PyTorch (LBFGS's, which needs a closure, are in test_lbfgs.py)."""
    from test_lbfgs import OPTIONS as LBFGS_CASES

    theirs = {name for name in torch.optim.__all__
              if isinstance(getattr(torch.optim, name), type) and name != "Optimizer"}
    assert set(OPTIMIZERS) == theirs - NOT_PROVIDED
    covered = {name for name, _ in CASES} | ({"LBFGS"} if LBFGS_CASES else set())
    assert set(OPTIMIZERS) <= covered, set(OPTIMIZERS) - covered


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_signature_and_defaults_match_pytorch(torch: Any, name: str) -> None:
    import inspect

    ours, theirs = (inspect.signature(getattr(m, name).__init__) for m in (bp_optim, torch.optim))
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == \
        [(p.name, p.kind, p.default) for p in theirs.parameters.values()]
    assert getattr(bp_optim, name)([_leaf()]).defaults == \
        getattr(torch.optim, name)([torch.ones(2, requires_grad=True)]).defaults


def _flags(name: str) -> list[str]:
    import inspect

    return [flag for flag in ("foreach", "fused", "capturable", "differentiable")
            if flag in inspect.signature(getattr(bp_optim, name)).parameters]


STEPPED = [name for name in OPTIMIZERS if name != "LBFGS"]   # LBFGS has none of these flags


FLAG_CASES = [(name, flags) for name in STEPPED
              for flags in ({"foreach": True}, {"foreach": False}, {"fused": True},
                            {"capturable": True})
              if flags.keys() <= set(_flags(name))]


@pytest.mark.parametrize("name, flags", FLAG_CASES, ids=[case_id(c) for c in FLAG_CASES])
def test_foreach_fused_and_capturable_give_the_same_trajectory(name: str, flags: dict) -> None:
    """``foreach``, ``fused`` and ``capturable`` only choose among PyTorch's kernels for one
    update: backprop honours every value with its one update (``maximize``, the other flag, is
    in the trajectory cases; the signature test checks each optimizer has PyTorch's flags)."""
    lib = Lib(bp, bp_optim)
    plain = train(lib, optimizer_factory(name, {}), steps=5)
    flagged = train(lib, optimizer_factory(name, flags), steps=5)
    assert flagged.optimizer.defaults.items() >= flags.items()
    for a, b in zip(values(plain.params), values(flagged.params)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", [n for n in STEPPED if "fused" in _flags(n)])
def test_fused_trajectory_matches_pytorchs_fused(torch: Any, name: str) -> None:
    options = {"lr": 0.01, "weight_decay": 0.01, "maximize": True, "fused": True}
    make = optimizer_factory(name, options)
    ours, theirs = (train(lib, make, sign=-1.0) for lib in libs(torch))
    assert_same_params(ours.params, theirs.params)


@pytest.mark.parametrize("name", [n for n in STEPPED if "differentiable" in _flags(n)])
def test_differentiable_and_fused_with_foreach_are_refused(torch: Any, name: str) -> None:
    with pytest.raises(NotImplementedError, match=f"{name}: differentiable=True is not "
                                                  "supported; backprop's optimizers update"):
        getattr(bp_optim, name)([_leaf()], differentiable=True)
    if "fused" in _flags(name):
        with pytest.raises(RuntimeError, match=f"{name}: `fused` and `foreach` cannot be `True` "
                                               "together"):
            getattr(bp_optim, name)([_leaf()], fused=True, foreach=True)
        with pytest.raises(RuntimeError, match="cannot be `True` together"):   # as PyTorch
            getattr(torch.optim, name)([torch.ones(2, requires_grad=True)], fused=True,
                                       foreach=True)


def test_adagrad_state_exists_before_the_first_step() -> None:
    w = _leaf()
    optimizer = bp_optim.Adagrad([w], initial_accumulator_value=0.5)
    state = optimizer.state_dict()["state"][0]
    assert state["step"] == 0 and state["sum"].tolist() == [0.5, 0.5]


@pytest.mark.parametrize("name, options", ROUND_TRIP, ids=[case_id(c) for c in ROUND_TRIP])
def test_non_contiguous_parameters_update_like_contiguous_ones(monkeypatch: Any, name: str,
                                                               options: dict) -> None:
    """A Fortran-ordered parameter (and state) cannot be sliced flat: it takes the whole-array
    path, with the same result."""
    monkeypatch.setattr(optimizer_module, "_CHUNK_BYTES", 40)
    lib = Lib(bp, bp_optim)
    make = optimizer_factory(name, options)
    contiguous = train(lib, make, steps=10)
    params = lib.params()
    params[0]._data = np.asfortranarray(params[0]._data)
    fortran = train(lib, make, steps=10, run=Run(params, make(bp_optim, params)))
    assert not params[0]._data.flags.c_contiguous
    for a, b in zip(values(contiguous.params), values(fortran.params)):
        np.testing.assert_array_equal(a, b)


def test_no_allocation_growth_in_scratch() -> None:
    """The work buffers are reused: one per (dtype, slot), sized to the largest parameter."""
    params = Lib(bp, bp_optim).params()
    optimizer = bp_optim.Adam(params, lr=0.01, weight_decay=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        Lib(bp, bp_optim).loss(params).backward()
        optimizer.step()
    buffers = optimizer._scratch._buffers
    assert len(buffers) <= 3
    assert all(b.size == max(p.numel() for p in params) for b in buffers.values())
