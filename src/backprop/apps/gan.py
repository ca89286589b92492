"""``backprop gan``: a generative adversarial network that learns to draw the embedded digits.

Usage: backprop gan [--epochs 200] [--seed 0] [--out DIR] [--no-conditional]
                    [--classifier CHECKPOINT]

The generator turns noise into 8x8 images; the discriminator learns to tell them from the real
training digits (scaled from [0, 1] to [-1, 1], the generator's ``tanh`` range). Both are
trained with Adam (lr 2e-4, betas (0.5, 0.999): a low beta1 keeps the momentum from chasing an
opponent that has moved on). The generator's loss is the *non-saturating* one: it maximises
log D(G(z)) (binary cross-entropy against the "real" label) rather than minimising
log(1 - D(G(z))), whose gradient vanishes early on when the discriminator wins easily. The real
targets are smoothed to 0.9 (one-sided label smoothing) and the discriminator sees the batch's
feature spread (``minibatch_stddev``); both keep the generator from collapsing onto a few digits.

By default the GAN is *class-conditional* (Mirza and Osindero, 2014): both networks also see
the digit's label (one-hot), so the generator is asked for a given digit and every class is
drawn equally often. With ``--no-conditional`` the same networks learn without labels; on these
1,442 images that GAN draws all ten digits but less crisply (measured with seed 0: 64% of
samples classified with confidence >= 0.9 after 200 epochs, 73% after 500, against 95% for the
conditional one; see benchmarks/applications.py).

Every epoch a grid of 100 samples from the same fixed noise is written to
``OUT/samples/epoch_NNNN.png`` (and the latest to ``OUT/samples.png``; OUT is a new
``runs/gan/<date>-<time>`` unless ``--out`` names one); for a conditional GAN, column c holds
the digit c, as its label above says. The checkpoint ``OUT/checkpoint.safetensors``
(``bp.save``, never pickle) holds both networks, their optimizers and the per-epoch losses.
``evaluate_gan`` scores a checkpoint with a digits classifier trained by ``backprop train``.
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
from ..creation import full, randn, zeros
from ..models.gan import Discriminator, Generator
from ..random import Generator as RandomGenerator
from ..random import default_generator
from ..serialization import load_tagged, save
from ..tensor import Tensor
from ..train.config import ConfigError, add_run_flags, at_least, positive_finite
from ..train.fit import Period, fit, update
from ..train.run_folder import existing_file, prepare
from ..utils.data import DataLoader, TensorDataset
from .images import make_grid, png_bytes

__all__ = ["GANConfig", "GANResult", "build_networks", "evaluate_gan", "generate", "load_generator",
           "register", "run", "sample", "sample_figure", "train_gan", "train_step"]

CHECKPOINT_NAME = "checkpoint.safetensors"
FORMAT = "backprop-gan-1"
GRID_SIZE = 100  # samples in each epoch's picture: 10 rows of 10


@dataclass
class GANConfig:
    """The settings of ``backprop gan``; each is also a ``--flag``."""

    latent_dim: int = 32                  # size of the noise vector z
    hidden: tuple[int, ...] = (128, 256)  # generator widths; the discriminator's, reversed
    conditional: bool = True              # feed the digit label to both networks (see above)
    minibatch_std: bool = True            # the discriminator sees the batch's feature spread
    real_label: float = 0.9               # target for real images (one-sided label smoothing)
    lr: float = 2e-4                      # Adam learning rate of both networks
    beta1: float = 0.5
    beta2: float = 0.999
    epochs: int = 200
    batch_size: int = 64
    seed: int = 0
    out: str | None = None                # folder for the checkpoint and the pictures (None: a
                                          # new runs/gan/<date>-<time>)
    sample_every: int = 1                 # epochs between sample grids
    progress: bool = True                 # show a progress bar (tqdm, when installed)

    def validate(self) -> GANConfig:
        """Check every value; raise ``ConfigError`` naming the setting."""
        at_least(self, 1, "latent_dim", "epochs", "sample_every")
        at_least(self, 2, "batch_size")  # batch norm and the minibatch spread need two samples
        at_least(self, 0, "seed")
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise ConfigError(f"gan: hidden must be positive layer sizes; got {self.hidden}")
        positive_finite(self, "lr")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ConfigError(f"gan: beta1 and beta2 must be in [0, 1); got {self.beta1}, "
                              f"{self.beta2}")
        if not 0.5 < self.real_label <= 1:
            raise ConfigError(f"gan: real_label must be in (0.5, 1]; got {self.real_label}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GANConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ConfigError(f"gan: unknown settings {sorted(unknown)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**values).validate()


@dataclass
class GANResult:
    """Per-epoch losses, and the files written."""

    history: list[dict[str, float]] = field(default_factory=list)
    checkpoint: Path | None = None
    samples: Path | None = None


def build_networks(config: GANConfig, image_shape: tuple[int, ...] = (1, 8, 8),
                   num_classes: int = 10) -> tuple[Generator, Discriminator]:
    """The generator and discriminator ``config`` describes."""
    classes = num_classes if config.conditional else 0
    generator = Generator(config.latent_dim, config.hidden, image_shape, classes)
    discriminator = Discriminator(tuple(reversed(config.hidden)), image_shape, classes,
                                  config.minibatch_std)
    return generator, discriminator


def digits_in_tanh_range() -> tuple[Tensor, Tensor]:
    """The training digits (N, 1, 8, 8) scaled from [0, 1] to [-1, 1], and their labels."""
    from .. import datasets  # noqa: PLC0415 - keeps `backprop --help` from loading it

    train = datasets.Digits(train=True)
    images = np.asarray(train.data) * np.float32(2) - np.float32(1)
    return Tensor._wrap(images), Tensor._wrap(np.asarray(train.targets))


def grid_labels(num_classes: int) -> Tensor:
    """Labels for a conditional grid: each row of 10 holds the classes 0, 1, ..., 9."""
    return Tensor._wrap(np.arange(GRID_SIZE, dtype=np.int64) % num_classes)


def train_gan(config: GANConfig, log: Callable[[str], None] = say) -> GANResult:
    """Train the generator and discriminator on the digits; write a sample grid every
    ``config.sample_every`` epochs and the checkpoint after every epoch into ``config.out``
    (None: a new ``runs/gan/<date>-<time>``)."""
    config.validate()
    folder = prepare(config.out, "gan")
    default_generator.manual_seed(config.seed)
    images, labels = digits_in_tanh_range()
    generator, discriminator = build_networks(config, tuple(images.shape[1:]))
    betas = (config.beta1, config.beta2)
    optimizer_g = optim.Adam(generator.parameters(), lr=config.lr, betas=betas)
    optimizer_d = optim.Adam(discriminator.parameters(), lr=config.lr, betas=betas)
    # drop_last: batch norm and the minibatch spread are meaningless on a batch of one.
    loader = DataLoader(TensorDataset(images, labels), batch_size=config.batch_size,
                        shuffle=True, drop_last=True, generator=RandomGenerator(config.seed))
    if len(loader) == 0:
        raise ConfigError(f"gan: batch_size {config.batch_size} is larger than the "
                          f"{len(images)} training images")
    # The same noise every epoch, so the grids show one set of samples improving.
    fixed_noise = randn(GRID_SIZE, config.latent_dim, generator=RandomGenerator(config.seed + 1))
    fixed_labels = grid_labels(10) if config.conditional else None
    out = folder.create(log)
    config = dataclasses.replace(config, out=str(out))
    (out / "samples").mkdir(exist_ok=True)
    result = GANResult()

    def step(batch: tuple[Tensor, Tensor]) -> dict[str, float]:
        real, digit = batch
        return train_step(generator, discriminator, optimizer_g, optimizer_d, real,
                          digit if config.conditional else None, config)

    def end_epoch(period: Period) -> None:
        epoch = period.number
        record = {"epoch": epoch, **{k: v / len(loader) for k, v in period.sums.items()},
                  "seconds": period.seconds}
        result.history.append(record)
        log(f"epoch {epoch:3d}  loss D {record['loss_d']:.4f}  loss G {record['loss_g']:.4f}  "
            f"D(x) {record['d_real']:.3f}  D(G(z)) {record['d_fake']:.3f}  "
            f"({format_duration(record['seconds'])})")
        if epoch % config.sample_every == 0 or epoch == config.epochs:
            pictures = to_unit_range(generate(generator, fixed_noise, fixed_labels))
            picture = sample_png(pictures, config.conditional, epoch)
            atomic_write_bytes(out / "samples" / f"epoch_{epoch:04d}.png", picture, "gan")
            result.samples = atomic_write_bytes(out / "samples.png", picture, "gan")
        result.checkpoint = out / CHECKPOINT_NAME
        save({"format": FORMAT, "config": config.to_dict(), "epoch": epoch,
              "image_shape": list(images.shape[1:]), "generator": generator.state_dict(),
              "discriminator": discriminator.state_dict(), "optimizer_g": optimizer_g.state_dict(),
              "optimizer_d": optimizer_d.state_dict(), "history": result.history},
             result.checkpoint)
        folder.mark_latest()

    fit(range(1, config.epochs + 1), lambda epoch: loader, step, end_epoch,
        progress=config.progress)
    atomic_write_text(out / "history.json", json.dumps(result.history, indent=1), "gan")
    return result


def train_step(generator: Generator, discriminator: Discriminator, optimizer_g: optim.Optimizer,
               optimizer_d: optim.Optimizer, real: Tensor, labels: Tensor | None,
               config: GANConfig) -> dict[str, float]:
    """One discriminator update, then one generator update; the losses and mean D outputs."""
    bce = nn.functional.binary_cross_entropy_with_logits
    batch = real.shape[0]
    generator.train()
    fake = generator(randn(batch, config.latent_dim), labels)
    # The discriminator: real images towards `real_label`, fakes towards 0. `detach` keeps
    # this loss from reaching the generator's parameters.
    real_logits = discriminator(real, labels)
    fake_logits = discriminator(fake.detach(), labels)
    loss_d = (bce(real_logits, full((batch, 1), config.real_label))
              + bce(fake_logits, zeros(batch, 1)))
    update(loss_d, optimizer_d)
    # The generator, non-saturating: make the (just updated) discriminator say "real" (1).
    loss_g = bce(discriminator(fake, labels), full((batch, 1), 1.0))
    update(loss_g, optimizer_g)
    return {"loss_d": loss_d.item(), "loss_g": loss_g.item(),
            "d_real": float(nn.functional.sigmoid(real_logits.detach()).mean().item()),
            "d_fake": float(nn.functional.sigmoid(fake_logits.detach()).mean().item())}


def generate(generator: Generator, noise: Tensor, labels: Tensor | None = None) -> np.ndarray:
    """The generator's images for ``noise`` (in [-1, 1]), in eval mode, without a graph."""
    was_training = generator.training
    generator.eval()
    with no_grad():
        images = generator(noise, labels).numpy()
    generator.train(was_training)
    return images


def sample_figure(pictures: np.ndarray, conditional: bool, epoch: int) -> Any:
    """The sample grid (10 to a row) as a labelled matplotlib ``Figure``: for a conditional
    GAN each column is titled with the digit it was asked for; None without matplotlib."""
    try:
        from matplotlib.figure import Figure  # noqa: PLC0415 - optional extra, slow to import
    except ImportError:
        return None
    padding, scale = 1, 4
    grid = make_grid(pictures, nrow=10, padding=padding, scale=scale)
    cell = pictures.shape[-1] * scale
    centres = padding + np.arange(10) * (cell + padding) + (cell - 1) / 2
    figure = Figure(figsize=(5.2, 5.6))
    axes = figure.add_subplot()
    axes.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axes.set_yticks([])
    if conditional:
        axes.xaxis.tick_top()
        axes.set_xticks(centres, [str(digit) for digit in range(10)])
        axes.xaxis.set_label_position("top")
        axes.set_xlabel("digit asked for")
    else:
        axes.set_xticks([])
    axes.set_ylabel("fixed noise: the same samples every epoch")
    axes.set_title(f"GAN samples after epoch {epoch}", fontsize=10, y=-0.06)
    axes.tick_params(length=0)
    figure.tight_layout()
    return figure


def sample_png(pictures: np.ndarray, conditional: bool, epoch: int) -> bytes:
    """The PNG of ``sample_figure``; without matplotlib the plain grid (column c still holds
    digit c for a conditional GAN)."""
    figure = sample_figure(pictures, conditional, epoch)
    if figure is None:
        return png_bytes(make_grid(pictures, nrow=10))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def to_unit_range(images: np.ndarray) -> np.ndarray:
    """Images from the generator's [-1, 1] to the data's [0, 1]."""
    return np.clip((images + 1) / 2, 0, 1).astype(np.float32)


def load_generator(path: str | Path) -> tuple[Generator, dict[str, Any]]:
    """The generator saved in a ``backprop gan`` checkpoint, in eval mode, and the checkpoint."""
    state = load_tagged(path, FORMAT, "load_generator",
                        "is not a checkpoint written by `backprop gan`")
    config = GANConfig.from_dict(state["config"])
    generator, _ = build_networks(config, tuple(state["image_shape"]))
    generator.load_state_dict(state["generator"])
    generator.eval()
    return generator, state


def sample(generator: Generator, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """``n`` images (N, C, H, W) in [0, 1] from fresh noise drawn with ``seed``, and, for a
    conditional generator, the labels asked for (the classes in turn: 0, 1, ..., 9, 0, ...).

    >>> images, labels = sample(Generator(latent_dim=4, hidden=(8,)), 3)
    >>> images.shape, labels is None, bool(images.min() >= 0 and images.max() <= 1)
    ((3, 1, 8, 8), True, True)
    """
    if n < 1:
        raise ValueError(f"sample: n must be at least 1; got {n}")
    noise = randn(n, generator.latent_dim, generator=RandomGenerator(seed))
    labels = None
    if generator.num_classes:
        labels = Tensor._wrap(np.arange(n, dtype=np.int64) % generator.num_classes)
    images = to_unit_range(generate(generator, noise, labels))
    return images, None if labels is None else labels.numpy()


def evaluate_gan(checkpoint: str | Path, classifier_checkpoint: str | Path, n: int = 1000,
                 threshold: float = 0.9, seed: int = 0) -> dict[str, Any]:
    """Classify ``n`` generated digits with a ``backprop train`` checkpoint.

    Returns ``confident_fraction`` (the share of samples whose top class has probability >=
    ``threshold``), ``histogram`` (how many samples each class 0..9 got, all samples) and
    ``confident_histogram`` (the same, confident samples only), ``classes_present`` (classes
    with at least one confident sample) and, for a conditional generator, ``agreement`` (the
    share of samples classified as the digit they were asked to be).
    """
    from ..train.data import standardize  # noqa: PLC0415 - only evaluation needs the classifier
    from ..train.loop import load_trained, predict  # noqa: PLC0415

    if not 0 < threshold < 1:
        raise ValueError(f"evaluate_gan: threshold must be in (0, 1); got {threshold}")
    generator, _ = load_generator(checkpoint)
    existing_file(classifier_checkpoint, "evaluate_gan: classifier checkpoint")
    classifier, state = load_trained(classifier_checkpoint)
    if tuple(state["image_shape"]) != generator.image_shape or len(state["classes"]) != 10:
        raise ValueError(f"evaluate_gan: the classifier takes {tuple(state['image_shape'])} "
                         f"images of {len(state['classes'])} classes; the generator draws "
                         f"{generator.image_shape} digits (10 classes)")
    images, asked = sample(generator, n, seed)
    mean, std = state["normalize"]
    probabilities = predict(classifier, Tensor._wrap(standardize(images, mean, std)))
    predicted = probabilities.argmax(axis=1)
    confident = probabilities.max(axis=1) >= threshold
    result = {"n": n, "threshold": threshold, "confident_fraction": float(confident.mean()),
              "histogram": np.bincount(predicted, minlength=10).tolist(),
              "confident_histogram": np.bincount(predicted[confident], minlength=10).tolist()}
    result["classes_present"] = int(np.count_nonzero(result["confident_histogram"]))
    if asked is not None:
        result["agreement"] = float((predicted == asked).mean())
    return result


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``gan`` sub-command to the ``backprop`` command's sub-parsers."""
    parser = commands.add_parser("gan", help="train a GAN that draws digits; a sample grid "
                                 "per epoch")
    defaults = GANConfig()
    add_run_flags(parser, "gan", defaults)
    parser.add_argument("--latent-dim", type=int, default=defaults.latent_dim, metavar="N",
                        help="(default: %(default)s)")
    parser.add_argument("--conditional", action=argparse.BooleanOptionalAction,
                        default=defaults.conditional,
                        help="give both networks the digit label (default: %(default)s)")
    parser.add_argument("--sample-every", type=int, default=defaults.sample_every, metavar="N",
                        help="epochs between sample grids (default: %(default)s)")
    parser.add_argument("--classifier", metavar="CHECKPOINT",
                        help="a `backprop train` digits checkpoint: classify 1,000 samples")
    parser.add_argument("--evaluate", metavar="GAN_CHECKPOINT",
                        help="skip training: only classify the samples of this checkpoint "
                        "(needs --classifier)")
    parser.set_defaults(run=run)  # the `backprop` command calls args.run(args)


def run(args: argparse.Namespace) -> None:
    """Train (or, with ``--evaluate``, only score) as ``backprop gan`` was asked."""
    if args.classifier:
        existing_file(args.classifier, "gan: --classifier")
    if args.evaluate:
        if not args.classifier:
            raise ValueError("gan: --evaluate needs --classifier CHECKPOINT (a `backprop train` "
                             "digits checkpoint)")
        _print_evaluation(evaluate_gan(args.evaluate, args.classifier))
        return
    config = GANConfig(epochs=args.epochs, seed=args.seed, out=args.out,
                       batch_size=args.batch_size, lr=args.lr, latent_dim=args.latent_dim,
                       conditional=args.conditional, sample_every=args.sample_every,
                       progress=args.progress).validate()
    result = train_gan(config)
    say(f"checkpoint {result.checkpoint}")
    say(f"samples {result.samples}")
    if args.classifier:
        _print_evaluation(evaluate_gan(result.checkpoint, args.classifier))


def _print_evaluation(result: dict[str, Any]) -> None:
    say(f"{100 * result['confident_fraction']:.1f}% of {result['n']} samples classified with "
        f"confidence >= {result['threshold']}; classes present: {result['classes_present']}/10")
    say("confident samples per class: "
        + " ".join(f"{d}:{c}" for d, c in enumerate(result["confident_histogram"])))
    if "agreement" in result:
        say(f"classified as the digit asked for: {100 * result['agreement']:.1f}%")
