"""Training pictures: loss/accuracy curves and a confusion matrix (matplotlib, optional)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..atomic import atomic_writer


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (files, no screen), or None when not installed."""
    try:
        import matplotlib  # noqa: PLC0415 - optional extra

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        return None
    return plt


def save_figure(plt: Any, figure: Any, path: Path, gridded: Sequence[Any] = ()) -> Path:
    """Give the ``gridded`` axes a grid and a legend, lay out, write ``path`` and free the
    figure."""
    for axis in gridded:
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    with atomic_writer(path, "save_figure") as file:
        figure.savefig(file, format=path.suffix.lstrip(".").lower() or "png", dpi=100)
    plt.close(figure)
    return path


def save_curves(history: Sequence[dict[str, float]], path: Path) -> Path | None:
    """Loss and accuracy per epoch, train and test, as a PNG; None without matplotlib."""
    plt = pyplot()
    if plt is None or not history:
        return None
    epochs = [h["epoch"] for h in history]
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(10, 4))
    for split in ("train", "test"):
        loss_axis.plot(epochs, [h[f"{split}_loss"] for h in history], label=split)
        accuracy_axis.plot(epochs, [h[f"{split}_accuracy"] for h in history], label=split)
    loss_axis.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss", yscale="log")
    accuracy_axis.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    return save_figure(plt, figure, path, (loss_axis, accuracy_axis))


def confusion_matrix(targets: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts of (true class, predicted class) pairs.

    >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), 2).tolist()
    [[1, 0], [1, 1]]
    """
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (targets, predicted), 1)
    return matrix


def save_confusion(matrix: np.ndarray, classes: Sequence[str], path: Path) -> Path | None:
    """The confusion matrix as a labelled heat map PNG; None without matplotlib."""
    plt = pyplot()
    if plt is None:
        return None
    size = max(5, len(classes) * 0.6)
    figure, axis = plt.subplots(figsize=(size, size))
    axis.imshow(matrix, cmap="Blues")
    ticks = range(len(classes))
    axis.set(xticks=ticks, yticks=ticks, xlabel="predicted", ylabel="true",
             title=f"Confusion matrix (accuracy {np.trace(matrix) / matrix.sum():.4f})")
    axis.set_xticklabels(classes, rotation=45, ha="right")
    axis.set_yticklabels(classes)
    threshold = matrix.max() / 2
    for (i, j), count in np.ndenumerate(matrix):
        axis.text(j, i, str(count), ha="center", va="center",
                  color="white" if count > threshold else "black", fontsize=8)
    return save_figure(plt, figure, path)


def save_search(trials: Sequence[tuple[int, str, float]], path: Path) -> Path | None:
    """A hyper-parameter search as a PNG: each trial's last reported validation accuracy
    (``(number, state, value)`` with state ``complete`` or ``pruned``) and the best so far;
    None without matplotlib.

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> path = save_search([(0, "complete", 0.9), (1, "pruned", 0.5)], folder / "search.png")
    >>> path is None or path.stat().st_size > 1000
    True
    """
    plt = pyplot()
    if plt is None or not trials:
        return None
    figure, axis = plt.subplots(figsize=(7, 4))
    for state, marker in (("complete", "o"), ("pruned", "x")):
        shown = [(n, v) for n, s, v in trials if s == state]
        if shown:
            axis.scatter(*zip(*shown), marker=marker, label=state)
    complete = sorted((n, v) for n, s, v in trials if s == "complete")
    if complete:
        numbers, values = zip(*complete)
        axis.step(numbers, np.maximum.accumulate(values), where="post", label="best so far")
    axis.set(xlabel="trial", ylabel="validation accuracy", title="Hyper-parameter search")
    return save_figure(plt, figure, path, (axis,))
