"""Per-sample gradient norms of a digits MLP: one vmap(grad(...)) call against a Python loop.

Per-sample gradients (one gradient per example instead of their mean) are what differential
privacy clips and what data-attribution methods score examples by. ``bp.func.vmap`` over
``bp.func.grad`` computes them in one batched pass; the loop runs one backward per example.
Both must give the same numbers; the script prints each one's time and their largest
difference.

Usage: python examples/per_sample_grads.py [--batch 256] [--hidden 128] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import backprop as bp
import backprop.nn.functional as F
from backprop.func import functional_call, grad, vmap


def make_model(hidden: int = 128) -> bp.nn.Module:
    return bp.nn.Sequential(bp.nn.Flatten(0), bp.nn.Linear(64, hidden), bp.nn.ReLU(),
                            bp.nn.Linear(hidden, 10))


def digits_batch(batch: int) -> tuple[bp.Tensor, bp.Tensor]:
    data = bp.datasets.Digits(train=True)
    images = bp.stack([data[i][0] for i in range(batch)])
    labels = bp.tensor([data[i][1] for i in range(batch)])
    return images, labels


def per_sample_grads_vmap(model: bp.nn.Module, images: bp.Tensor,
                          labels: bp.Tensor) -> dict[str, bp.Tensor]:
    """One gradient per example, by vmap over grad of the one-example loss."""
    params = {name: p.detach() for name, p in model.named_parameters()}

    def loss(params: dict, image: bp.Tensor, label: bp.Tensor) -> bp.Tensor:
        logits = functional_call(model, params, (image,))
        return F.cross_entropy(logits.unsqueeze(0), label.unsqueeze(0))

    return vmap(grad(loss), in_dims=(None, 0, 0))(params, images, labels)


def per_sample_grads_loop(model: bp.nn.Module, images: bp.Tensor,
                          labels: bp.Tensor) -> dict[str, bp.Tensor]:
    """The same, one backward pass per example."""
    rows: dict[str, list] = {name: [] for name, _ in model.named_parameters()}
    for image, label in zip(images, labels):
        model.zero_grad()
        F.cross_entropy(model(image).unsqueeze(0), label.unsqueeze(0)).backward()
        for name, p in model.named_parameters():
            rows[name].append(p.grad.clone())
    return {name: bp.stack(grads) for name, grads in rows.items()}


def norms(grads: dict[str, bp.Tensor]) -> np.ndarray:
    """Each example's gradient norm over all parameters."""
    squares = sum((g.reshape(g.shape[0], -1) ** 2).sum(1) for g in grads.values())
    return np.sqrt(squares.numpy())


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    bp.manual_seed(0)
    model = make_model(args.hidden)
    images, labels = digits_batch(args.batch)
    timings = {}
    results = {}
    for name, method in (("vmap", per_sample_grads_vmap), ("loop", per_sample_grads_loop)):
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            results[name] = method(model, images, labels)
            best = min(best, time.perf_counter() - start)
        timings[name] = best
    difference = max(float((results["vmap"][n] - results["loop"][n]).abs().max())
                     for n in results["loop"])
    vmap_norms = norms(results["vmap"])
    print(f"{args.batch} digits, MLP 64-{args.hidden}-10: per-sample gradient norms "
          f"min {vmap_norms.min():.4f}, median {np.median(vmap_norms):.4f}, "
          f"max {vmap_norms.max():.4f}")
    print(f"vmap(grad): {timings['vmap'] * 1e3:8.1f} ms")
    print(f"loop:       {timings['loop'] * 1e3:8.1f} ms  ({timings['loop'] / timings['vmap']:.1f}x "
          "the vmap time)")
    print(f"largest difference between the two: {difference:.2e}")
    return {"vmap_s": timings["vmap"], "loop_s": timings["loop"], "max_difference": difference,
            "median_norm": float(np.median(vmap_norms))}


if __name__ == "__main__":
    main()
