"""The small things a user of the `backprop` command noticed (issue 13, item 10): --help and
--version, the GAN example, the landscape picture's labels and legend, the GAN grid's labels."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from backprop.apps import gan
from backprop.cli import main
from backprop.diagnostics import landscape_plot
from backprop.diagnostics.landscape import LossLandscape
from commands import TRAIN, command

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("sub", ["train", "train-lm", "gan", "superres", "tune", "evaluate",
                                 "predict", "landscape", "profile", "generate", "stream",
                                 "compare-methods"])
def test_help_shows_meaningful_names_choices_and_defaults(capsys, sub: str) -> None:
    with pytest.raises(SystemExit) as done:
        main([sub, "--help"])
    shown = capsys.readouterr().out
    assert done.value.code == 0
    assert not re.search(r"\b(NONETYPE|STR|TUPLE|INT|FLOAT|BOOL)\b", shown), shown
    if sub == "train":
        assert "--model {mlp,cnn,resnet}" in shown and "--data-root DIR" in shown
    if sub in ("train-lm", "gan", "superres", "tune"):
        assert re.search(r"--(epochs|max-iters) N +[^\n]*\(default: \d+\)", shown), shown


def test_version_names_the_installed_package(tmp_path: Path) -> None:
    from importlib.metadata import version

    done = command("--version", cwd=tmp_path)  # as a user types it
    assert done.returncode == 0 and done.stdout == f"backprop {version('backprop')}\n"


def test_the_gan_example_says_what_it_does_before_it_trains_its_classifier(tmp_path, capsys):
    from examples import digits_gan

    with pytest.raises(SystemExit):  # the command's spelling, not --unconditional
        digits_gan.main(["--unconditional"])
    assert "unrecognized arguments: --unconditional" in capsys.readouterr().err
    digits_gan.main(["--epochs", "1", "--no-conditional", "--out", str(tmp_path / "gan")],
                    classifier_epochs=1)
    said = capsys.readouterr().out.splitlines()
    training = next(i for i, line in enumerate(said) if line.startswith("training a digits CNN"))
    assert said[training + 1].startswith("classifier test accuracy")
    assert "agreement" not in " ".join(said)  # unconditional: no digit was asked for
    assert os.path.isfile(tmp_path / "gan" / "classifier" / "checkpoint.safetensors")


def test_run_folders_are_not_committed() -> None:
    assert "runs/" in (ROOT / ".gitignore").read_text().split()


def _agg(figure):
    """``figure`` laid out on an Agg canvas, so its artists have window extents."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure).draw()
    return figure


def test_the_landscape_legend_leaves_the_lowest_point_visible() -> None:
    pytest.importorskip("matplotlib")
    x = y = np.linspace(-1, 1, 5)
    loss = (x[:, None] - 1) ** 2 + (y[None, :] - 1) ** 2 + 0.1  # lowest in the top right corner
    plane = LossLandscape((x, y), loss)
    axes = _agg(landscape_plot.make_figure(plane)).axes[0]
    legend = axes.get_legend().get_window_extent()
    assert plane.argmin() == (1.0, 1.0)
    assert not legend.contains(*axes.transData.transform(plane.argmin()))
    assert not legend.overlaps(axes.get_window_extent())  # beside the plot, not over it


def test_interpolating_to_init_labels_the_initial_weights(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    from backprop.diagnostics.landscape_command import landscape_command

    assert main([*TRAIN, "--epochs", "1", "--out", str(tmp_path)]) == 0
    drawn = []
    make_figure = landscape_plot.make_figure
    monkeypatch.setattr(landscape_plot, "make_figure",
                        lambda *args, **kwargs: drawn.append(make_figure(*args, **kwargs))
                        or drawn[-1])
    landscape_command(tmp_path / "checkpoint.safetensors", interpolate="init", steps=3,
                      batches=1, hessian_iters=0, log=lambda line: None)
    labels = [text.get_text() for text in drawn[0].axes[0].texts]
    assert labels == ["θ₀ (trained)", "θ₁ (initial weights)"]


@pytest.mark.parametrize("conditional", [True, False])
def test_the_gan_sample_grid_is_labelled(conditional: bool) -> None:
    pytest.importorskip("matplotlib")
    pictures = np.random.default_rng(0).random((gan.GRID_SIZE, 1, 8, 8), dtype=np.float32)
    axes = gan.sample_figure(pictures, conditional, epoch=3).axes[0]
    assert axes.get_ylabel() and "epoch 3" in axes.get_title()
    if not conditional:
        assert not axes.get_xticks().size
        return
    assert [label.get_text() for label in axes.get_xticklabels()] == [str(d) for d in range(10)]
    assert axes.get_xlabel() == "digit asked for"
    # Sample i is asked for digit i % 10 and drawn in column i % 10: each label tops its column.
    assert gan.grid_labels(10).numpy()[:10].tolist() == list(range(10))
    for column, tick in enumerate(axes.get_xticks()):
        left = 1 + column * (8 * 4 + 1)  # one pixel of padding, then 8 pixels at 4x
        assert left <= tick <= left + 8 * 4 - 1
