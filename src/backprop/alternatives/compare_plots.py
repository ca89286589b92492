"""The pictures of ``backprop compare-methods`` (matplotlib, optional): one per budget (the test
metric of every method against the budget spent, a panel per task) and one of gradient quality
(cosine similarity to the exact gradient against the evaluations one estimate cost).

>>> save_budget_picture({"runs": {"seconds": {}}}, "seconds", Path("unused.png")) is None
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..train.plots import pyplot, save_figure

__all__ = ["save_budget_picture", "save_quality_picture"]

# one colour per method in every picture
_COLOURS = {"backprop": "C0", "feedback-alignment": "C1", "evolution": "C2", "spsa": "C3",
            "forward-forward": "C4"}
_AXIS = {"evaluations": ("forward passes (minibatch)", "forward"),
         "seconds": ("wall time spent training (s)", "seconds")}


def save_budget_picture(result: dict[str, Any], budget: str, path: Path) -> Path | None:
    """Test accuracy (digits) or test MSE (regression) of every method along the ``budget``
    run; None without matplotlib or without runs."""
    tasks = result["runs"][budget]
    plt = pyplot() if tasks else None
    if plt is None:
        return None
    figure, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4.2), squeeze=False)
    label, key = _AXIS[budget]
    for axis, (name, runs) in zip(axes[0], tasks.items()):
        for method, run in runs.items():
            points = [p for p in run["curve"] if p[key] > 0]
            axis.plot([p[key] for p in points], [p["metric"] for p in points], marker=".",
                      color=_COLOURS.get(method), label=f"{method} ({run['forward_per_step']} "
                      "fwd/step)")
        axis.set(xscale="log", xlabel=label,
                 ylabel="test accuracy" if name == "digits" else "test MSE (standardised y)",
                 title=f"{name}: budget of {_budget_words(result, budget)}")
        if name != "digits":
            axis.set_yscale("log")
    return save_figure(plt, figure, path, list(axes[0]))


def save_quality_picture(result: dict[str, Any], path: Path) -> Path | None:
    """Cosine similarity to the exact gradient against forward evaluations per estimate."""
    quality = result["quality"]
    plt = pyplot() if quality else None
    if plt is None:
        return None
    figure, axes = plt.subplots(1, len(quality), figsize=(6 * len(quality), 4.2), squeeze=False)
    for axis, (name, methods) in zip(axes[0], quality.items()):
        for method, points in methods.items():
            if method == "feedback-alignment":
                for p in points:
                    trained = p["weights"] == "trained"
                    axis.scatter([p["forward"]], [p["cosine"]], marker="s", s=50,
                                 color=_COLOURS[method] if trained else "none",
                                 edgecolors=_COLOURS[method],
                                 label=f"feedback alignment ({p['weights']} weights)")
                continue
            style = "*" if method == "backprop" else "o-"
            axis.plot([p["forward"] for p in points], [p["cosine"] for p in points], style,
                      color=_COLOURS.get(method), markersize=12 if method == "backprop" else 5,
                      label=method)
        axis.set(xscale="log", xlabel="forward evaluations for one estimate",
                 ylabel="cosine to the exact gradient", title=f"{name}: one gradient's quality",
                 ylim=(-0.1, 1.05))
    return save_figure(plt, figure, path, list(axes[0]))


def _budget_words(result: dict[str, Any], budget: str) -> str:
    config = result.get("config", {})
    if budget == "evaluations":
        return f"{config.get('evaluations', '?')} forward passes"
    return f"{config.get('seconds', '?')} s"
