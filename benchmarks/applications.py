"""Measure the headline figures of the issue-6 applications (trained with our engine).

Usage: python -m benchmarks.applications [--only gan|superres|vision|tune|language]

- GAN: a digits CNN trained by `backprop train` (default settings) classifies 1,000 samples of
  a GAN trained by `backprop gan` (default settings); the target is >= 80% of them classified
  with confidence >= 0.9 and all ten digits among those.
- Super-resolution: the test-split mean PSNR of `backprop superres` (default settings) against
  bilinear and bicubic interpolation of the same 4x4 inputs; the target is a gain >= 2 dB over
  the better of the two.
- Vision: the test accuracy of `backprop train --model resnet` (default settings) on the
  digits; the target is >= 98.5%.
- Hyper-parameter search: `backprop tune` (default settings, a fresh study): trials completed
  and pruned, the best trial's validation accuracy and its test accuracy, beside the test
  accuracy of the default MLP `backprop train` trains.

- Language: `backprop train-lm` (default settings) on the Shakespeare plays: the validation
  loss in nats per character against the corpus' unigram entropy, within 10 minutes.

Each function trains from scratch in a temporary folder and returns a dict of figures, wall
times included; nothing is asserted here.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any


def gan_figures(**settings: Any) -> dict[str, Any]:
    """Train the classifier and the GAN (``GANConfig`` defaults, overridden by ``settings``),
    then score 1,000 samples with ``evaluate_gan``."""
    from backprop.apps.gan import GANConfig, evaluate_gan, train_gan
    from backprop.train.config import TrainConfig
    from backprop.train.loop import train

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        classifier = train(TrainConfig(model="cnn", progress=False,
                                       out=str(Path(folder) / "classifier")),
                           log=lambda line: None)
        classifier_seconds = time.perf_counter() - start
        config = GANConfig(progress=False, out=str(Path(folder) / "gan"), **settings)
        start = time.perf_counter()
        result = train_gan(config, log=lambda line: None)
        gan_seconds = time.perf_counter() - start
        scores = evaluate_gan(result.checkpoint, classifier.checkpoint, n=1000)
    return {"gan": "conditional" if config.conditional else "unconditional",
            "epochs": config.epochs, "classifier_test_accuracy": classifier.test_accuracy,
            "classifier_seconds": classifier_seconds, "gan_seconds": gan_seconds,
            **scores, "meets_target": scores["confident_fraction"] >= 0.8
            and scores["classes_present"] == 10}


def superres_figures(**settings: Any) -> dict[str, Any]:
    """Train ESPCN (``SRConfig`` defaults, overridden by ``settings``) and report the test
    PSNRs."""
    from backprop.apps.superres import SRConfig, train_superres

    with tempfile.TemporaryDirectory() as folder:
        config = SRConfig(progress=False, out=folder, **settings)
        start = time.perf_counter()
        result = train_superres(config, log=lambda line: None)
        seconds = time.perf_counter() - start
    return {"epochs": config.epochs, "psnr_bilinear_db": result.scores["bilinear"],
            "psnr_bicubic_db": result.scores["bicubic"], "psnr_espcn_db": result.scores["model"],
            "gain_db": result.scores["gain"], "seconds": seconds,
            "meets_target": result.scores["gain"] >= 2.0}


def vision_figures(**settings: Any) -> dict[str, Any]:
    """Train ``backprop train --model resnet`` (its defaults, overridden by ``settings``) and
    report the test accuracy, the errors on the 355 test images and the wall time. With an
    ``out`` setting the run folder is kept, with the confusion matrix in ``confusion.png``."""
    from backprop.random import Generator
    from backprop.train.config import merged
    from backprop.train.data import load_data
    from backprop.train.loop import evaluate, load_trained, make_loaders, train
    from backprop.train.plots import confusion_matrix, save_confusion

    with tempfile.TemporaryDirectory() as folder:
        config = merged(None, {"model": "resnet", "progress": False, "out": folder, **settings})
        start = time.perf_counter()
        result = train(config, log=lambda line: None)
        seconds = time.perf_counter() - start
        model, _ = load_trained(result.checkpoint)
        data = load_data(config)
        _, test_loader = make_loaders(data, config, Generator(0))
        _, _, predicted = evaluate(model, test_loader)
        matrix = confusion_matrix(data.test_y.numpy(), predicted, data.num_classes)
        picture = None
        if "out" in settings:
            picture = save_confusion(matrix, data.classes, Path(config.out) / "confusion.png")
    errors = int(matrix.sum() - matrix.trace())
    return {"model": "resnet", "channels": config.channels, "blocks": config.blocks,
            "epochs": config.epochs, "lr": config.lr, "seed": config.seed,
            "test_accuracy": result.test_accuracy, "test_errors": errors,
            "test_images": int(matrix.sum()), "seconds": seconds, "confusion_png": picture,
            "meets_target": result.test_accuracy >= 0.985}


def tune_figures(**settings: Any) -> dict[str, Any]:
    """Run ``backprop tune`` (its defaults, overridden by ``settings``) on a fresh study, and
    train the default MLP for comparison."""
    from backprop.train.config import TrainConfig
    from backprop.train.loop import train
    from backprop.train.tune import tune

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result = tune(out=folder, progress=False, log=lambda line: None, **settings)
        seconds = time.perf_counter() - start
        states = [t.state.name for t in result.study.trials]
        start = time.perf_counter()
        default = train(TrainConfig(progress=False, out=str(Path(folder) / "default")),
                        log=lambda line: None)
        default_seconds = time.perf_counter() - start
    return {"trials": len(states), "completed": states.count("COMPLETE"),
            "pruned": states.count("PRUNED"), "best_params": result.best_params,
            "best_val_accuracy": result.best_val_accuracy,
            "best_test_accuracy": result.test_accuracy, "seconds": seconds,
            "default_mlp_test_accuracy": default.test_accuracy,
            "default_mlp_seconds": default_seconds}


def language_figures(**settings: Any) -> dict[str, Any]:
    """Train the character GPT of ``backprop train-lm`` (its defaults, overridden by
    ``settings``), stopping at 570 s of wall time if it has not finished."""
    from backprop.apps.language import LanguageConfig, train_language

    settings.setdefault("time_limit", 570.0)
    with tempfile.TemporaryDirectory() as folder:
        result = train_language(LanguageConfig(progress=False, out=folder, **settings),
                                log=lambda line: None)
    return {"steps": result.steps, "unigram_entropy": result.unigram_entropy,
            "val_loss": result.val_loss, "train_loss": result.train_loss,
            "seconds": result.seconds, "wall_seconds": result.wall_seconds,
            "sample": result.sample[:300]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["gan", "superres", "vision", "tune", "language"])
    args = parser.parse_args()
    measures = {"gan": gan_figures, "superres": superres_figures, "vision": vision_figures,
                "tune": tune_figures, "language": language_figures}
    for name, measure in measures.items():
        if args.only and name != args.only:
            continue
        print(f"{name} ...", flush=True)
        for key, value in measure().items():
            shown = f"{value:.4g}" if isinstance(value, float) else value
            print(f"  {key}: {shown}", flush=True)


if __name__ == "__main__":
    main()
