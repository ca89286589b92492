"""``backprop superres``: a sub-pixel convolutional network that doubles the digits' resolution.

Usage: backprop superres [--epochs 150] [--seed 0] [--out DIR]

The task: from a 4x4 image, recover the 8x8 digit. The low-resolution input is the 8x8 image
(values in [0, 1]) averaged over 2x2 blocks (``downsample``), which is what a camera sensor with
pixels twice as large would have recorded. The network (``ESPCN``) is trained on the training
split with the mean squared error, which is the loss PSNR measures; on the test split its PSNR
is compared with bilinear and bicubic interpolation of the same 4x4 input (``upsample``, NumPy,
``align_corners=False``). PSNR is the mean over test images of each image's PSNR, all images
clipped to [0, 1] first (clipping only helps bicubic, whose overshoot it removes).

Written into the output folder (a new ``runs/superres/<date>-<time>`` unless ``--out`` names
one): ``checkpoint.safetensors`` (``bp.save``, never pickle) after every epoch, and
``comparison.png``: test digits as low-res input, bicubic, ours and original.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import nn, optim
from ..atomic import atomic_write_bytes, atomic_write_text
from ..autograd.grad_mode import no_grad
from ..console import format_duration, say
from ..models.superres import ESPCN, downsample, psnr, upsample
from ..random import Generator as RandomGenerator
from ..random import default_generator
from ..serialization import load_tagged, save
from ..tensor import Tensor
from ..train.config import ConfigError, add_run_flags, at_least, positive_finite
from ..train.fit import Period, fit, update
from ..train.run_folder import prepare
from ..utils.data import DataLoader, TensorDataset
from .images import save_grid

__all__ = ["SRConfig", "SRResult", "evaluate_superres", "load_superres", "register", "run",
           "save_comparison", "score", "super_resolve", "train_superres"]

CHECKPOINT_NAME = "checkpoint.safetensors"
FORMAT = "backprop-superres-1"
FACTOR = 2  # 4x4 -> 8x8


@dataclass
class SRConfig:
    """The settings of ``backprop superres``; each is also a ``--flag``."""

    features: tuple[int, ...] = (64, 32)  # channels of the hidden convolutions
    kernel_sizes: tuple[int, ...] = (5, 3, 3)  # one odd size per convolution
    lr: float = 1e-3                      # Adam, cosine-annealed to 0 over the run
    epochs: int = 150
    batch_size: int = 32
    seed: int = 0
    out: str | None = None                # folder for the checkpoint and the picture (None: a
                                          # new runs/superres/<date>-<time>)
    progress: bool = True                 # show a progress bar (tqdm, when installed)

    def validate(self) -> SRConfig:
        """Check every value; raise ``ConfigError`` naming the setting."""
        at_least(self, 1, "epochs", "batch_size")
        at_least(self, 0, "seed")
        positive_finite(self, "lr")
        if not self.features or any(f < 1 for f in self.features):
            raise ConfigError(f"superres: features must be positive sizes; got {self.features}")
        if (len(self.kernel_sizes) != len(self.features) + 1
                or any(k < 1 or k % 2 == 0 for k in self.kernel_sizes)):
            raise ConfigError(f"superres: kernel_sizes needs {len(self.features) + 1} odd sizes "
                              f"(one per convolution); got {self.kernel_sizes}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SRConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        if set(values) - known:
            raise ConfigError(f"superres: unknown settings {sorted(set(values) - known)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v
                      for k, v in values.items()}).validate()


@dataclass
class SRResult:
    """Per-epoch training loss, the test PSNRs, and the files written."""

    history: list[dict[str, float]] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    checkpoint: Path | None = None
    comparison: Path | None = None


def digit_pairs(train: bool) -> tuple[np.ndarray, np.ndarray]:
    """(low-res 4x4, high-res 8x8) float32 images in [0, 1] of a digits split, (N, 1, H, W)."""
    from .. import datasets  # noqa: PLC0415 - keeps `backprop --help` from loading it

    high = np.asarray(datasets.Digits(train=train).data, dtype=np.float32)
    return downsample(high, FACTOR).astype(np.float32), high


def build_model(config: SRConfig) -> ESPCN:
    return ESPCN(FACTOR, 1, config.features, config.kernel_sizes)


def super_resolve(model: ESPCN, low: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """The model's high-resolution images for ``low`` (N, 1, h, w), clipped to [0, 1]."""
    was_training = model.training
    model.eval()
    outputs = []
    with no_grad():
        for start in range(0, len(low), batch_size):
            outputs.append(model(Tensor._wrap(low[start:start + batch_size])).numpy())
    model.train(was_training)
    return np.clip(np.concatenate(outputs), 0.0, 1.0)


def mean_psnr(predictions: np.ndarray, targets: np.ndarray) -> float:
    """The mean over images of each image's PSNR (images clipped to [0, 1])."""
    return float(np.mean([psnr(np.clip(p, 0, 1), t) for p, t in zip(predictions, targets)]))


def score(model: ESPCN, low: np.ndarray, high: np.ndarray) -> dict[str, float]:
    """Mean PSNR (dB) of bilinear, bicubic and the model, and the model's gain over the better
    of the two interpolations."""
    scores = {"bilinear": mean_psnr(upsample(low, FACTOR, "bilinear"), high),
              "bicubic": mean_psnr(upsample(low, FACTOR, "bicubic"), high),
              "model": mean_psnr(super_resolve(model, low), high)}
    scores["gain"] = scores["model"] - max(scores["bilinear"], scores["bicubic"])
    return scores


def train_superres(config: SRConfig, log: Callable[[str], None] = say,
                   train_limit: int | None = None) -> SRResult:
    """Train ``ESPCN`` on the training digits (the first ``train_limit`` of them, when given),
    checkpoint after every epoch into ``config.out`` (None: a new
    ``runs/superres/<date>-<time>``), score on the test split and draw the comparison."""
    config.validate()
    folder = prepare(config.out, "superres")
    default_generator.manual_seed(config.seed)
    low, high = digit_pairs(train=True)
    if train_limit is not None:
        low, high = low[:train_limit], high[:train_limit]
    test_low, test_high = digit_pairs(train=False)
    model = build_model(config)
    optimizer = optim.Adam(model.parameters(), lr=config.lr)
    loader = DataLoader(TensorDataset(Tensor._wrap(low), Tensor._wrap(high)),
                        batch_size=config.batch_size, shuffle=True,
                        generator=RandomGenerator(config.seed))
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs * len(loader))
    out = folder.create(log)
    config = dataclasses.replace(config, out=str(out))
    result = SRResult()

    def step(batch: tuple[Tensor, Tensor]) -> dict[str, float]:
        inputs, targets = batch
        loss = nn.functional.mse_loss(model(inputs), targets)
        update(loss, optimizer, scheduler)
        return {"loss": loss.item() * len(inputs)}

    def end_epoch(period: Period) -> None:
        record = {"epoch": period.number, "train_loss": period.sums["loss"] / len(low),
                  "seconds": period.seconds}
        result.history.append(record)
        log(f"epoch {period.number:3d}  mse {record['train_loss']:.5f}  "
            f"({format_duration(record['seconds'])})")
        result.checkpoint = out / CHECKPOINT_NAME
        save({"format": FORMAT, "config": config.to_dict(), "epoch": period.number,
              "model": model.state_dict(), "optimizer": optimizer.state_dict(),
              "scheduler": scheduler.state_dict(), "history": result.history}, result.checkpoint)
        folder.mark_latest()

    # The model stays in training mode: nothing evaluates it before the last epoch ends.
    fit(range(1, config.epochs + 1), lambda epoch: loader, step, end_epoch,
        progress=config.progress)
    result.scores = score(model, test_low, test_high)
    log(f"test PSNR: bilinear {result.scores['bilinear']:.2f} dB, bicubic "
        f"{result.scores['bicubic']:.2f} dB, ESPCN {result.scores['model']:.2f} dB "
        f"({result.scores['gain']:+.2f} dB over the better interpolation)")
    atomic_write_text(out / "history.json", json.dumps({"history": result.history,
                                                        "test_psnr": result.scores}, indent=1),
                      "superres")
    result.comparison = save_comparison(model, test_low[:8], test_high[:8],
                                        out / "comparison.png")
    return result


def load_superres(path: str | Path) -> tuple[ESPCN, dict[str, Any]]:
    """The network saved in a ``backprop superres`` checkpoint, in eval mode, and the
    checkpoint."""
    state = load_tagged(path, FORMAT, "load_superres",
                        "is not a checkpoint written by `backprop superres`")
    model = build_model(SRConfig.from_dict(state["config"]))
    model.load_state_dict(state["model"])
    model.eval()
    return model, state


def evaluate_superres(checkpoint: str | Path) -> dict[str, float]:
    """Test-split mean PSNR (dB) of bilinear, bicubic and a saved network, and its gain."""
    model, _ = load_superres(checkpoint)
    return score(model, *digit_pairs(train=False))


def save_comparison(model: ESPCN, low: np.ndarray, high: np.ndarray, path: Path) -> Path:
    """A before/after picture, one column per image and one row per version: the low-res input
    (its pixels repeated), bicubic, ours, the original; labelled with matplotlib when it is
    installed, else a plain grid in that row order."""
    nearest = low.repeat(FACTOR, axis=-2).repeat(FACTOR, axis=-1)
    rows = {"low-res input": nearest, "bicubic": np.clip(upsample(low, FACTOR, "bicubic"), 0, 1),
            "ESPCN (ours)": super_resolve(model, low), "original": high}
    try:
        import matplotlib  # noqa: PLC0415 - optional extra

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        return save_grid(np.concatenate(list(rows.values())), path, nrow=len(high), scale=8)
    figure, axes = plt.subplots(len(rows), len(high), figsize=(1.3 * len(high) + 1, 6),
                                squeeze=False)
    for row, (name, images) in enumerate(rows.items()):
        for col in range(len(high)):
            axis = axes[row, col]
            axis.imshow(images[col, 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            axis.set_xticks([])
            axis.set_yticks([])
            if name in ("bicubic", "ESPCN (ours)"):
                axis.set_xlabel(f"{psnr(images[col], high[col]):.1f} dB", fontsize=8)
        axes[row, 0].set_ylabel(name, fontsize=9)
    figure.suptitle("4x4 -> 8x8 super-resolution of test digits (PSNR under each image)",
                    fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return atomic_write_bytes(path, buffer.getvalue(), "superres")


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``superres`` sub-command to the ``backprop`` command's sub-parsers."""
    parser = commands.add_parser("superres", help="train a sub-pixel CNN that upsamples 4x4 "
                                 "digits to 8x8; PSNR against bicubic")
    add_run_flags(parser, "superres", SRConfig())
    parser.add_argument("--evaluate", metavar="CHECKPOINT",
                        help="skip training: only score this checkpoint on the test split")
    parser.set_defaults(run=run)  # the `backprop` command calls args.run(args)


def run(args: argparse.Namespace) -> None:
    """Train (or, with ``--evaluate``, only score) as ``backprop superres`` was asked."""
    if args.evaluate:
        scores = evaluate_superres(args.evaluate)
        say(f"test PSNR (dB): bilinear {scores['bilinear']:.2f}  bicubic "
            f"{scores['bicubic']:.2f}  ESPCN {scores['model']:.2f}  gain {scores['gain']:+.2f}")
        return
    config = SRConfig(epochs=args.epochs, seed=args.seed, out=args.out,
                      batch_size=args.batch_size, lr=args.lr, progress=args.progress).validate()
    result = train_superres(config)
    say(f"checkpoint {result.checkpoint}")
    say(f"comparison {result.comparison}")
