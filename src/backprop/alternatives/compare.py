"""The experiment behind ``backprop compare-methods``: one network, trained by backprop and by
each alternative under the same budgets, measured the same way.

Two tasks: the embedded digits (8x8 images, 10 classes; an MLP 64-H-10) and a small regression
(4 inputs, y = sin(2 x0) + x1 x2 - 0.5 x3^2 plus noise, standardised; an MLP 4-H-1, mean
squared error). Each method starts from the same initial weights (forward-forward's net has the
same hidden widths, but its first layer also reads the one-hot label and it has no output
layer), draws the same minibatches, and steps with Adam. Two budgets:

- ``evaluations``: forward passes of the network over a minibatch (a backward pass is counted
  apart, so backprop spends 1 forward + 1 backward per step, ES ``population`` forwards);
- ``seconds``: wall time spent estimating gradients and stepping (the test evaluations that
  draw the curves are not counted).

Measured per method and task: the test metric (accuracy, or MSE) along the way and at the end,
the evaluations spent to reach ``target_accuracy`` on the digits, forward/backward passes per
step, the peak memory of one step (``tracemalloc``, which sees NumPy's buffers), and the quality
of one gradient estimate: its cosine similarity to the exact backprop gradient at the initial
weights against the evaluations it cost.

>>> config = CompareConfig(methods=("backprop", "spsa"), tasks=("regression",), evaluations=40,
...                        seconds=0.01, spsa_samples=2, quality_evaluations=(2,), curve_points=2)
>>> run = compare(config, log=lambda line: None)["runs"]["evaluations"]["regression"]["spsa"]
>>> run["steps"], run["forward_per_step"], run["forward"]
(10, 4, 40)
"""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .. import nn, optim
from ..autograd.grad_mode import no_grad
from ..nn import functional as F
from ..random import manual_seed
from ..tensor import Tensor
from .base import Backprop, GradientEstimator, trainable
from .evolution import EvolutionStrategies
from .feedback_alignment import with_feedback_alignment
from .forward_forward import ForwardForward, ForwardForwardNet
from .spsa import SPSA

__all__ = ["BUDGETS", "METHODS", "TASKS", "CompareConfig", "Task", "compare",
           "gradient_quality", "load_task", "markdown_table"]

METHODS = ("backprop", "feedback-alignment", "evolution", "spsa", "forward-forward")
TASKS = ("digits", "regression")
BUDGETS = ("evaluations", "seconds")


@dataclass
class CompareConfig:
    """The settings of ``backprop compare-methods``; each is also a ``--flag``."""

    methods: tuple[str, ...] = METHODS
    tasks: tuple[str, ...] = TASKS
    hidden: int = 32                      # width of the one hidden layer of every network
    batch_size: int = 128
    evaluations: int = 20000              # forward-pass budget per method and task
    seconds: float = 10.0                 # wall-time budget per method and task
    population: int = 100                 # ES: evaluations per step (50 antithetic pairs)
    sigma: float = 0.05                   # ES: perturbation size
    spsa_samples: int = 8                 # SPSA: directions per step (2 evaluations each)
    spsa_c: float = 0.05                  # SPSA: initial perturbation size c
    target_accuracy: float = 0.9          # digits: evaluations spent to first reach this
    quality_evaluations: tuple[int, ...] = (2, 8, 32, 128, 512, 2048)  # ES/SPSA cosine points
    curve_points: int = 40                # test evaluations along each run (log-spaced)
    seed: int = 0
    # Adam learning rates, picked by hand from short digits runs (seed 0); e.g. SPSA's 0.01
    # beat 0.03 after 600 steps (test accuracy 0.92 against 0.85)
    lr: dict[str, float] = field(default_factory=lambda: {
        "backprop": 0.01, "feedback-alignment": 0.01, "evolution": 0.03, "spsa": 0.01,
        "forward-forward": 0.03})

    @classmethod
    def quick(cls) -> CompareConfig:
        """A run of a few seconds, for tests and a first look (``--quick``)."""
        return cls(hidden=16, batch_size=64, evaluations=300, seconds=0.2, population=20,
                   spsa_samples=2, quality_evaluations=(2, 32), curve_points=4)

    def validate(self) -> CompareConfig:
        """Check every value; raise ``ValueError`` naming the flag."""
        for name, given, known in (("--methods", self.methods, METHODS),
                                   ("--tasks", self.tasks, TASKS)):
            unknown = [g for g in given if g not in known]
            if unknown or not given:
                raise ValueError(f"compare-methods: {name} must name some of {', '.join(known)};"
                                 f" got {', '.join(given) or 'none'}")
        for name in ("hidden", "batch_size", "evaluations", "spsa_samples", "curve_points"):
            if getattr(self, name) < 1:
                raise ValueError(f"compare-methods: --{name.replace('_', '-')} must be at least "
                                 f"1; got {getattr(self, name)}")
        if self.seed < 0:
            raise ValueError(f"compare-methods: --seed must be at least 0; got {self.seed}")
        if self.population < 2 or self.population % 2:
            raise ValueError(f"compare-methods: --population must be even and at least 2 "
                             f"(antithetic pairs); got {self.population}")
        for name in ("seconds", "sigma", "spsa_c"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"compare-methods: --{name.replace('_', '-')} must be a "
                                 f"positive number; got {value}")
        if not 0 < self.target_accuracy <= 1:
            raise ValueError(f"compare-methods: --target-accuracy must be in (0, 1]; got "
                             f"{self.target_accuracy}")
        if any(n < 2 or n % 2 for n in self.quality_evaluations):
            raise ValueError(f"compare-methods: quality_evaluations must be even numbers >= 2; "
                             f"got {self.quality_evaluations}")
        return self


@dataclass
class Task:
    """A data set split in train and test, the loss, and the network's sizes."""

    name: str
    train: tuple[Tensor, Tensor]
    test: tuple[Tensor, Tensor]
    in_features: int
    out_features: int            # classes, or 1 for regression
    classification: bool

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        """Cross-entropy for classification, mean squared error for regression."""
        return F.cross_entropy(output, target) if self.classification else F.mse_loss(output,
                                                                                      target)

    def network(self, hidden: int, seed: int) -> nn.Sequential:
        """The MLP every method trains, with the same initial weights for a given seed."""
        manual_seed(seed)
        return nn.Sequential(nn.Linear(self.in_features, hidden), nn.ReLU(),
                             nn.Linear(hidden, self.out_features))


def load_task(name: str, seed: int = 0) -> Task:
    """The ``digits`` or ``regression`` task.

    >>> task = load_task("regression")
    >>> task.train[0].shape, task.test[1].shape, task.classification
    ((1000, 4), (250, 1), False)
    """
    if name == "digits":
        from .. import datasets

        splits = []
        for train in (True, False):
            data = datasets.Digits(train=train)
            images = np.asarray(data.data, dtype=np.float32).reshape(len(data.targets), -1)
            splits.append((Tensor._wrap(images), Tensor._wrap(np.asarray(data.targets))))
        return Task("digits", splits[0], splits[1], 64, 10, True)
    if name == "regression":
        rng = np.random.default_rng(seed + 1000)
        x = rng.uniform(-1.5, 1.5, size=(1250, 4))
        y = np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] - 0.5 * x[:, 3] ** 2
        y = y + 0.05 * rng.standard_normal(len(y))
        y = ((y - y.mean()) / y.std())[:, None]
        x, y = x.astype(np.float32), y.astype(np.float32)
        wrap = Tensor._wrap
        return Task("regression", (wrap(x[:1000]), wrap(y[:1000])),
                    (wrap(x[1000:]), wrap(y[1000:])), 4, 1, False)
    raise ValueError(f"load_task: unknown task {name!r}; known: {', '.join(TASKS)}")


def _setup(method: str, task: Task, config: CompareConfig) -> tuple[Any, GradientEstimator] | None:
    """The model and estimator of ``method`` on ``task``; None where it does not apply."""
    if method == "forward-forward":
        if not task.classification:
            return None  # goodness against a label: a classification rule only
        manual_seed(config.seed)
        return (ForwardForwardNet(task.in_features, [config.hidden], task.out_features),
                ForwardForward(config.seed))
    model = task.network(config.hidden, config.seed)
    if method == "feedback-alignment":
        return with_feedback_alignment(model, config.seed), Backprop()
    if method == "evolution":
        return model, EvolutionStrategies(config.population, config.sigma, seed=config.seed)
    if method == "spsa":
        return model, SPSA(config.spsa_samples, config.spsa_c, seed=config.seed)
    return model, Backprop()


_FORWARD_PER_STEP: dict[str, Callable[[CompareConfig], int]] = {
    "backprop": lambda c: 1, "feedback-alignment": lambda c: 1,
    "evolution": lambda c: c.population, "spsa": lambda c: 2 * c.spsa_samples,
    "forward-forward": lambda c: 2}


def _test_metric(model: Any, task: Task) -> tuple[float, float | None]:
    """(accuracy or MSE on the test split, test loss or None where it has no meaning)."""
    inputs, targets = task.test
    if isinstance(model, ForwardForwardNet):
        return float((model.predict(inputs) == targets.numpy()).mean()), None
    with no_grad():
        output = model(inputs)
        loss = float(task.loss(output, targets).item())
    if task.classification:
        return float((output.numpy().argmax(1) == targets.numpy()).mean()), loss
    return loss, loss


def _train(method: str, task: Task, config: CompareConfig, budget: str) -> dict[str, Any] | None:
    """Train ``method`` on ``task`` until ``budget`` runs out; the curve, the totals and the
    trained ``model``."""
    setup = _setup(method, task, config)
    if setup is None:
        return None
    model, estimator = setup
    optimizer = optim.Adam(model.parameters(), lr=config.lr[method])
    rng = np.random.default_rng(config.seed)  # the same minibatches for every method
    x, y = task.train
    limit = config.evaluations if budget == "evaluations" else config.seconds
    # log-spaced test points: the early curve, where methods differ most, stays visible
    marks = list(np.geomspace(limit / 1000, limit, config.curve_points))
    forwards = backwards = steps = 0
    seconds = 0.0

    def point(train_loss: float | None) -> dict[str, Any]:
        metric, loss = _test_metric(model, task)
        return {"step": steps, "forward": forwards, "backward": backwards, "seconds": seconds,
                "metric": metric, "test_loss": loss, "train_loss": train_loss}

    curve = [point(None)]
    per_step = (_FORWARD_PER_STEP[method](config), 0)  # corrected by the first step
    while True:
        spent = forwards if budget == "evaluations" else seconds
        if budget == "evaluations" and forwards + per_step[0] > limit:
            break
        if budget == "seconds" and spent >= limit:
            break
        index = rng.integers(0, len(y), config.batch_size)
        batch = (x[index], y[index])
        start = time.perf_counter()
        estimate = estimator.estimate_(model, task.loss, batch)
        optimizer.step()
        seconds += time.perf_counter() - start
        forwards += estimate.forward_evaluations
        backwards += estimate.backward_evaluations
        per_step = (estimate.forward_evaluations, estimate.backward_evaluations)
        steps += 1
        spent = forwards if budget == "evaluations" else seconds
        if marks and spent >= marks[0]:
            while marks and spent >= marks[0]:
                marks.pop(0)
            curve.append(point(estimate.loss))
    if curve[-1]["step"] != steps:  # the final weights always get a test point
        curve.append(point(estimate.loss))
    reached = None
    if task.classification:
        reached = next((p["forward"] for p in curve if p["metric"] >= config.target_accuracy),
                       None)
    return {"steps": steps, "forward": forwards, "backward": backwards, "seconds": seconds,
            "forward_per_step": per_step[0], "backward_per_step": per_step[1],
            "final_metric": curve[-1]["metric"], "final_test_loss": curve[-1]["test_loss"],
            "forward_to_target": reached, "curve": curve, "model": model}


def _step_memory(method: str, task: Task, config: CompareConfig) -> int | None:
    """Peak bytes allocated during one gradient estimate and optimizer step (``tracemalloc``),
    after one warm-up step so the optimizer's state is already there."""
    setup = _setup(method, task, config)
    if setup is None:
        return None
    model, estimator = setup
    optimizer = optim.Adam(model.parameters(), lr=config.lr[method])
    index = np.random.default_rng(config.seed).integers(0, len(task.train[1]), config.batch_size)
    batch = (task.train[0][index], task.train[1][index])
    estimator.estimate_(model, task.loss, batch)
    optimizer.step()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        estimator.estimate_(model, task.loss, batch)
        optimizer.step()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-300))


def _gradient(model: Any) -> np.ndarray:
    return np.concatenate([np.asarray(p.grad.numpy(), dtype=np.float64).ravel()
                           for p in trainable(model)])


def gradient_quality(task: Task, config: CompareConfig,
                     trained_fa: Any = None) -> dict[str, Any]:
    """Cosine similarity of each method's gradient estimate to the exact gradient, on one
    minibatch at the initial weights, with the evaluations it cost. Feedback alignment is also
    measured at its trained weights (``trained_fa``), where its feedback has had time to align.

    >>> quality = gradient_quality(load_task("regression"), CompareConfig.quick())
    >>> quality["backprop"][0]["cosine"]
    1.0
    """
    index = np.random.default_rng(config.seed + 1).integers(0, len(task.train[1]),
                                                            config.batch_size)
    batch = (task.train[0][index], task.train[1][index])
    model = task.network(config.hidden, config.seed)
    Backprop().estimate_(model, task.loss, batch)
    exact = _gradient(model)
    result: dict[str, Any] = {"backprop": [{"forward": 1, "backward": 1, "cosine": 1.0}]}
    for method in ("evolution", "spsa"):
        if method not in config.methods:
            continue
        points = []
        for n in config.quality_evaluations:
            estimator = (EvolutionStrategies(n, config.sigma, seed=config.seed + 7)
                         if method == "evolution" else SPSA(n // 2, config.spsa_c,
                                                            seed=config.seed + 7))
            estimator.estimate_(model, task.loss, batch)
            points.append({"forward": n, "backward": 0, "cosine": _cosine(_gradient(model), exact)})
        result[method] = points
    if "feedback-alignment" in config.methods:
        points = []
        for label, weights in (("initial", None), ("trained", trained_fa)):
            if label == "trained" and weights is None:
                continue
            fa = weights if weights is not None else with_feedback_alignment(
                task.network(config.hidden, config.seed), config.seed)
            plain = task.network(config.hidden, config.seed)
            plain.load_state_dict({k: v for k, v in fa.state_dict().items()
                                   if not k.endswith("feedback")})
            Backprop().estimate_(fa, task.loss, batch)
            Backprop().estimate_(plain, task.loss, batch)
            points.append({"forward": 1, "backward": 1, "weights": label,
                           "cosine": _cosine(_gradient(fa), _gradient(plain))})
        result["feedback-alignment"] = points
    return result


def compare(config: CompareConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every method on every task under both budgets; return all the figures (what
    ``backprop compare-methods`` writes to ``figures.json``). See the module docstring."""
    config.validate()
    result: dict[str, Any] = {"config": asdict(config), "runs": {b: {} for b in BUDGETS},
                              "memory": {}, "quality": {}}
    for name in config.tasks:
        task = load_task(name, config.seed)
        fa_model = None
        for budget in BUDGETS:
            runs = result["runs"][budget].setdefault(name, {})
            for method in config.methods:
                run = _train(method, task, config, budget)
                if run is None:
                    continue
                model = run.pop("model")
                if method == "feedback-alignment" and budget == "evaluations":
                    fa_model = model  # its trained feedback-alignment cosine is measured below
                runs[method] = run
                log(f"{name:10s} {budget:11s} {method:18s} steps {run['steps']:6d}  "
                    f"forward {run['forward']:6d}  {run['seconds']:6.2f} s  "
                    f"{'accuracy' if task.classification else 'test MSE'} "
                    f"{run['final_metric']:.4f}")
        result["memory"][name] = {m: _step_memory(m, task, config) for m in config.methods}
        result["quality"][name] = gradient_quality(task, config, fa_model)
    return result


def markdown_table(result: dict[str, Any]) -> str:
    """The figures as a Markdown table, one row per budget, task and method."""
    lines = [("| budget | task | method | steps | fwd/step | bwd/step | forward passes | seconds "
              "| test metric | fwd to target | step memory | gradient cosine |"),
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    target = result["config"]["target_accuracy"]
    for budget, tasks in result["runs"].items():
        for name, runs in tasks.items():
            for method, run in runs.items():
                metric = (f"acc {run['final_metric']:.3f}" if name == "digits"
                          else f"MSE {run['final_metric']:.3f}")
                reached = ("-" if name != "digits" else f">{run['forward']}"
                           if run["forward_to_target"] is None else str(run["forward_to_target"]))
                memory = result["memory"][name].get(method)
                lines.append(
                    f"| {budget} | {name} | {method} | {run['steps']} | "
                    f"{run['forward_per_step']} | {run['backward_per_step']} | {run['forward']} | "
                    f"{run['seconds']:.1f} | {metric} | {reached} | "
                    f"{'-' if memory is None else f'{memory / 1024:.0f} KiB'} | "
                    f"{_quality_cell(result['quality'][name].get(method))} |")
    lines.append(f"\nfwd to target: forward passes until the digits test accuracy first reached "
                 f"{target} (checked at the curve points). Gradient cosine: to the exact gradient "
                 f"at the initial weights, with the evaluations one estimate cost.")
    return "\n".join(lines)


def _quality_cell(points: list[dict[str, Any]] | None) -> str:
    if not points:
        return "-"
    return ", ".join(f"{p['cosine']:.2f}" + (f" ({p['weights']})" if "weights" in p
                                             else f" @{p['forward']}") for p in points)
