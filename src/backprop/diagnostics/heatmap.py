"""The gradient monitor's picture: log10 gradient norm per layer (rows) and recorded step
(columns), as a PNG. matplotlib is optional and imported only here, through its object API
(``matplotlib.figure.Figure``), so drawing never switches the user's pyplot backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_writer
from ._monitor_history import GradientHistory
from .health import display

# Cells that have no colour on the scale.
_NO_GRADIENT = (0.85, 0.85, 0.85, 1.0)  # grey: the layer got no gradient at that step
_ZERO = (0.0, 0.0, 0.0, 1.0)  # black: a gradient of exactly zero (log10 is -inf)
_NON_FINITE = (0.85, 0.1, 0.1, 1.0)  # red: inf/NaN entries in the gradient


def _matplotlib() -> Any:
    try:
        import matplotlib.figure  # noqa: PLC0415 - optional extra
        from matplotlib.patches import Patch  # noqa: PLC0415
        from matplotlib.ticker import MaxNLocator  # noqa: PLC0415
    except ImportError as error:
        raise ImportError("GradientMonitor.plot_heatmap needs matplotlib: pip install matplotlib "
                          "(or backprop[plot])") from error
    return matplotlib.figure.Figure, Patch, MaxNLocator


def save_heatmap(history: GradientHistory, path: str | Path, title: str | None = None) -> Path:
    """Draw ``history``'s gradient norms into ``path`` (PNG, or the format its suffix names),
    written atomically: a temporary file in the same folder, then renamed."""
    if len(history) == 0:
        raise ValueError("plot_heatmap: no step recorded yet; train at least one step with the "
                         "monitor attached")
    Figure, Patch, MaxNLocator = _matplotlib()
    path = Path(path)
    norms = history.grad_norm.T  # layers x steps
    bad = (history.grad_nonfinite.T > 0) | np.isinf(norms)
    with np.errstate(divide="ignore"):
        logs = np.log10(np.where(bad, np.nan, norms))
    overlay = np.zeros(norms.shape + (4,))
    overlay[np.isnan(norms) & ~bad] = _NO_GRADIENT
    overlay[np.isneginf(logs)] = _ZERO
    overlay[bad] = _NON_FINITE
    steps = history.steps
    spacing = float(steps[1] - steps[0]) if len(steps) > 1 else 1.0
    extent = (steps[0] - spacing / 2, steps[-1] + spacing / 2, len(norms) - 0.5, -0.5)

    n_layers = len(history.layer_names)
    figure = Figure(figsize=(min(14.0, 6.0 + 0.04 * len(steps)),
                             min(30.0, 2.2 + 0.28 * n_layers)))
    axis = figure.subplots()
    image = axis.imshow(np.ma.masked_invalid(logs), aspect="auto", interpolation="nearest",
                        cmap="viridis", extent=extent)
    axis.imshow(overlay, aspect="auto", interpolation="nearest", extent=extent)
    labels = [f"{display(name)} ({kind})"
              for name, kind in zip(history.layer_names, history.layer_types)]
    axis.set_yticks(range(n_layers))
    axis.set_yticklabels(labels, fontsize=max(5, 9 - n_layers // 15))
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("training step")
    figure.colorbar(image, ax=axis, label="log10 gradient norm")
    legend = [Patch(color=colour, label=label) for colour, label, used in (
        (_NO_GRADIENT, "no gradient", bool((np.isnan(norms) & ~bad).any())),
        (_ZERO, "zero gradient", bool(np.isneginf(logs).any())),
        (_NON_FINITE, "inf/NaN gradient", bool(bad.any()))) if used]
    axis.set_title(title or "Gradient L2 norm per layer (log10)")
    bottom = 0.0
    if legend:  # in a strip of its own under the axis label
        figure.legend(handles=legend, loc="lower center", ncol=3, fontsize=8, frameon=False)
        bottom = 0.3 / figure.get_figheight()
    figure.tight_layout(rect=(0.0, bottom, 1.0, 1.0))
    with atomic_writer(path, "plot_heatmap") as file:
        figure.savefig(file, format=path.suffix.lstrip(".").lower() or "png", dpi=100)
    return path
