"""The cost curves' report (Markdown) and picture (matplotlib, optional), from the JSON that
``benchmarks/cost_curves.py`` writes: ``python -m benchmarks.cost_curves --plot-only`` redraws
both without measuring."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from . import cost_curves
from .cost_curves import CAPTURED, CURVES, label

TITLES = {"W1": "W1 MLP 784-256-256-10, SGD", "W3": "W3 LeNet-like CNN, Adam",
          "W4": "W4 char Transformer b16 ctx64, AdamW"}
SHORT = {"backprop": "backprop", CAPTURED: "captured", "torch": "PyTorch"}


def ratio(row: dict[str, Any], contender: str) -> float | None:
    """``contender``'s step time over PyTorch's at a point (None where either is missing).

    >>> ratio({"ms": {"backprop": 3.0, "torch": 2.0}}, "backprop")
    1.5
    """
    a, b = row["ms"].get(contender), row["ms"].get("torch")
    return None if a is None or b is None else a / b


def _ms(value: float | None) -> str:
    return "failed" if value is None else f"{value:.3g}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"**{value:.2f}x**" if value < 1 else f"{value:.2f}x"


def _by_point(result: dict[str, Any]) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """(workload, point label) -> load -> row, in the order measured."""
    table: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for load, rows in result["loads"].items():
        for row in rows:
            key = (row["workload"], label(row["workload"], row["sizes"]))
            table.setdefault(key, {})[load] = row
    return table


def summary(result: dict[str, Any]) -> list[str]:
    """Where backprop is ahead and where not, per load; with both loads, how much a busy core
    costs each contender (busy step time over quiet)."""
    lines = []
    for load, rows in result["loads"].items():
        for contender in ("backprop", CAPTURED):
            pairs = [(f"{r['workload']} {label(r['workload'], r['sizes'])}", q)
                     for r in rows if (q := ratio(r, contender)) is not None]
            if not pairs:
                continue
            ahead = [name for name, q in pairs if q < 1]
            worst = max(pairs, key=lambda p: p[1])
            best = min(pairs, key=lambda p: p[1])
            lines.append(
                f"- {load}, {SHORT[contender]}: ahead of PyTorch at {len(ahead)} of {len(pairs)} "
                f"points{': ' + '; '.join(ahead) if ahead else ''}. Ratio median "
                f"{statistics.median(q for _, q in pairs):.2f}x, best {best[1]:.2f}x "
                f"({best[0]}), worst {worst[1]:.2f}x ({worst[0]}).")
    table = _by_point(result)
    if {"quiet", "busy"} <= set(result["loads"]):
        lines += ["", ("One core busy: step time busy over quiet, median over the points "
                       "(worst, where):"), ""]
        for contender in cost_curves.CONTENDERS:
            slow = [(f"{w} {name}", loads["busy"]["ms"][contender] / loads["quiet"]["ms"][contender])
                    for (w, name), loads in table.items()
                    if {"quiet", "busy"} <= set(loads)
                    and loads["quiet"]["ms"].get(contender) and loads["busy"]["ms"].get(contender)]
            if slow:
                worst = max(slow, key=lambda p: p[1])
                lines.append(f"- {SHORT[contender]}: {statistics.median(s for _, s in slow):.2f}x "
                             f"({worst[1]:.2f}x, {worst[0]})")
    return lines


def workload_table(workload: str, table: dict[tuple[str, str], dict[str, dict[str, Any]]],
                   loads: list[str]) -> list[str]:
    """One workload's points: per load the three step times (ms) and the two ratios, then
    backprop's BLAS threads and the other load per load."""
    head = ["point"]
    for load in loads:
        head += [f"{load}: backprop ms", "captured ms", "PyTorch ms", "backprop / PyTorch",
                 "captured / PyTorch"]
    head += ["BLAS threads", "other load (cores)"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for (w, name), per_load in table.items():
        if w != workload:
            continue
        cells = [name]
        for load in loads:
            row = per_load.get(load)
            if row is None:
                cells += ["-"] * 5
                continue
            cells += [_ms(row["ms"].get(c)) for c in cost_curves.CONTENDERS]
            cells += [_ratio(ratio(row, "backprop")), _ratio(ratio(row, CAPTURED))]
        cells.append(" / ".join(str(per_load[ld]["threads"].get("backprop", "-"))
                                if ld in per_load else "-" for ld in loads))
        cells.append(" / ".join(f"{per_load[ld]['other_load']:.2f}" if ld in per_load else "-"
                                for ld in loads))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def report(result: dict[str, Any], picture: str | None) -> str:
    """The Markdown report of a run (``picture``: the PNG's file name beside it, or None)."""
    meta, loads = result["meta"], list(result["loads"])
    how = cost_curves.__doc__.split("\n\n")[3].strip()
    torch = f", PyTorch {meta['torch']}" if meta.get("torch") else ""
    lines = [f"# Cost curves: step time against PyTorch's{' (quick run)' if meta['quick'] else ''}",
             "", f"`{meta['command'].strip()}`; {meta['date']}, {meta['processor']}, "
             f"{meta['cores']} cores, Python {meta['python']}, NumPy {meta['numpy']}{torch}. "
             f"Loads: {', '.join(loads)}" + (" (`yes > /dev/null` holding one core)"
                                             if "busy" in loads else "")
             + (f"; the run took {meta['run_s'] / 60:.1f} minutes." if "run_s" in meta else "."),
             "", how, ""]
    if meta.get("merged"):
        lines += ["Kept from an earlier run (`--merge`): " + ", ".join(
            f"{load} measured {date}" for load, date in meta["merged"].items()) + ".", ""]
    if not meta.get("thread_policy", True):
        lines += ["This run left backprop at OpenBLAS's own thread count (`--blas-default`).", ""]
    if picture:
        lines += [f"![backprop's step time over PyTorch's]({picture})", "",
                  ("Ratio of step times (log scale; under the line at 1.0 backprop is ahead): "
                   "circles backprop, crosses captured; solid quiet, dashed busy."), ""]
    lines += ["## Where backprop is ahead and where not", "", *summary(result)]
    table = _by_point(result)
    for workload in CURVES:
        if any(w == workload for w, _ in table):
            lines += ["", f"## {TITLES[workload]}", "", *workload_table(workload, table, loads)]
    fallbacks = sorted({f for rows in result["loads"].values() for r in rows
                        for f in r.get("fallbacks", [])})
    if fallbacks:
        lines += ["", "## Captured steps that ran eagerly", "",
                  ("The capture warned (its steps then ran uncaptured, so *captured* is eager "
                   "there):"), "", *(f"- {f}" for f in fallbacks)]
    errors = [(load, r["workload"], label(r["workload"], r["sizes"]), c, e)
              for load, rows in result["loads"].items() for r in rows
              for c, e in r.get("errors", {}).items()]
    if errors:
        lines += ["", "## Failed runs", "", *(f"- {load}, {w} {name}, {c}: {e}"
                                            for load, w, name, c, e in errors)]
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], path: Path) -> bool:
    """Three panels (W1, W3, W4): ratio to PyTorch on a log axis against the workload's size,
    a colour per series (W3's width, W4's layers), solid quiet, dashed busy, circles backprop,
    crosses captured. False (and nothing drawn) without matplotlib."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, ScalarFormatter
    except ImportError:
        return False
    fig = Figure(figsize=(15, 4.8), layout="constrained")
    axes = fig.subplots(1, len(CURVES))
    styles: dict[str, Any] = {"quiet": "-", "busy": "--"}
    markers = {"backprop": "o", CAPTURED: "x"}
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    for ax, (workload, (axis, series, _)) in zip(axes, CURVES.items()):
        groups: dict[Any, bool] = {}
        for load, rows in result["loads"].items():
            rows = [r for r in rows if r["workload"] == workload]
            keys = sorted({r["sizes"].get(series) for r in rows}, key=lambda k: (k is None, k))
            for i, key in enumerate(keys):
                groups[key] = True
                mine = sorted((r for r in rows if r["sizes"].get(series) == key),
                              key=lambda r: r["sizes"][axis])
                for contender, marker in markers.items():
                    pts = [(r["sizes"][axis], ratio(r, contender)) for r in mine]
                    pts = [(x, y) for x, y in pts if y is not None]
                    if pts:
                        ax.plot(*zip(*pts), linestyle=styles.get(load, ":"), marker=marker,
                                color=colours[i % len(colours)],
                                linewidth=2.0 if contender == "backprop" else 1.0,
                                alpha=1.0 if contender == "backprop" else 0.7)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.xaxis.set_major_formatter(ScalarFormatter())
        # ratios span well under a decade: label 0.2, 0.5, 1, 2, 5 ... not only the powers of 10
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_title(TITLES[workload], fontsize=10)
        ax.set_xlabel(axis)
        handles = [Line2D([], [], color=colours[i % len(colours)], label=f"{series} {k}")
                   for i, k in enumerate(sorted(k for k in groups if k is not None))]
        if handles:
            ax.legend(handles=handles, fontsize=8, loc="upper left")
    axes[0].set_ylabel("step time / PyTorch's")
    fig.legend(handles=[Line2D([], [], color="gray", linestyle=styles[ld], label=ld)
                        for ld in result["loads"] if ld in styles]
               + [Line2D([], [], color="gray", marker=m, linestyle="", label=SHORT[c])
                  for c, m in markers.items()], loc="outside lower center", ncol=4, fontsize=8)
    fig.savefig(path, dpi=110)
    return True
