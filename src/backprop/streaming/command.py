"""``backprop stream``: continuous recalibration on a drifting digits stream, compared.

Usage: backprop stream [--schedule 0-4/5-9/0-4] [--steps-per-phase 300] [--quick] [--seed 0]
                       [--out DIR] [--replay-capacity 500] [--lr-boost 3] ...

Runs the three learners of ``backprop.streaming.compare`` (frozen after the first phase, naive
fine-tuning, and the recalibrating trainer with replay and drift detection) on the same stream,
prints accuracy at the end of each phase on the present, the seen and the absent classes, and
the drifts detected; writes ``history.json`` (every curve) and ``accuracy.png`` (accuracy
against time; needs matplotlib) into ``OUT`` (a new ``runs/stream/<date>-<time>`` unless
``--out`` names one). ``--quick`` shortens the phases to 60 steps (a few seconds in all).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

from ..atomic import atomic_write_text
from ..console import say
from ..train.run_folder import prepare
from .compare import CONTENDERS, ComparisonResult, StreamConfig, compare
from .streams import parse_schedule

__all__ = ["plot_accuracy", "register", "run", "summary_lines"]

QUICK_STEPS = 60
MEASURES = ("present", "seen", "absent")


def plot_accuracy(result: ComparisonResult, path: Path) -> Path | None:
    """Accuracy against time, one panel per measure, phase changes and detections marked;
    None without matplotlib."""
    from ..train.plots import pyplot, save_figure  # noqa: PLC0415 - matplotlib is optional

    plt = pyplot()
    if plt is None:
        return None
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.2), sharex=True, sharey=True)
    titles = {"present": "present classes (this phase)", "seen": "all classes seen so far",
              "absent": "past classes not in this phase"}
    for axis, measure in zip(axes, MEASURES):
        for name in CONTENDERS:
            values = [float("nan") if v is None else v for v in result.curves[name][measure]]
            axis.plot(result.steps, values, label=name)
        for start in result.phase_starts[1:]:
            axis.axvline(start, color="grey", linestyle="--", linewidth=1)
        for k, detection in enumerate(result.detections):
            axis.axvline(detection, color="red", linestyle=":", linewidth=1,
                         label="drift detected" if k == 0 else None)
        axis.set(xlabel="step (batches seen)", title=titles[measure], ylim=(-0.02, 1.02))
    axes[0].set_ylabel("test accuracy")
    schedule = " / ".join(_classes_text(phase) for phase in result.config.schedule)
    figure.suptitle(f"Drifting digits (classes by phase: {schedule}); dashed: phase changes")
    return save_figure(plt, figure, path, axes)


def _classes_text(classes: tuple[int, ...]) -> str:
    if classes == tuple(range(classes[0], classes[-1] + 1)) and len(classes) > 2:
        return f"{classes[0]}-{classes[-1]}"
    return ",".join(map(str, classes))


def summary_lines(result: ComparisonResult) -> list[str]:
    """The table ``backprop stream`` prints: accuracy at the end of each phase, and the mean
    over the whole run, for each learner and measure; then the detections."""
    head = "".join(f"  phase {k} [{_classes_text(c)}]".rjust(16)
                   for k, c in enumerate(result.config.schedule)) + "      mean"
    lines = [f"{'learner':<15}{'measure':<9}{head}"]
    for name in CONTENDERS:
        for measure in MEASURES:
            ends = result.phase_end(name, measure)
            cells = "".join(("-" if v is None else f"{v:.3f}").rjust(16) for v in ends)
            mean = result.mean(name, measure)
            average = "-" if mean is None else f"{mean:.3f}"
            lines.append(f"{name:<15}{measure:<9}{cells}{average:>10}")
    lines.append("steps after each phase change until present-class accuracy >= 0.8: " + "; ".join(
        f"{name} {result.recovery(name)}" for name in CONTENDERS))
    delays = result.detection_delays()
    lines.append(f"drift detections at steps {result.detections or 'none'}; phase changes at "
                 f"{result.phase_starts[1:]}; delays (steps) {delays}; false alarms "
                 f"{result.false_alarms()}")
    return lines


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``stream`` sub-command to the ``backprop`` command's sub-parsers."""
    parser = commands.add_parser(
        "stream", help="online learning on a drifting digits stream: frozen vs fine-tuning vs "
        "replay + drift detection",
        description="Train three learners on the same stream of digits whose classes change "
        "by phase (frozen after the first phase, naive fine-tuning, and replay + Page-Hinkley "
        "drift detection + learning-rate boost); print accuracy on the present, seen and "
        "absent classes; write history.json and accuracy.png.")
    defaults = StreamConfig()
    parser.add_argument("--schedule", default="0-4/5-9/0-4", metavar="PHASES",
                        help="classes of each phase, phases split by '/' (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_STEPS} steps a phase (a few seconds), for a try or a test")
    for name, kind, text in (
            ("steps_per_phase", int, "batches in each phase"),
            ("batch_size", int, "incoming samples a step"),
            ("hidden", int, "hidden units of the MLP"),
            ("lr", float, "Adam's learning rate (all learners)"),
            ("replay_capacity", int, "samples the replay buffer keeps"),
            ("replay_size", int, "replayed samples added to each step's batch"),
            ("lr_boost", float, "learning-rate factor on a detected drift"),
            ("boost_half_life", float, "steps for the boost to fade by half"),
            ("threshold", float, "Page-Hinkley alarm level, in standard deviations"),
            ("eval_every", int, "steps between accuracy measurements"),
            ("seed", int, "")):
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind,
                            default=getattr(defaults, name), metavar="N" if kind is int else "X",
                            help=f"{text} (default: %(default)s)".lstrip())
    parser.add_argument("--class-balanced", action=argparse.BooleanOptionalAction,
                        default=defaults.class_balanced,
                        help="one reservoir per class (default: %(default)s)")
    parser.add_argument("--out", metavar="DIR", help="folder for the run's files (default: a "
                        "new runs/stream/DATE-TIME folder)")
    parser.set_defaults(run=run)  # the `backprop` command calls args.run(args)


def run(args: argparse.Namespace, log: Callable[[str], None] = say) -> ComparisonResult:
    """Compare the three learners as ``backprop stream`` was asked; write and print results."""
    steps = QUICK_STEPS if args.quick else args.steps_per_phase
    config = StreamConfig(
        schedule=parse_schedule(args.schedule), steps_per_phase=steps,
        batch_size=args.batch_size, hidden=args.hidden, lr=args.lr,
        replay_capacity=args.replay_capacity, replay_size=args.replay_size,
        class_balanced=args.class_balanced, lr_boost=args.lr_boost,
        boost_half_life=args.boost_half_life, threshold=args.threshold,
        eval_every=args.eval_every, seed=args.seed, out=args.out)
    if any(c > 9 for phase in config.schedule for c in phase):
        raise ValueError(f"stream: --schedule {args.schedule} names classes above 9; the "
                         "digits are 0..9")
    config.validate()
    folder = prepare(config.out, "stream")
    result = compare(config, log)
    out = folder.create(log)
    config.out = str(out)
    for line in summary_lines(result):
        log(line)
    history = atomic_write_text(out / "history.json", json.dumps(result.to_dict(), indent=1),
                                "stream")
    log(f"curves {history}")
    picture = plot_accuracy(result, out / "accuracy.png")
    log(f"accuracy picture {picture}" if picture is not None else
        "no accuracy picture: matplotlib is not installed (pip install 'backprop[plot]')")
    folder.mark_latest()
    return result
