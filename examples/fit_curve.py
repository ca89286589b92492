"""Fit y = sin(2x) + 0.3x with a hand-built two-layer network, by backpropagation and gradient
descent: feed forward, compute the loss, propagate the error backward, update the weights.

Usage: python examples/fit_curve.py [--steps 2000] [--hidden 32] [--lr 0.1]
"""

from __future__ import annotations

import argparse
import math
import time

import backprop as bp


def make_data(n: int = 256) -> tuple[bp.Tensor, bp.Tensor]:
    """Points on the curve over [-2, 2], as (n, 1) columns."""
    x = bp.linspace(-2.0, 2.0, n).reshape(n, 1)
    y = (x * 2).sin() + x * 0.3
    return x, y


def init_params(hidden: int) -> list[bp.Tensor]:
    """Xavier-scaled weights for 1 -> hidden (tanh) -> 1, zero biases."""
    w1 = (bp.randn(1, hidden) * math.sqrt(2.0 / (1 + hidden))).requires_grad_()
    b1 = bp.zeros(hidden, requires_grad=True)
    w2 = (bp.randn(hidden, 1) * math.sqrt(2.0 / (hidden + 1))).requires_grad_()
    b2 = bp.zeros(1, requires_grad=True)
    return [w1, b1, w2, b2]


def forward(params: list[bp.Tensor], x: bp.Tensor) -> bp.Tensor:
    w1, b1, w2, b2 = params
    return (x @ w1 + b1).tanh() @ w2 + b2


def train(steps: int = 2000, hidden: int = 32, lr: float = 0.1, seed: int = 0,
          report_every: int = 200) -> float:
    """Train by full-batch gradient descent with momentum 0.9; returns the final loss."""
    bp.manual_seed(seed)
    x, y = make_data()
    params = init_params(hidden)
    velocity = [bp.zeros_like(p) for p in params]
    loss = bp.tensor(float("nan"))
    for step in range(1, steps + 1):
        loss = ((forward(params, x) - y) ** 2).mean()  # feed forward and compute the loss
        for p in params:
            p.grad = None
        loss.backward()                                   # propagate the error backward
        with bp.no_grad():                                # update the weights
            for p, v in zip(params, velocity):
                v.mul_(0.9).add_(p.grad)
                p.sub_(v, alpha=lr)
        if step == 1 or step % report_every == 0:
            print(f"step {step:5d}  loss {loss.item():.6f}")
    return loss.item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.1)
    args = parser.parse_args()
    start = time.perf_counter()
    final = train(args.steps, args.hidden, args.lr)
    elapsed = time.perf_counter() - start
    print(f"final loss {final:.6f} after {args.steps} steps in {elapsed:.2f} s "
          f"({1000 * elapsed / args.steps:.2f} ms per step)")


if __name__ == "__main__":
    main()
