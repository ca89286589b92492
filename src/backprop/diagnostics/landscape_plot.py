"""Pictures of a loss landscape: a contour plot for a plane, a line plot for a line.

matplotlib is optional: it is imported inside the function that draws, and only its
object-oriented API is used (a ``Figure`` on an Agg canvas, no pyplot), so drawing neither
switches the user's interactive backend nor leaves figures open in pyplot's global list.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..atomic import atomic_writer


class LossLandscape(Protocol):
    """What a picture reads of a ``landscape.LossLandscape`` (which imports this module to draw
    itself, so it is described here rather than imported)."""

    coordinates: tuple[np.ndarray, ...]
    loss: np.ndarray
    accuracy: np.ndarray | None
    mode: str
    normalization: str
    seed: int

    @property
    def ndim(self) -> int: ...

    def min_loss(self) -> float: ...

    def argmin(self) -> tuple[float, ...]: ...


def _figure_class(op: str) -> Any:
    try:
        from matplotlib.figure import Figure  # noqa: PLC0415 - optional extra, slow to import
    except ImportError:
        raise ImportError(f"{op}: drawing needs matplotlib (pip install 'backprop[plot]'); "
                          "LossLandscape.save writes the raw grid without it") from None
    return Figure


def _use_log_scale(values: np.ndarray, log_scale: bool | None) -> bool:
    """Log colour levels when the finite losses are positive and span more than a decade:
    away from a minimum the loss grows by orders of magnitude and linear levels would spend
    every contour on the rim."""
    if log_scale is not None:
        return log_scale
    return values.size > 0 and values.min() > 0 and values.max() > 10 * values.min()


def _levels(values: np.ndarray, log: bool, count: int = 30) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    levels = np.geomspace(low, high, count) if log else np.linspace(low, high, count)
    return np.unique(levels)


def _title(landscape: LossLandscape, title: str | None) -> str:
    if title is not None:
        return title
    where = ", ".join(f"{c:.3g}" for c in landscape.argmin())
    low = landscape.min_loss()
    kind = {"interpolation": "linear interpolation", "random": "random directions",
            "given": "given directions"}[landscape.mode]
    if landscape.mode == "random" and landscape.normalization != "none":
        kind = f"{landscape.normalization}-normalised {kind}"
    return f"Loss landscape ({kind})\nlowest loss {low:.4g} at ({where})"


def _axis_label(landscape: LossLandscape, axis: int) -> str:
    if landscape.mode == "interpolation":
        return "α   (θ = (1 − α)·θ₀ + α·θ₁)"
    return f"step along direction {axis + 1}" + (f" (seed {landscape.seed})"
                                                   if landscape.mode == "random" else "")


def _draw_plane(figure: Any, landscape: LossLandscape, log_scale: bool | None) -> None:
    from matplotlib.colors import LogNorm  # noqa: PLC0415
    from matplotlib.ticker import LogLocator, MaxNLocator  # noqa: PLC0415

    axes = figure.add_subplot()
    x, y = landscape.coordinates
    # loss[i, j] lies at (x[i], y[j]); matplotlib wants rows along y.
    grid = np.ma.masked_invalid(landscape.loss.T)
    finite = grid.compressed()
    log = _use_log_scale(finite, log_scale) and finite.size > 0 and finite.min() > 0
    levels = _levels(finite, log) if finite.size else np.array([])
    if levels.size >= 2:
        norm = LogNorm(levels[0], levels[-1]) if log else None
        filled = axes.contourf(x, y, grid, levels=levels, norm=norm, cmap="viridis")
        axes.contour(x, y, grid, levels=levels[::3], norm=norm, colors="black",
                     linewidths=0.4, alpha=0.6)
    else:  # a flat (or all non-finite) surface has no contour levels: show it as cells
        filled = axes.pcolormesh(x, y, grid, cmap="viridis", shading="nearest")
    # Round-number ticks: the contour levels themselves would label the bar 0.4144, 0.5853, ...
    ticks = LogLocator(subs=(1.0, 2.0, 5.0)) if log else MaxNLocator(8)
    figure.colorbar(filled, ax=axes, ticks=ticks, format="%.3g",
                    label="loss" + (" (log scale)" if log else ""))
    axes.plot([0.0], [0.0], marker="*", markersize=14, color="white", markeredgecolor="black",
              linestyle="none", label="the model's parameters")
    low = landscape.argmin()
    axes.plot([low[0]], [low[1]], marker="x", markersize=9, color="red", linestyle="none",
              label="lowest loss on the grid")
    axes.set(xlabel=_axis_label(landscape, 0), ylabel=_axis_label(landscape, 1), aspect="equal"
             if np.isclose(np.ptp(x), np.ptp(y)) else "auto")
    # Below the plot, never over it: the lowest point may lie in any corner of the grid.
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8,
                frameon=False)


def _draw_line(figure: Any, landscape: LossLandscape, log_scale: bool | None,
               ends: tuple[str, str]) -> None:
    axes = figure.add_subplot()
    (x,) = landscape.coordinates
    finite = landscape.loss[np.isfinite(landscape.loss)]
    axes.plot(x, landscape.loss, color="tab:blue", marker=".", label="loss")
    if _use_log_scale(finite, log_scale) and finite.size and finite.min() > 0:
        axes.set_yscale("log")
    axes.set(xlabel=_axis_label(landscape, 0), ylabel="loss")
    marks = {0.0: f"θ₀ ({ends[0]})"}
    if landscape.mode == "interpolation":
        marks[1.0] = f"θ₁ ({ends[1]})"
    for position, label in marks.items():
        if x.min() <= position <= x.max():
            axes.axvline(position, color="gray", linestyle=":", linewidth=1)
            axes.annotate(label, (position, 1.0), xycoords=("data", "axes fraction"),
                          ha="center", va="bottom", fontsize=8)
    axes.grid(alpha=0.3)
    if landscape.accuracy is not None:
        twin = axes.twinx()
        twin.plot(x, landscape.accuracy, color="tab:orange", linestyle="--", label="accuracy")
        twin.set(ylabel="accuracy", ylim=(-0.02, 1.02))
        lines = axes.get_lines()[:1] + twin.get_lines()
        axes.legend(lines, [line.get_label() for line in lines], loc="center right",
                    fontsize=8)


ENDS = ("the model", "other")


def make_figure(landscape: LossLandscape, *, log_scale: bool | None = None,
                title: str | None = None, ends: tuple[str, str] = ENDS) -> Any:
    """The landscape's picture as a matplotlib ``Figure``; ``ends`` names θ₀ and θ₁ of an
    interpolation (θ₀ alone for a line along a direction)."""
    Figure = _figure_class("LossLandscape.plot")
    figure = Figure(figsize=(6.4, 5.4) if landscape.ndim == 2 else (6.4, 4.2),
                    layout="constrained")
    if landscape.ndim == 2:
        _draw_plane(figure, landscape, log_scale)
    else:
        _draw_line(figure, landscape, log_scale, ends)
    figure.suptitle(_title(landscape, title), fontsize=10)
    return figure


def draw(landscape: LossLandscape, path: str | os.PathLike[str], *,
         log_scale: bool | None = None, title: str | None = None, dpi: int = 110,
         ends: tuple[str, str] = ENDS) -> Path:
    """Write the landscape's picture to ``path`` (format from the suffix, PNG by default)."""
    op = "LossLandscape.plot"
    target = Path(path)
    figure = make_figure(landscape, log_scale=log_scale, title=title, ends=ends)
    fmt = target.suffix[1:].lower() or "png"
    if fmt not in figure.canvas.get_supported_filetypes():
        raise ValueError(f"{op}: cannot write {path!s}: matplotlib has no {fmt!r} format; use "
                         ".png, .svg or .pdf")
    with atomic_writer(target, op) as file:
        figure.savefig(file, format=fmt, dpi=dpi)
    return target
