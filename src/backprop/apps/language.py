"""A character-level GPT trained on the complete Shakespeare plays, and sampling from it:
``backprop train-lm`` and ``backprop generate CHECKPOINT --prompt "..."``.

Usage: backprop train-lm [--max-iters 3000] [--n-layer 4] [--out DIR] ...  |
       backprop generate runs/train-lm/latest/checkpoint.safetensors --prompt "ROMEO:"

The training run: random windows of ``block_size`` characters from the training split (the
first 90% of every play, see ``backprop.datasets.text``), next-character cross-entropy, AdamW
(weight decay on the Linear weight matrices only), a linear warm-up then cosine decay of the
learning rate to ``min_lr``, gradients clipped to norm 1. Every ``eval_interval`` steps the loss
is estimated on the same fixed windows of both splits and the checkpoint is written (model
weights, model and run settings and the vocabulary, in one safetensors file, atomically). At the
end it writes ``loss.png``, ``history.json`` and a sample, ``sample.txt``.

The baseline the validation loss must beat is the unigram entropy of the corpus (3.333 nats):
the loss of the best model that ignores context. The defaults (context 64, 4 layers of width
128 with 4 heads, 0.81 M parameters, batch 16, 3,000 steps) reach a validation loss of 1.619
nats per character (two runs agreed to the last digit: the run is deterministic) in 521 s
of wall time, 494 s of it in training steps, on a 2-core machine shared with other jobs (load
average 2 to 9, ``OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1``); at load 8 to 13 it took 761 s.
On cores busy with other work, those two settings matter: with the default two threads each,
steps were 3.5 times slower, threads waiting for each other's busy cores. ``--time-limit``
bounds a run's wall time (it evaluates, saves and stops).

Why a sub-command of its own rather than ``backprop train --task language``: ``train``'s
settings (epochs, data set, classes, image models) describe image classification; a language
model's (context length, iterations, warm-up, sampling) share almost none of them, so one flag
namespace for both would make half the flags meaningless for each task.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import nn, optim
from ..atomic import atomic_write_text
from ..autograd.grad_mode import no_grad
from ..console import format_duration, say
from ..datasets.text import CharTokenizer, random_windows, shakespeare, split_play, unigram_entropy
from ..models.gpt import GPT, GPTConfig
from ..random import Generator, default_generator
from ..serialization import load_tagged, save
from ..tensor import Tensor
from ..train.config import ConfigError, at_least, flag, positive_finite, seed_flag
from ..train.fit import Period, fit, update
from ..train.run_folder import existing_file, prepare

CHECKPOINT_NAME = "checkpoint.safetensors"
FORMAT = "backprop-gpt-1"


@dataclass
class LanguageConfig:
    """Everything ``backprop train-lm`` needs; each field is also a ``--flag``."""

    text_file: str | None = None  # a UTF-8 text file to train on instead of Shakespeare
    # model (see GPTConfig)
    block_size: int = 64        # context length in characters
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0        # the corpus is large for this model: it does not overfit
    # optimisation
    batch_size: int = 16        # windows per step
    max_iters: int = 3000       # optimizer steps
    lr: float = 2e-3            # peak learning rate, reached after the warm-up
    min_lr: float = 1e-4        # learning rate at the end of the cosine decay
    warmup_iters: int | None = None  # linear warm-up steps (None: min(100, max_iters // 10))
    weight_decay: float = 0.1   # AdamW, on weight matrices only
    beta2: float = 0.99         # AdamW's second-moment decay (small batches: shorter memory)
    grad_clip: float = 1.0      # clip the gradients' total norm to this (0: off)
    # evaluation and output
    eval_interval: int = 250    # steps between loss estimates and checkpoints
    eval_windows: int = 256     # fixed windows per split for each loss estimate
    time_limit: float = 0.0     # seconds of wall time; past it, evaluate, save, stop (0: none)
    sample_length: int = 500    # characters sampled into sample.txt at the end
    seed: int = 0
    out: str | None = None      # folder for the checkpoint, loss.png, history.json, sample.txt
                                # (None: a new runs/train-lm/<date>-<time>)
    progress: bool = True       # show a progress bar (tqdm, when installed)

    def model_config(self, vocab_size: int) -> GPTConfig:
        """The model these settings describe, for a vocabulary of ``vocab_size``."""
        return GPTConfig(block_size=self.block_size, vocab_size=vocab_size, n_layer=self.n_layer,
                         n_head=self.n_head, n_embd=self.n_embd, dropout=self.dropout)

    def validate(self) -> LanguageConfig:
        """Check the run's settings (the model's are checked by ``GPTConfig``), naming the
        ``--flag``; an unset ``warmup_iters`` becomes ``min(100, max_iters // 10)``, so short
        runs warm up for a tenth of their steps.

        >>> LanguageConfig(max_iters=50).validate().warmup_iters
        5
        """
        at_least(self, 1, "batch_size", "max_iters", "eval_interval", "eval_windows")
        at_least(self, 0, "seed", "weight_decay", "grad_clip", "time_limit", "sample_length")
        positive_finite(self, "lr", "min_lr")
        if self.min_lr > self.lr:
            raise ConfigError(f"train-lm: --min-lr must be at most --lr; got --min-lr "
                              f"{self.min_lr}, --lr {self.lr}")
        if self.warmup_iters is None:
            self.warmup_iters = min(100, self.max_iters // 10)
        if not 0 <= self.warmup_iters < self.max_iters:
            raise ConfigError(f"train-lm: --warmup-iters must be in [0, --max-iters "
                              f"{self.max_iters}); got {self.warmup_iters}")
        if not 0 < self.beta2 < 1:
            raise ConfigError(f"train-lm: --beta2 must be in (0, 1); got {self.beta2}")
        self.model_config(1)  # GPTConfig's own checks
        return self


@dataclass
class LanguageResult:
    """What a run produced and measured."""

    unigram_entropy: float
    val_loss: float
    train_loss: float
    steps: int
    seconds: float              # in training steps (loss estimates and sampling excluded)
    wall_seconds: float = 0.0   # the whole run, from reading the corpus to the sample
    history: list[dict[str, float]] = field(default_factory=list)
    checkpoint: Path | None = None
    curves: Path | None = None
    sample: str = ""


def load_corpus(config: LanguageConfig) -> tuple[str, str]:
    """The training and validation text: Shakespeare's plays, or the user's file with its
    last 10% held out."""
    if config.text_file is None:
        return shakespeare("train"), shakespeare("val")
    path = existing_file(config.text_file, "train-lm: --text-file")
    text = path.read_text(encoding="utf-8")
    if len(text) < 10 * (config.block_size + 1):
        raise ValueError(f"train-lm: {path} holds {len(text)} characters, too few for "
                         f"block_size {config.block_size} (need at least "
                         f"{10 * (config.block_size + 1)})")
    return split_play(text)


def make_schedule(config: LanguageConfig, optimizer: optim.Optimizer) -> Any:
    """Linear warm-up from lr / warmup_iters to lr, then cosine decay to min_lr at max_iters
    (one ``step()`` per optimizer step).

    >>> import backprop as bp
    >>> config = LanguageConfig(max_iters=6, warmup_iters=2, lr=1.0, min_lr=0.5)
    >>> optimizer = optim.AdamW([bp.nn.Parameter(bp.zeros(1))], lr=config.lr)
    >>> schedule, rates = make_schedule(config, optimizer), []
    >>> for _ in range(7):
    ...     rates.append(round(optimizer.param_groups[0]["lr"], 3))
    ...     optimizer.step(); schedule.step()
    >>> rates
    [0.5, 0.75, 1.0, 0.927, 0.75, 0.573, 0.5]
    """
    scheduler = optim.lr_scheduler
    cosine = scheduler.CosineAnnealingLR(optimizer, T_max=config.max_iters - config.warmup_iters,
                                         eta_min=config.min_lr)
    if config.warmup_iters == 0:
        return cosine
    warmup = scheduler.LinearLR(optimizer, start_factor=1.0 / config.warmup_iters,
                                total_iters=config.warmup_iters)
    return scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[config.warmup_iters])


def estimate_loss(model: GPT, windows: tuple[Tensor, Tensor], batch_size: int = 64) -> float:
    """Mean next-character cross-entropy over fixed windows, in eval mode, without a graph.

    >>> import backprop as bp
    >>> model = GPT(GPTConfig(vocab_size=4, block_size=8, n_layer=1, n_head=1, n_embd=8))
    >>> windows = random_windows(np.arange(20) % 4, 8, 3, bp.Generator(0))
    >>> abs(estimate_loss(model, windows) - math.log(4)) < 0.1  # untrained: near uniform
    True
    """
    inputs, targets = windows
    was_training = model.training
    model.eval()
    total = 0.0
    with no_grad():
        for start in range(0, inputs.shape[0], batch_size):
            logits = model(inputs[start:start + batch_size])
            target = targets[start:start + batch_size]
            total += nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                 target.reshape(-1), reduction="sum").item()
    model.train(was_training)
    return total / targets.numel()


def train_language(config: LanguageConfig | None = None,
                   log: Callable[[str], None] = say) -> LanguageResult:
    """Train a GPT on the corpus as ``config`` says; returns the losses, time and files.

    >>> import tempfile, backprop as bp
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = f"{folder.name}/tiny.txt"
    >>> _ = open(path, "w").write("to be or not to be, that is the question. " * 40)
    >>> config = LanguageConfig(text_file=path, block_size=16, n_layer=1, n_head=2, n_embd=16,
    ...                         batch_size=8, max_iters=20, warmup_iters=2, eval_interval=10,
    ...                         eval_windows=8, sample_length=20, out=folder.name,
    ...                         progress=False)
    >>> result = train_language(config, log=lambda line: None)
    >>> result.steps, result.val_loss < result.history[0]["val_loss"]
    (20, True)
    >>> folder.cleanup()
    """
    config = (config or LanguageConfig()).validate()
    folder = prepare(config.out, "train-lm")
    started = time.perf_counter()
    default_generator.manual_seed(config.seed)  # initial weights and dropout
    batches = Generator(config.seed)
    train_text, val_text = load_corpus(config)
    tokenizer = CharTokenizer.from_text(train_text + val_text)
    train_ids, val_ids = tokenizer.encode(train_text), tokenizer.encode(val_text)
    entropy = unigram_entropy(train_text + val_text)
    model = GPT(config.model_config(tokenizer.vocab_size))
    log(f"corpus: {len(train_text):,} training and {len(val_text):,} validation characters, "
        f"vocabulary {tokenizer.vocab_size}, unigram entropy {entropy:.4f} nats; model "
        f"{model.num_parameters():,} parameters")
    optimizer = optim.AdamW(model.optimizer_groups(config.weight_decay), lr=config.lr,
                            betas=(0.9, config.beta2))
    schedule = make_schedule(config, optimizer)
    # The same windows at every estimate, drawn from their own stream, so estimates compare.
    fixed = Generator(config.seed + 1)
    probes = {"train": random_windows(train_ids, config.block_size, config.eval_windows, fixed),
              "val": random_windows(val_ids, config.block_size, config.eval_windows, fixed)}
    out = folder.create(log)
    config = dataclasses.replace(config, out=str(out))
    result = LanguageResult(unigram_entropy=entropy, val_loss=math.nan, train_loss=math.nan,
                            steps=0, seconds=0.0)
    step_losses: list[float] = []

    def evaluate(step: int) -> None:
        record = {"step": step, "seconds": result.seconds,
                  "lr": optimizer.param_groups[0]["lr"],
                  "train_loss": estimate_loss(model, probes["train"]),
                  "val_loss": estimate_loss(model, probes["val"])}
        result.history.append(record)
        result.train_loss, result.val_loss = record["train_loss"], record["val_loss"]
        log(f"step {step:5d}  train loss {record['train_loss']:.4f}  val loss "
            f"{record['val_loss']:.4f}  lr {record['lr']:.2e}  "
            f"({format_duration(result.seconds)})")
        result.checkpoint = save_checkpoint(out / CHECKPOINT_NAME, model, tokenizer, config,
                                            step, result)
        folder.mark_latest()

    def train_step(step: int) -> dict[str, float]:
        inputs, targets = random_windows(train_ids, config.block_size, config.batch_size,
                                         batches)
        logits = model(inputs)
        loss = nn.functional.cross_entropy(logits.reshape(-1, tokenizer.vocab_size),
                                           targets.reshape(-1))
        update(loss, optimizer, schedule, max_norm=config.grad_clip,
               parameters=model.parameters())
        step_losses.append(loss.item())
        result.steps = step
        return {"loss": step_losses[-1]}

    def end_block(period: Period) -> None:
        result.seconds += period.seconds  # training time, estimates excluded
        evaluate(result.steps)
        if period.stopped:
            log(f"stopped after {result.steps} steps: the time limit of {config.time_limit:g} s "
                "is spent")

    def steps(block: int) -> range:
        """The block's step numbers: a block ends at a loss estimate and checkpoint."""
        return range((block - 1) * config.eval_interval + 1,
                     min(block * config.eval_interval, config.max_iters) + 1)

    model.train()
    evaluate(0)
    fit(range(1, math.ceil(config.max_iters / config.eval_interval) + 1), steps, train_step,
        end_block, name="train-lm", progress=config.progress, shown="loss",
        after_step=lambda period: 0 < config.time_limit <= time.perf_counter() - started)
    atomic_write_text(out / "history.json", json.dumps({"unigram_entropy": entropy,
                                                        "evaluations": result.history,
                                                        "step_losses": step_losses}, indent=1),
                      "train-lm")
    result.curves = save_loss_plot(result.history, step_losses, entropy, out / "loss.png")
    start_with = "\n" if "\n" in tokenizer.vocab else train_text[0]
    result.sample = tokenizer.decode(model.generate(
        Tensor._wrap(tokenizer.encode(start_with)[None, :]), config.sample_length,
        temperature=0.8, generator=Generator(config.seed))[0])
    atomic_write_text(out / "sample.txt", result.sample, "train-lm")
    result.wall_seconds = time.perf_counter() - started
    return result


def save_checkpoint(path: Path, model: GPT, tokenizer: CharTokenizer, config: LanguageConfig,
                    step: int, result: LanguageResult) -> Path:
    """The weights (one entry for the tied embedding/head), the model's and the run's settings
    and the vocabulary, written atomically; nothing is pickled.

    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> model = GPT(GPTConfig(vocab_size=3, block_size=8, n_layer=1, n_head=1, n_embd=8))
    >>> result = LanguageResult(unigram_entropy=1.1, val_loss=1.0, train_loss=1.0, steps=0,
    ...                         seconds=0.0)
    >>> path = save_checkpoint(Path(folder.name) / "lm.safetensors", model,
    ...                        CharTokenizer("ab\\n"), LanguageConfig(), 0, result)
    >>> loaded, tokenizer, state = load_language_model(path)
    >>> tokenizer.vocab, state["step"]
    ('\\nab', 0)
    >>> text = generate_text(path, prompt="ab", length=5, seed=1)
    >>> text[:2], len(text), set(text) <= set("ab\\n")
    ('ab', 7, True)
    >>> folder.cleanup()
    """
    save({"format": FORMAT, "model_config": model.config.to_dict(),
          "train_config": dataclasses.asdict(config), "vocab": tokenizer.vocab, "step": step,
          "val_loss": result.val_loss, "unigram_entropy": result.unigram_entropy,
          "history": result.history, "model": model.state_dict()}, path)
    return path


def load_language_model(checkpoint: str | Path) -> tuple[GPT, CharTokenizer, dict[str, Any]]:
    """The model (in eval mode), its tokenizer and the whole checkpoint (see
    ``save_checkpoint`` for an example)."""
    state = load_tagged(checkpoint, FORMAT, "generate", "is a checkpoint, but not a language "
                        "model's (one written by `backprop train-lm`)")
    model = GPT(GPTConfig.from_dict(state["model_config"]))
    model.load_state_dict(state["model"])
    model.eval()
    return model, CharTokenizer(state["vocab"]), state


def generate_text(checkpoint: str | Path, prompt: str = "\n", length: int = 500,
                  temperature: float = 0.8, top_k: int | None = None, seed: int = 0) -> str:
    """The prompt followed by ``length`` characters sampled from a ``train-lm`` checkpoint.

    >>> generate_text("missing.safetensors")
    Traceback (most recent call last):
    ...
    FileNotFoundError: generate: no such checkpoint: missing.safetensors
    """
    model, tokenizer, _ = load_language_model(checkpoint)
    if not prompt:
        raise ValueError("generate: --prompt must hold at least one character (try '\\n')")
    try:
        ids = tokenizer.encode(prompt)
    except ValueError:
        unknown = sorted(set(prompt) - set(tokenizer.vocab))
        raise ValueError(f"generate: --prompt has characters the model never saw: "
                         f"{', '.join(repr(c) for c in unknown)}; it knows "
                         f"{tokenizer.vocab!r}") from None
    if length < 0:
        raise ValueError(f"generate: --length must be 0 or more; got {length}")
    tokens = model.generate(Tensor._wrap(ids[None, :]), length, temperature=temperature,
                            top_k=top_k, generator=Generator(seed))
    return tokenizer.decode(tokens[0])


def save_loss_plot(history: list[dict[str, float]], step_losses: list[float], entropy: float,
                   path: Path) -> Path | None:
    """Per-step training loss, the periodic train/validation estimates and the unigram
    baseline, as a PNG; None without matplotlib."""
    from ..train.plots import pyplot, save_figure  # noqa: PLC0415 - matplotlib is optional

    plt = pyplot()
    if plt is None or not history:
        return None
    figure, axis = plt.subplots(figsize=(8, 4.5))
    steps = np.arange(1, len(step_losses) + 1)
    axis.plot(steps, step_losses, color="0.75", linewidth=0.6, label="training batch")
    for split, colour in (("train", "tab:blue"), ("val", "tab:orange")):
        axis.plot([h["step"] for h in history], [h[f"{split}_loss"] for h in history],
                  marker="o", markersize=3, color=colour, label=f"{split} estimate")
    axis.axhline(entropy, color="tab:red", linestyle="--",
                 label=f"unigram entropy {entropy:.3f}")
    axis.set(xlabel="step", ylabel="cross-entropy (nats per character)",
             title=f"Character GPT: validation loss {history[-1]['val_loss']:.3f}")
    return save_figure(plt, figure, path, (axis,))


# -- the command line -----------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``train-lm`` and ``generate`` to ``backprop``'s sub-commands; each parser's
    ``run`` default is the function that runs it (``args.run(args)``).

    >>> parser = argparse.ArgumentParser(prog="backprop")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["generate", "lm.safetensors", "--top-k", "5"])
    >>> args.run is run_generate, args.top_k, args.temperature
    (True, 5, 0.8)
    """
    train = subparsers.add_parser("train-lm", help="train a character-level GPT on the "
                                  "complete Shakespeare plays (needs backprop[text])")
    for item in dataclasses.fields(LanguageConfig):
        if isinstance(item.default, bool):
            train.add_argument(flag(item.name), dest=item.name, default=item.default,
                               action=argparse.BooleanOptionalAction,
                               help=f"(default: {item.default})")
            continue
        kind, metavar = _UNSET_FLAGS.get(item.name, (type(item.default), None))
        train.add_argument(flag(item.name), dest=item.name, type=kind, default=item.default,
                           metavar=metavar or ("N" if kind is int else None),
                           help=_UNSET_HELP.get(item.name, f"(default: {item.default})"))
    train.set_defaults(run=run_train_lm)
    generate = subparsers.add_parser("generate", help="sample text from a train-lm checkpoint")
    generate.add_argument("checkpoint")
    generate.add_argument("--prompt", default="\n", help="text to continue (default: a new line)")
    generate.add_argument("--length", type=int, default=500,
                          help="characters to generate (default: 500)")
    generate.add_argument("--temperature", type=float, default=0.8,
                          help="below 1: safer, above 1: wilder (default: 0.8)")
    generate.add_argument("--top-k", type=int, default=None,
                          help="sample among the k likeliest characters only (default: all)")
    generate.add_argument("--seed", type=seed_flag, default=0, metavar="N",
                          help="random seed (default: 0)")
    generate.set_defaults(run=run_generate)


# The settings whose default is None (unset): their type, what to type, and what unset means.
_UNSET_FLAGS = {"text_file": (str, "FILE"), "warmup_iters": (int, "N"), "out": (str, "DIR")}
_UNSET_HELP = {"text_file": "a UTF-8 text file to train on (default: the Shakespeare plays)",
               "warmup_iters": "linear warm-up steps (default: min(100, max_iters / 10))",
               "out": "folder for the checkpoint, loss.png, history.json and sample.txt "
                      "(default: a new runs/train-lm/DATE-TIME folder)"}


def run_train_lm(args: argparse.Namespace) -> None:
    """``backprop train-lm``: train, then print the losses, the files and the sample."""
    values = {item.name: getattr(args, item.name) for item in dataclasses.fields(LanguageConfig)}
    result = train_language(LanguageConfig(**values))
    say(f"validation loss {result.val_loss:.4f} nats/char (unigram entropy "
        f"{result.unigram_entropy:.4f}) after {result.steps} steps: "
        f"{format_duration(result.seconds)} training, {format_duration(result.wall_seconds)} "
        "in all")
    say(f"checkpoint {result.checkpoint}")
    if result.curves is not None:
        say(f"loss curve {result.curves}")
    say("sample:\n" + result.sample)


def run_generate(args: argparse.Namespace) -> None:
    """``backprop generate``: print the prompt and its sampled continuation."""
    say(generate_text(args.checkpoint, args.prompt, args.length, args.temperature, args.top_k,
                      args.seed))
