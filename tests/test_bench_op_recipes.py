"""The recipes of ``benchmarks/op_recipes.py`` call the same op on the same arguments in backprop
and PyTorch, forward and (where they say so) backward, and with them ``benchmarks.ops`` leaves out
only what a reason covers. No timing is asserted."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
from benchmarks import ops
from benchmarks.op_recipes import LEFT_OUT, RECIPES

# Results that are random, uninitialised, or indices among tied values: shapes and dtypes only.
UNCOMPARABLE = {"empty", "empty_permuted", "empty_strided", "rand", "randn", "randint",
                "randint_like", "randperm", "multinomial", "sort:dim=1", "argsort:dim=1"}


def _arrays() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.uniform(0.1, 0.9, ops.SHAPE).astype(np.float32) for _ in range(2)]


def _flat(result: Any) -> list[np.ndarray]:
    if isinstance(result, (tuple, list)):
        return [a for part in result for a in _flat(part)]
    if hasattr(result, "detach"):
        result = result.detach()
        return [np.asarray(result.resolve_conj().numpy() if hasattr(result, "resolve_conj")
                           else result.numpy())]
    return [np.asarray(result)]


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_computes_the_same_in_both_libraries(name, torch32):
    recipe = RECIPES[name]
    results = []
    for lib in (bp, torch32):
        x, y = (lib.tensor(a) for a in _arrays())
        results.append(_flat(recipe.build(lib, x, y)()))
    ours, theirs = results
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert (a.shape, a.dtype) == (b.shape, b.dtype)
        if name not in UNCOMPARABLE:
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)
    if recipe.backward:
        for lib in (bp, torch32):
            x, y = (lib.tensor(a, requires_grad=True) for a in _arrays())
            out = ops._first_tensor(recipe.build(lib, x, y)())
            assert out.requires_grad and out.dtype == lib.float32
            out.sum().backward()


def test_recipe_ops_are_timed_and_the_rest_left_out_with_a_reason(torch):
    timings, left_out = ops.measure(["exp", "topk", "nn.functional.conv2d", "is_tensor"],
                                    rounds=1, seconds=0.0005)
    assert [(t.name, t.arity) for t in timings] == [
        ("exp", 1), ("topk", 0), ("nn.functional.conv2d", 0)]
    assert timings[1].input == RECIPES["topk"].shape and timings[1].backward is not None
    assert left_out == ["is_tensor"]
    table = ops.report(timings, left_out)
    assert "| topk | recipe | 100x1000 k=10 dim=1 |" in table
    assert "queries and settings, no tensor computed: is_tensor." in table


def test_every_candidate_is_timed_or_left_out_for_a_reason(torch):
    inputs = ops._inputs(np.random.default_rng(0))
    reasons = {name for names in LEFT_OUT.values() for name in names.split()}
    untimed = [name for name in ops.candidates(bp, torch)
               if name not in RECIPES and name not in reasons
               and all(ops._arity(bp, torch, name, arrays) is None for arrays in inputs.values())]
    assert untimed == []
