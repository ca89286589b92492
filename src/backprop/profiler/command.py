"""``backprop profile``: time a few training steps of the model ``backprop train`` builds, per op
in forward, backward and the optimizer.

Usage: backprop profile [--model cnn] [--steps 5] [--sort cpu_time_total] [--rows 20]
                        [--shapes] [--trace trace.json]
"""

from __future__ import annotations

import argparse
import itertools

from ..console import say
from ..train.config import add_setting_flags, flag_names
from ..train.run_folder import check_output_file
from .table import SORT_KEYS

# Settings that do not change what one training step computes (how long, where, how shown).
_NOT_PROFILED = ("epochs", "out", "progress", "scheduler", "diagnose", "diagnose_every",
                 "detect_anomaly")


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``profile`` sub-command."""
    profile = commands.add_parser("profile", help="time a few training steps of the model "
                                  "`train` builds, per op in forward, backward and the optimizer")
    profile.add_argument("--config", help="TOML file with the same settings as the flags")
    add_setting_flags(profile, skip=_NOT_PROFILED)
    profile.add_argument("--steps", type=int, default=5, metavar="N",
                         help="steps profiled after one warm-up step (default: 5)")
    profile.add_argument("--sort", default="self_cpu_time_total", choices=SORT_KEYS,
                         help="the column rows are sorted by (default: self_cpu_time_total)")
    profile.add_argument("--rows", type=int, default=20, metavar="N",
                         help="rows shown, 0 for all (default: 20)")
    profile.add_argument("--shapes", action="store_true",
                         help="one row per op and input shapes")
    profile.add_argument("--trace", metavar="FILE.json",
                         help="also write a Chrome trace (chrome://tracing, ui.perfetto.dev)")
    profile.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Profile ``args.steps`` steps after one warm-up step and print the table."""
    from .. import nn
    from ..random import Generator, default_generator
    from ..threads import get_num_threads
    from ..train.config import merged
    from ..train.data import load_data
    from ..train.loop import make_loaders, make_optimizer, train_step
    from ..train.models import build_model
    from . import profile
    from .table import format_time

    if args.steps < 1:
        raise ValueError(f"profile: --steps must be at least 1; got {args.steps}")
    if args.rows < 0:
        raise ValueError(f"profile: --rows must be 0 (all) or more; got {args.rows}")
    if args.trace:
        check_output_file(args.trace, "profile: --trace")
    flags = {name: getattr(args, name, None) for name, _, _ in flag_names()}
    config = merged(args.config, flags)
    # The model, optimizer and batches `backprop train` would use, batches drawn beforehand so
    # the profile holds the step alone.
    default_generator.manual_seed(config.seed)
    data = load_data(config)
    model = build_model(config, data.image_shape, data.num_classes)
    optimizer = make_optimizer(config, model.parameters())
    train_loader, _ = make_loaders(data, config, Generator(config.seed))
    batches = list(itertools.islice(itertools.cycle(train_loader), args.steps + 1))
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    train_step(model, loss_fn, optimizer, *batches[0])  # warm-up: optimizer state, buffers
    with profile(record_shapes=args.shapes) as prof:
        for images, labels in batches[1:]:
            train_step(model, loss_fn, optimizer, images, labels)
    rows = prof.key_averages(group_by_input_shape=args.shapes)
    threads = get_num_threads()  # timings depend on it: see backprop.threads
    say(f"{config.model} on {config.data}, batch {config.batch_size}, {config.optimizer}, "
        f"{threads} BLAS thread{'s' if threads > 1 else ''}: "
        f"{format_time(rows.wall_time_us / args.steps)} per step ({args.steps} steps "
        "profiled after 1 warm-up step)")
    say(rows.table(sort_by=args.sort, row_limit=args.rows))
    if args.trace:
        prof.export_chrome_trace(args.trace)
        say(f"trace {args.trace}")
