"""``backprop landscape CHECKPOINT``: the loss landscape and sharpness of a trained model on the
test split of its data set, as a picture, a raw grid and a few printed figures.

This module sits on top of ``train`` (it reads checkpoints and data sets the way ``backprop
train`` writes them), so ``landscape`` and ``hessian`` stay free of it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import nn
from ..console import say
from ..random import default_generator
from ..train.config import TrainConfig, add_data_root_flag, seed_flag
from ..train.data import load_data
from ..train.loop import load_trained, trained_config
from ..train.models import build_model
from ..train.run_folder import existing_file, writable_folder
from ._batches import eval_mode, mean_loss
from .hessian import hessian_top_eigenvalue
from .landscape import loss_landscape

INIT = "init"


def _initial_state(config: TrainConfig, image_shape: tuple[int, ...], num_classes: int
                   ) -> dict[str, Any]:
    """The parameters ``backprop train`` started from: it seeds the global generator with
    ``config.seed`` and builds the model before drawing anything else, so doing the same here
    draws the same initial weights. The caller's random stream is put back afterwards."""
    saved = default_generator.get_state()
    try:
        default_generator.manual_seed(config.seed)
        return build_model(config, image_shape, num_classes).state_dict()
    finally:
        default_generator.set_state(saved)


def _test_batches(x: Any, y: Any, batches: int | None, batch_size: int) -> list[tuple[Any, Any]]:
    count = len(y)
    stops = range(0, count, batch_size)
    if batches is not None:
        stops = stops[:batches]
    return [(x[i:i + batch_size], y[i:i + batch_size]) for i in stops]


def _check_positive(name: str, value: Any, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"landscape: {name} must be a positive integer; got {value!r}")


def landscape_command(checkpoint: str | Path, out_dir: str | Path | None = None, *,
                      steps: int = 21, span: float | None = None, batches: int | None = None,
                      batch_size: int = 512, seed: int = 0, directions: int = 2,
                      interpolate: str | Path | None = None, normalization: str = "filter",
                      hessian_iters: int = 20, tol: float = 1e-3, data_root: str | None = None,
                      log: Callable[[str], None] = say) -> dict[str, Any]:
    """Draw the loss landscape of a ``backprop train`` checkpoint on its test split.

    Without ``interpolate``: a ``directions``-D slice (2: contour plot; 1: line) along random
    filter-normalised directions drawn with ``seed``, ``steps`` points per axis over
    [−span, span] (default 1). With ``interpolate`` (another checkpoint of the same model, or
    ``"init"`` for the weights training started from): the 1-D interpolation from the
    checkpoint (α = 0) to that one (α = 1) over [−span, 1 + span] (default 0.5). ``batches``
    limits the test split to that many batches of ``batch_size`` (default: all of it). Then
    the top Hessian eigenvalue by ``hessian_iters`` power iterations (0 skips it). The data
    set is read from ``data_root`` when given, else from the folder the checkpoint recorded.

    Writes ``landscape.png`` / ``landscape-1d.png`` / ``interpolation.png`` (when matplotlib is
    installed) and the same name with ``.npz`` into ``out_dir`` (default: the checkpoint's
    folder), prints a summary with ``log`` and returns the figures as a dict. A missing file
    raises ``FileNotFoundError``; a file that is not a ``backprop train`` checkpoint raises
    ``ValueError`` (``CheckpointError``); bad settings raise ``ValueError``.

    >>> import tempfile
    >>> from backprop.train.loop import train
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     run = train(TrainConfig(hidden=(8,), epochs=1, out=folder, progress=False),
    ...                 log=lambda line: None)
    ...     figures = landscape_command(run.checkpoint, steps=3, hessian_iters=3,
    ...                                 log=lambda line: None)
    >>> figures["shape"], figures["npz"].name, figures["hessian_iterations"] <= 3
    ((3, 3), 'landscape.npz', True)
    """
    _check_positive("batch_size", batch_size)
    _check_positive("batches", batches, allow_none=True)
    if not isinstance(hessian_iters, (int, np.integer)) or hessian_iters < 0:
        raise ValueError(f"landscape: hessian_iters must be 0 (skip) or a positive integer; got "
                         f"{hessian_iters!r}")
    path = existing_file(checkpoint, "landscape: CHECKPOINT")
    if interpolate is not None and str(interpolate) != INIT:
        existing_file(interpolate, "landscape: --interpolate")
    folder = writable_folder(out_dir if out_dir is not None else path.parent, "--out")
    model, state = load_trained(path)
    config = trained_config(state, path, data_root)
    data = load_data(config)
    test = _test_batches(data.test_x, data.test_y, batches, batch_size)
    samples = sum(len(y) for _, y in test)

    other: Any = None
    ends = ("the checkpoint", "other")  # what α = 0 and α = 1 are, for the picture
    if interpolate is not None:
        if str(interpolate) == INIT:
            other = _initial_state(config, data.image_shape, data.num_classes)
            ends = ("trained", "initial weights")
        else:
            other, _ = load_trained(interpolate)
            ends = ("the checkpoint", Path(interpolate).name)
    loss_fn = nn.CrossEntropyLoss()

    start = time.perf_counter()
    surface = loss_landscape(model, loss_fn, test, directions=None if other is not None
                             else directions, steps=steps, span=span, seed=seed, other=other,
                             normalization=normalization)
    landscape_seconds = time.perf_counter() - start
    stem = {"interpolation": "interpolation", "random": "landscape"}[surface.mode]
    if surface.mode == "random" and surface.ndim == 1:
        stem = "landscape-1d"
    folder.mkdir(parents=True, exist_ok=True)
    npz = surface.save(folder / f"{stem}.npz")
    try:
        png: Path | None = surface.plot(folder / f"{stem}.png", ends=ends)
    except ImportError as err:
        log(f"no picture: {err}")
        png = None

    with eval_mode(model):
        loss, accuracy = mean_loss(model, loss_fn, test, "landscape", True)
    figures: dict[str, Any] = {
        "checkpoint": str(path), "samples": samples, "mode": surface.mode, "shape":
        surface.loss.shape, "points": int(surface.loss.size),
        "loss": loss, "accuracy": accuracy,
        "grid_min_loss": float(np.nanmin(surface.loss)), "grid_min_at": surface.argmin(),
        "grid_max_loss": float(np.nanmax(surface.loss)),
        "landscape_seconds": landscape_seconds, "npz": npz, "png": png}
    points = "x".join(map(str, surface.loss.shape))
    log(f"landscape: {points} points on {samples} test samples in {landscape_seconds:.2f} s "
        f"({1000 * landscape_seconds / surface.loss.size:.1f} ms a point)")
    log(f"loss at the checkpoint {figures['loss']:.4f}"
        + ("" if figures["accuracy"] is None else f"  accuracy {figures['accuracy']:.4f}")
        + f";  on the grid: lowest {figures['grid_min_loss']:.4f} at "
        f"({', '.join(f'{c:.3g}' for c in figures['grid_min_at'])}), highest "
        f"{figures['grid_max_loss']:.4f}")
    if hessian_iters:
        start = time.perf_counter()
        eigen = hessian_top_eigenvalue(model, loss_fn, test, iters=hessian_iters, tol=tol,
                                       seed=seed)
        figures.update(sharpness=eigen.eigenvalue, hessian_iterations=eigen.iterations,
                       hessian_converged=eigen.converged,
                       hessian_seconds=time.perf_counter() - start)
        state_word = "converged" if eigen.converged else "not converged (raise hessian_iters)"
        log(f"sharpness (top Hessian eigenvalue) {eigen.eigenvalue:.4g} after "
            f"{eigen.iterations} power iterations, {state_word}, "
            f"{figures['hessian_seconds']:.2f} s")
    log(f"grid {npz}" + ("" if png is None else f"\npicture {png}"))
    return figures


def register(commands: Any) -> None:
    """Add the ``landscape`` sub-command."""
    landscape = commands.add_parser("landscape", help="loss landscape picture and sharpness of "
                                    "a `backprop train` checkpoint")
    landscape.add_argument("checkpoint")
    landscape.add_argument("--out", metavar="DIR", help="folder for the pictures and .npz "
                           "(default: the checkpoint's folder)")
    add_data_root_flag(landscape)
    landscape.add_argument("--steps", type=int, default=21, help="points per axis (default: 21)")
    landscape.add_argument("--span", type=float, help="half-width of the slice (default: 1; "
                           "0.5 beyond each end with --interpolate)")
    landscape.add_argument("--directions", type=int, choices=(1, 2), default=2,
                           help="a plane (2) or a line (1) of random directions (default: 2)")
    landscape.add_argument("--interpolate", metavar="CHECKPOINT|init",
                           help="a 1-D interpolation towards another checkpoint, or the "
                           "initial weights")
    landscape.add_argument("--normalization", choices=("filter", "layer", "none"),
                           default="filter", help="how the directions are scaled (default: "
                           "filter)")
    landscape.add_argument("--batches", type=int, help="test batches used (default: all)")
    landscape.add_argument("--batch-size", type=int, default=512, metavar="N",
                           help="(default: 512)")
    landscape.add_argument("--seed", type=seed_flag, default=0, metavar="N",
                           help="seed of the random directions (default: 0)")
    landscape.add_argument("--hessian-iters", type=int, default=20,
                           help="power iterations for the sharpness, 0 to skip (default: 20)")
    landscape.add_argument("--tol", type=float, default=1e-3,
                           help="relative change that ends the power iteration (default: 1e-3)")
    landscape.set_defaults(run=lambda args: landscape_command(
        args.checkpoint, args.out, steps=args.steps, span=args.span, batches=args.batches,
        batch_size=args.batch_size, seed=args.seed, directions=args.directions,
        interpolate=args.interpolate, normalization=args.normalization,
        hessian_iters=args.hessian_iters, tol=args.tol, data_root=args.data_root))
