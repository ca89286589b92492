"""Loss landscapes: the loss along a line between two parameter sets (Goodfellow, Vinyals and
Saxe, "Qualitatively characterizing neural network optimization problems", 2015) and on a plane
through the model's parameters along random filter-normalised directions (Li, Xu, Taylor, Studer
and Goldstein, "Visualizing the Loss Landscape of Neural Nets", 2018).

The model is moved by swapping each parameter's storage for a work array, filling the work arrays
for every grid point, and swapping the original arrays back at the end (also on an exception), so
the parameters come back as the very same arrays, bit for bit, and no optimizer state or hook
notices anything.
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from ..errors import ShapeError, format_shape
from ..nn.module import Module
from ..tensor import Tensor
from ._batches import LossFn, as_batches, eval_mode, mean_loss
from ..atomic import atomic_writer
from .landscape_plot import ENDS, draw

NORMALIZATIONS = ("filter", "layer", "none")
MODES = ("interpolation", "random", "given")
_FORMAT = "backprop-landscape-1"


@dataclass(eq=False)
class LossLandscape:
    """The loss over a line (``ndim == 1``) or a plane (``ndim == 2``) of parameter space.

    ``loss[i]`` (or ``loss[i, j]``) is the mean loss at ``coordinates[0][i]`` (and
    ``coordinates[1][j]``); ``accuracy`` has the same layout, or is None when the outputs are not
    class scores. ``mode`` says what the coordinates measure: ``"interpolation"`` (α in
    θ = (1 − α)·θ₀ + α·θ₁), ``"random"`` (steps along random directions drawn with ``seed`` and
    rescaled per ``normalization``) or ``"given"`` (steps along directions the caller gave).
    ``directions`` holds those directions by parameter name (None for an interpolation); it is
    not written by ``save``.
    """

    coordinates: tuple[np.ndarray, ...]
    loss: np.ndarray
    accuracy: np.ndarray | None = None
    mode: str = "random"
    normalization: str = "filter"
    seed: int = 0
    directions: tuple[dict[str, Tensor], ...] | None = None

    @property
    def ndim(self) -> int:
        return len(self.coordinates)

    def argmin(self) -> tuple[float, ...]:
        """The coordinates of the lowest finite loss on the grid (NaN when there is none)."""
        finite = np.where(np.isfinite(self.loss), self.loss, np.inf)
        if not np.isfinite(finite).any():
            return tuple(float("nan") for _ in self.coordinates)
        index = np.unravel_index(int(np.argmin(finite)), self.loss.shape)
        return tuple(float(axis[i]) for axis, i in zip(self.coordinates, index))

    def min_loss(self) -> float:
        """The lowest finite loss on the grid (NaN when there is none)."""
        finite = self.loss[np.isfinite(self.loss)]
        return float(finite.min()) if finite.size else float("nan")

    def plot(self, path: str | os.PathLike[str], *, log_scale: bool | None = None,
             title: str | None = None, dpi: int = 110, ends: tuple[str, str] = ENDS) -> Path:
        """Draw a contour plot (plane) or a line plot (line) into ``path``, atomically; the
        format follows the suffix (``.png``, ``.svg``, ``.pdf``). ``log_scale=None`` uses log
        loss levels when the loss spans more than a decade; ``ends`` names the two ends of an
        interpolation (θ₀ and θ₁, e.g. ``("trained", "initial weights")``). Needs matplotlib.

        >>> import tempfile, pathlib, numpy as np
        >>> line = LossLandscape((np.linspace(-1, 1, 5),), np.linspace(-1, 1, 5) ** 2)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = line.plot(pathlib.Path(folder) / "line.png")
        ...     path.read_bytes()[:4]
        b'\\x89PNG'
        """
        return draw(self, path, log_scale=log_scale, title=title, dpi=dpi, ends=ends)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the grid to ``path`` (as given: no suffix is added) as an uncompressed ``.npz`` (plain arrays, no pickled
        objects), atomically. ``LossLandscape.load`` or ``np.load(path, allow_pickle=False)``
        reads it back: keys ``loss``, ``coordinates_0`` (and ``coordinates_1``), ``accuracy``
        when known, ``mode``, ``normalization``, ``seed``.

        >>> import tempfile, pathlib, numpy as np
        >>> line = LossLandscape((np.linspace(0, 1, 3),), np.array([1.0, 0.5, 2.0]))
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     back = LossLandscape.load(line.save(pathlib.Path(folder) / "line.npz"))
        >>> back.loss.tolist(), back.mode
        ([1.0, 0.5, 2.0], 'random')
        """
        arrays: dict[str, np.ndarray] = {"format": np.array(_FORMAT), "loss": self.loss,
                                         "mode": np.array(self.mode),
                                         "normalization": np.array(self.normalization),
                                         "seed": np.array(self.seed, dtype=np.int64)}
        for axis, values in enumerate(self.coordinates):
            arrays[f"coordinates_{axis}"] = values
        if self.accuracy is not None:
            arrays["accuracy"] = self.accuracy
        with atomic_writer(path, "LossLandscape.save") as file:
            np.savez(file, **arrays)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LossLandscape:
        """Read a grid written by ``save`` (never unpickling anything)."""
        try:
            stored = np.load(path, allow_pickle=False)
            if not isinstance(stored, np.lib.npyio.NpzFile):
                raise ValueError("it holds a single array (.npy)")
            with stored:  # an object array inside refuses to load here, never unpickled
                fields = {key: stored[key] for key in stored.files}
        except FileNotFoundError:
            raise
        except (OSError, ValueError) as err:
            raise ValueError(f"LossLandscape.load: {path!s} is not a readable .npz file "
                             f"({err})") from None
        axes = [f"coordinates_{axis}" for axis in range(fields["loss"].ndim)] \
            if "loss" in fields else []
        if str(fields.get("format", "")) != _FORMAT or "loss" not in fields \
                or not all(key in fields for key in (*axes, "mode", "normalization", "seed")):
            raise ValueError(f"LossLandscape.load: {path!s} is an .npz file but not a landscape "
                             "written by LossLandscape.save")
        return cls(tuple(fields[key] for key in axes), fields["loss"], fields.get("accuracy"),
                   str(fields["mode"]), str(fields["normalization"]), int(fields["seed"]))

    def __repr__(self) -> str:
        where = ", ".join(f"{c:.3g}" for c in self.argmin())
        return (f"LossLandscape(mode={self.mode!r}, shape={self.loss.shape}, "
                f"lowest loss {self.min_loss():.4g} at ({where}))")


# -- directions ------------------------------------------------------------------------------------


def _named_parameters(model: Module, op: str) -> list[tuple[str, Tensor]]:
    if not isinstance(model, Module):
        raise TypeError(f"{op}: model must be a backprop.nn.Module, got {type(model).__name__}")
    named = [(name, p) for name, p in model.named_parameters() if p.is_floating_point()]
    if not named:
        raise ValueError(f"{op}: {type(model).__name__} has no floating-point parameters to move")
    return named


def _rescaled(direction: np.ndarray, weight: np.ndarray, normalization: str,
              ignore_biasbn: bool) -> np.ndarray:
    """One parameter's share of a random direction, rescaled to the weight's scale."""
    if weight.ndim <= 1 and ignore_biasbn:
        return np.zeros_like(weight)
    if normalization == "none":
        return direction.astype(weight.dtype)
    if normalization == "layer":
        rows_d, rows_w = direction.reshape(1, -1), weight.reshape(1, -1)
    else:
        # A filter is what produces one output: a row of a Linear weight (out, in), an output
        # channel of a conv kernel (out, in, kh, kw); one element of a bias or a norm scale.
        filters = weight.shape[0] if weight.ndim else 1
        rows_d, rows_w = direction.reshape(filters, -1), weight.reshape(filters, -1)
    target = np.linalg.norm(rows_w.astype(np.float64), axis=1)
    drawn = np.linalg.norm(rows_d, axis=1)
    scale = np.divide(target, drawn, out=np.zeros_like(target), where=drawn > 0)
    return (rows_d * scale[:, None]).reshape(weight.shape).astype(weight.dtype)


def _random_directions(weights: list[np.ndarray], count: int, normalization: str,
                       ignore_biasbn: bool, seed: int) -> list[list[np.ndarray]]:
    # NumPy's own generator, not backprop's global one: drawing a landscape must not change the
    # random stream a training script goes on to use.
    rng = np.random.default_rng(seed)
    return [[_rescaled(rng.standard_normal(w.shape), w, normalization, ignore_biasbn)
             for w in weights] for _ in range(count)]


def _check_normalization(normalization: str, op: str) -> None:
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"{op}: normalization must be one of {', '.join(NORMALIZATIONS)}; "
                         f"got {normalization!r}")


def random_direction(model: Module, *, normalization: str = "filter", ignore_biasbn: bool = True,
                     seed: int = 0) -> OrderedDict[str, Tensor]:
    """A Gaussian direction in parameter space, by parameter name, rescaled as Li et al. (2018)
    do so that the landscape of a network does not depend on the scale of its weights.

    ``normalization="filter"``: each filter of the direction (a row of a Linear weight, an output
    channel of a conv kernel) gets the norm of the same filter of the weights; ``"layer"``: each
    parameter tensor gets that tensor's norm; ``"none"``: the raw N(0, 1) draw. With
    ``ignore_biasbn`` (the paper's default) parameters with fewer than two dimensions (biases,
    batch- and layer-norm scales and shifts) get zeros, else each element is a filter of its own.
    This is the first direction ``loss_landscape(model, ..., seed=seed)`` uses.

    >>> import backprop as bp
    >>> layer = bp.nn.Linear(3, 2)
    >>> d = random_direction(layer, seed=0)
    >>> bool(bp.allclose(d["weight"].norm(dim=1), layer.weight.detach().norm(dim=1)))
    True
    >>> d["bias"].tolist()
    [0.0, 0.0]
    """
    op = "random_direction"
    _check_normalization(normalization, op)
    named = _named_parameters(model, op)
    (arrays,) = _random_directions([p.detach().numpy() for _, p in named], 1, normalization,
                                   ignore_biasbn, seed)
    return OrderedDict((name, Tensor._wrap(a)) for (name, _), a in zip(named, arrays))


def _as_arrays(values: Module | Mapping[str, Any], named: list[tuple[str, Tensor]], what: str,
               op: str) -> list[np.ndarray]:
    """The entries of a state dict (or a model's parameters) for each parameter, in order, in the
    parameter's dtype. Keys that are not parameters (buffers) are ignored."""
    if isinstance(values, Module):
        values = values.state_dict()
    if not isinstance(values, Mapping):
        raise TypeError(f"{op}: {what} must be a Module or a state dict (name -> tensor), got "
                        f"{type(values).__name__}")
    missing = [name for name, _ in named if name not in values]
    if missing:
        raise ValueError(f"{op}: {what} has no entry for the parameter"
                         f"{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}")
    arrays = []
    for name, p in named:
        value = values[name]
        array = value.detach().numpy() if isinstance(value, Tensor) else np.asarray(value)
        if array.shape != p.shape:
            raise ShapeError(f"{op}: {what}[{name!r}] has shape {format_shape(array.shape)} but "
                             f"the parameter has shape {format_shape(p.shape)}")
        arrays.append(array.astype(p.dtype, copy=False))
    return arrays


def _resolve_directions(directions: Any, other: Any, named: list[tuple[str, Tensor]],
                        origin: list[np.ndarray], normalization: str, ignore_biasbn: bool,
                        seed: int, op: str) -> tuple[str, list[list[np.ndarray]]]:
    """The mode and, per axis, the arrays that move each parameter (for an interpolation: the
    other end point θ₁)."""
    if other is not None:
        if directions not in (None, 1):
            raise ValueError(f"{op}: other= gives a 1-D interpolation between two parameter "
                             f"sets; directions must be 1 or left out, got {directions!r}")
        return "interpolation", [_as_arrays(other, named, "other", op)]
    if directions is None:
        directions = 2
    if isinstance(directions, (int, np.integer)) and not isinstance(directions, bool):
        if directions not in (1, 2):
            raise ValueError(f"{op}: directions must be 1 (a line) or 2 (a plane), or a list of "
                             f"one or two direction dicts; got {directions}")
        vectors = _random_directions(origin, int(directions), normalization, ignore_biasbn, seed)
        if not any(np.any(v) for v in vectors[0]):
            raise ValueError(f"{op}: the random direction is zero: every parameter of the model "
                             "has fewer than 2 dimensions and ignore_biasbn=True zeroes them; "
                             "pass ignore_biasbn=False")
        return "random", vectors
    if isinstance(directions, Mapping) or not isinstance(directions, Sequence) \
            or len(directions) not in (1, 2):
        raise TypeError(f"{op}: directions must be 1, 2 or a list of one or two dicts (parameter "
                        f"name -> tensor, as random_direction returns); got "
                        f"{type(directions).__name__}")
    return "given", [_as_arrays(d, named, f"directions[{i}]", op)
                     for i, d in enumerate(directions)]


# -- the grid --------------------------------------------------------------------------------------


def _steps(steps: int | Sequence[int], ndim: int, op: str) -> tuple[int, ...]:
    counts = (steps,) * ndim if isinstance(steps, (int, np.integer)) else tuple(steps)
    if len(counts) != ndim or not all(isinstance(n, (int, np.integer)) and n >= 2
                                      for n in counts):
        raise ValueError(f"{op}: steps must be an integer of at least 2 (or {ndim} of them, one "
                         f"per axis) for a {ndim}-D landscape; got {steps!r}")
    return tuple(int(n) for n in counts)


def _span(span: float | Sequence[float] | None, mode: str, op: str) -> tuple[float, float]:
    if span is None:
        span = 0.5 if mode == "interpolation" else 1.0
    pair = (span, span) if isinstance(span, (int, float, np.number)) else tuple(span)
    if len(pair) != 2 or not all(np.isfinite(v) and v >= 0 for v in pair):
        raise ValueError(f"{op}: span must be a non-negative number or a (before, after) pair "
                         f"of them; got {span!r}")
    if mode != "interpolation" and pair[0] + pair[1] == 0:
        raise ValueError(f"{op}: span must be positive for random directions; got {span!r}")
    return float(pair[0]), float(pair[1])


def _axis(start: float, stop: float, steps: int, marks: tuple[float, ...]) -> np.ndarray:
    """``linspace`` with the points meant to be 0 and 1 made exactly 0 and 1, so the grid passes
    through the model (and the other end point) rather than a rounding error away from them."""
    values = np.linspace(start, stop, steps)
    for mark in marks:
        values[np.abs(values - mark) <= 1e-9 * (stop - start)] = mark
    return values


def _place(work: list[np.ndarray], origin: list[np.ndarray], vectors: list[list[np.ndarray]],
           point: list[float], mode: str) -> None:
    """Fill the work arrays with the parameters at ``point``."""
    for k, w in enumerate(work):
        if mode == "interpolation":
            (alpha,) = point
            if alpha in (0.0, 1.0):  # the two end points exactly, free of rounding
                np.copyto(w, origin[k] if alpha == 0.0 else vectors[0][k])
            else:
                np.multiply(origin[k], 1.0 - alpha, out=w)
                w += alpha * vectors[0][k]
            continue
        np.copyto(w, origin[k])
        for step, vector in zip(point, vectors):
            if step != 0.0:
                w += step * vector[k]


@contextlib.contextmanager
def _moved(params: list[Tensor], origin: list[np.ndarray]) -> Iterator[list[np.ndarray]]:
    """Each parameter backed by a work array inside the block, by its own array again after."""
    work = [np.array(a, copy=True) for a in origin]
    try:
        for p, w in zip(params, work):
            p.data = w
        yield work
    finally:
        for p, a in zip(params, origin):
            p.data = a


def loss_landscape(model: Module, loss_fn: LossFn, data: Any, *,
                   directions: int | Sequence[Mapping[str, Any]] | None = None,
                   steps: int | Sequence[int] = 21, span: float | Sequence[float] | None = None,
                   seed: int = 0, other: Module | Mapping[str, Any] | None = None,
                   normalization: str = "filter", ignore_biasbn: bool = True,
                   accuracy: bool | None = None) -> LossLandscape:
    """The loss of ``model`` around its parameters θ₀, on a line or a plane of parameter space.

    * ``other`` given (a model or state dict θ₁): the 1-D linear interpolation
      θ(α) = (1 − α)·θ₀ + α·θ₁ (Goodfellow et al., 2015) for α in [−before, 1 + after], where
      ``span`` is ``after = before`` or a ``(before, after)`` pair (default 0.5).
    * ``directions=2`` (default) or ``1``: θ₀ + a·δ (+ b·η) along random directions drawn with
      ``seed`` and rescaled per ``normalization`` (see ``random_direction``; Li et al., 2018),
      for a, b in [−span, span] (or [−before, after]; default span 1).
    * ``directions=[d1]`` or ``[d1, d2]`` (dicts of tensors by parameter name): those directions
      as given, e.g. the ``directions`` of an earlier landscape.

    ``data`` is one ``(inputs, targets)`` batch or an iterable of them, read once; each grid
    point's loss is the mean of ``loss_fn(model(inputs), targets)`` over the batches weighted by
    batch size, under ``no_grad`` with every module in eval mode. ``accuracy=None`` records the
    accuracy too when the outputs are class scores for integer targets (``True`` insists).
    ``steps`` is the number of points per axis (an int, or one per axis). Only parameters move:
    buffers such as batch-norm running statistics stay as they are. The parameters, and each
    module's training flag, are restored exactly afterwards, even on an exception.

    >>> import backprop as bp
    >>> _ = bp.manual_seed(0)
    >>> model = bp.nn.Linear(2, 1)
    >>> x, y = bp.randn(8, 2), bp.randn(8, 1)
    >>> surface = loss_landscape(model, bp.nn.MSELoss(), (x, y), steps=5)
    >>> surface.loss.shape, surface.coordinates[0].tolist()
    ((5, 5), [-1.0, -0.5, 0.0, 0.5, 1.0])
    >>> bool(surface.loss[2, 2] == bp.nn.MSELoss()(model(x), y).item())
    True
    """
    op = "loss_landscape"
    _check_normalization(normalization, op)
    named = _named_parameters(model, op)
    params = [p for _, p in named]
    origin = [p.detach().numpy() for p in params]
    mode, vectors = _resolve_directions(directions, other, named, origin, normalization,
                                        ignore_biasbn, seed, op)
    ndim = 1 if mode == "interpolation" else len(vectors)
    shape = _steps(steps, ndim, op)
    before, after = _span(span, mode, op)
    end, marks = (1.0, (0.0, 1.0)) if mode == "interpolation" else (0.0, (0.0,))
    coordinates = tuple(_axis(-before, end + after, n, marks) for n in shape)
    batches = as_batches(data, op)

    loss = np.full(shape, np.nan)
    hits: np.ndarray | None = None if accuracy is False else np.full(shape, np.nan)
    with eval_mode(model), _moved(params, origin) as work:
        for index in np.ndindex(*shape):
            point = [float(axis[i]) for axis, i in zip(coordinates, index)]
            _place(work, origin, vectors, point, mode)
            loss[index], share = mean_loss(model, loss_fn, batches, op, hits is not None)
            if hits is not None and share is None:
                if accuracy:
                    raise ValueError(f"{op}: accuracy=True needs class scores (N, C, ...) from "
                                     "the model and integer class indices (N, ...) as targets")
                hits = None
            elif hits is not None:
                hits[index] = share
    kept = None if mode == "interpolation" else tuple(
        OrderedDict((name, Tensor._wrap(v)) for (name, _), v in zip(named, vector))
        for vector in vectors)
    return LossLandscape(coordinates, loss, hits, mode,
                         normalization if mode == "random" else "none", int(seed), kept)
