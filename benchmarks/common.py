"""Shared pieces: library adapters (backprop and PyTorch share one model code path), NumPy weight
generation, and the step closure every contender exposes."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# OMP_WAIT_POLICY=PASSIVE is set in benchmarks/__init__.py, before torch can be imported.
TORCH_THREADS = 2
# Whether backprop's step is captured (bp.compile) and replayed: the "captured" contender.
CAPTURE = False


@dataclass
class Problem:
    """A workload instance: initial weights by parameter name and a pool of batches (NumPy)."""

    name: str
    params: dict[str, np.ndarray]
    batches: list[tuple[np.ndarray, ...]]
    config: dict[str, Any] = field(default_factory=dict)


class Lib:
    """The handful of things that differ between backprop and PyTorch."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "backprop":
            import backprop as mod
            import backprop.nn.functional as F
        elif name == "torch":
            import torch as mod
            import torch.nn.functional as F
            mod.set_num_threads(TORCH_THREADS)
        else:
            raise ValueError(f"unknown library {name!r}")
        self.mod = mod
        self.nn = mod.nn
        self.F = F
        self.optim = mod.optim

    def tensor(self, array: np.ndarray) -> Any:
        if self.name == "torch":
            return self.mod.from_numpy(np.ascontiguousarray(array).copy())
        return self.mod.tensor(np.ascontiguousarray(array).copy())

    @contextlib.contextmanager
    def float32(self):
        """Build modules in float32 even where a test session made float64 the default."""
        if self.name != "torch":
            yield
            return
        old = self.mod.get_default_dtype()
        self.mod.set_default_dtype(self.mod.float32)
        try:
            yield
        finally:
            self.mod.set_default_dtype(old)

    def load(self, model: Any, params: dict[str, np.ndarray]) -> None:
        """Replace every parameter's value by a float32 copy of ``params[name]``."""
        names = dict(model.named_parameters())
        if set(names) != set(params):
            raise KeyError(f"{self.name}: parameter names differ: "
                           f"{sorted(names)} vs {sorted(params)}")
        for name, p in names.items():
            value = params[name]
            if tuple(p.shape) != value.shape:
                raise ValueError(f"{self.name}: {name} has shape {tuple(p.shape)}, "
                                 f"weights {value.shape}")
            p.data = self.tensor(value.astype(np.float32))


def available_libs() -> list[str]:
    names = ["backprop"]
    try:
        import torch  # noqa: F401
    except ImportError:
        pass
    else:
        names.append("torch")
    return names


def uniform(rng: np.random.Generator, shape: tuple[int, ...], bound: float) -> np.ndarray:
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def linear_params(rng: np.random.Generator, prefix: str, n_in: int, n_out: int,
                  params: dict[str, np.ndarray]) -> None:
    """PyTorch's default Linear init, drawn with NumPy: U(-1/sqrt(in), 1/sqrt(in))."""
    bound = 1.0 / np.sqrt(n_in)
    params[prefix + "weight"] = uniform(rng, (n_out, n_in), bound)
    params[prefix + "bias"] = uniform(rng, (n_out,), bound)


def next_token_batches(rng: np.random.Generator, vocab: int, batch: int, length: int,
                       n_batches: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Random token windows ``(batch, length)`` and the same shifted by one (the targets)."""
    batches = []
    for _ in range(n_batches):
        tokens = rng.integers(0, vocab, size=(batch, length + 1)).astype(np.int64)
        batches.append((np.ascontiguousarray(tokens[:, :-1]), np.ascontiguousarray(tokens[:, 1:])))
    return batches


def make_library_step(lib: Lib, model: Any, optimizer: Any, loss_fn: Callable[..., Any],
                      problem: Problem, inputs: Callable[[Lib, tuple], tuple]) -> Callable[[], Any]:
    """A step closure over the library's copies of the batches; returns the loss tensor."""
    batches = [inputs(lib, batch) for batch in problem.batches]
    n = len(batches)
    state = {"i": 0}

    def train_step(x: Any, y: Any) -> Any:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    if CAPTURE and lib.name == "backprop":
        train_step = lib.mod.compile(train_step)

    def step() -> Any:
        x, y = batches[state["i"] % n]
        state["i"] += 1
        return train_step(x, y)

    step.train_step = train_step  # type: ignore[attr-defined]  # the compiled one, for tests
    return step


def to_float(loss: Any) -> float:
    return float(loss.item()) if hasattr(loss, "item") else float(loss)


class _CapturingOptim:
    """Stands in for ``backprop.optim``: optimizer classes are wrapped so the instance a workload
    constructs is kept on ``owner.optimizer``; everything else passes through unchanged."""

    def __init__(self, optim: Any, owner: CapturingLib) -> None:
        self._optim = optim
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._optim, name)
        if not (isinstance(attr, type) and issubclass(attr, self._optim.Optimizer)):
            return attr

        def construct(*args: Any, **kwargs: Any) -> Any:
            self._owner.optimizer = attr(*args, **kwargs)
            return self._owner.optimizer

        return construct


class CapturingLib(Lib):
    """backprop's adapter, keeping the model (it passes through ``load``) and the optimizer that a
    workload's ``build()`` makes, so the monitored step is exactly the benchmark's step."""

    def __init__(self) -> None:
        super().__init__("backprop")
        self.model: Any = None
        self.optimizer: Any = None
        self.optim = _CapturingOptim(self.optim, self)

    def load(self, model: Any, params: Any) -> None:
        self.model = model
        super().load(model, params)
