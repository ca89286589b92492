"""The op table's batching column: every row's first sample under ``bp.func.vmap``.

For each row (unless it says ``vmap=False`` and why), three perturbed copies of its first
sample are stacked; ``vmap(op)`` over the stack must equal the op on each copy, with every
array batched (in_dims 0) and with only the first batched (the rest None). A primitive with a
real batching rule must not loop (the fallback) when every input is batched, except where its
rule is partial (``PARTIAL``, with the reason).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from optable import ROWS
from optable.spec import OpSpec, Sample

import backprop as bp
from backprop.func import vmap
from backprop.func.vmap import FALLBACK_HITS, RULES, has_rule
from backprop.ops import PRIMITIVES

COPIES = 3

# Rows not checked under vmap, and why (a row may also say so itself: vmap=False).
INPLACE = "in-place ops write the physical storage directly; vmap does not batch them yet"
VALUES = "the public function reads the tensor's values in Python (array_of) before any op"
LEFT_OUT: dict[str, str] = {
    **dict.fromkeys(("nonzero", "argwhere", "histogram", "histogramdd"),
                    "the output's shape depends on the values"),
    **dict.fromkeys(("bucketize", "searchsorted", "quantile", "nanquantile", "trace",
                     "fractional_max_pool2d",
                     "fractional_max_pool3d", "linalg.lu", "linalg.svdvals", "linalg.eigvalsh",
                     "linalg.householder_product", "ormqr", "linalg.matrix_rank",
                     "linalg.cond", "corrcoef", "istft", "grid_sample", "linear_cross_entropy",
                     "embedding_bag", "multinomial", "copy_slices"), VALUES),
    "matmul": "a sample converts to NumPy in the row's op",
    "setitem": INPLACE,
    **dict.fromkeys(("bernoulli", "normal", "poisson", "standard_gamma"),
                    "random with batched parameters: no loop draws the same values; "
                    "tests/test_func_vmap.py checks the randomness modes"),
}


def _batchable(row: OpSpec, sample: Sample) -> bool:
    """A float array to batch, and not an in-place op (INPLACE)."""
    return (any(isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in sample.args)
            and not sample.kwargs.get("inplace") and not row.name.endswith("_")
            and "_inplace" not in getattr(row.op, "__qualname__", ""))


ROW_CASES = [(row, sample) for row in ROWS if row.vmap and row.name not in LEFT_OUT
             for sample in row.samples(np.random.default_rng(0))[:1] if _batchable(row, sample)]

# Rules that loop for some arguments: the reason, by primitive.
PARTIAL = {
    "getitem": "index arrays that are not side by side (NumPy moves their dims first)",
    "embedding": "a batched table (weight)",
    "index_add": "a batched source with an unbatched input",
    "roll": "dims=None (rolls the flattened example)",
    "conv_transpose": "a batched weight",
    **dict.fromkeys(("layer_norm", "rms_norm", "group_norm", "batch_norm"),
                    "a batched weight or bias"),
}


def _copies(a: np.ndarray, k: int) -> np.ndarray:
    if a.dtype.kind != "f":
        return a
    return np.asarray(a * (1.0 + 0.003 * k) + 0.001 * k * np.sign(a))


def _tensor(a: Any) -> Any:
    return bp.tensor(a) if isinstance(a, np.ndarray) else a


def _outputs(result: Any) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _check(row: OpSpec, sample: Sample, batch_all: bool) -> None:
    # Integer and bool arrays (indices, targets, masks) stay unbatched: public functions read
    # their values before any op sees them (see LEFT_OUT).
    arrays = [i for i, a in enumerate(sample.args)
              if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    batched = arrays if batch_all else arrays[:1]
    in_dims = tuple(0 if i in batched else None for i in range(len(sample.args)))
    stacked = [bp.tensor(np.stack([_copies(a, k) for k in range(COPIES)])) if i in batched
               else _tensor(a) for i, a in enumerate(sample.args)]
    FALLBACK_HITS.clear()
    # Random ops draw once for the batch ('same'), so each copy is run from the same seed.
    bp.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = _outputs(vmap(lambda *a: row.op(*a, **sample.kwargs), in_dims=in_dims,
                               randomness="same")(*stacked))
    per_copy = []
    for k in range(COPIES):
        bp.manual_seed(0)
        per_copy.append(_outputs(row.op(*[_tensor(_copies(a, k)) if i in batched
                                          else _tensor(a) for i, a in enumerate(sample.args)],
                                        **sample.kwargs)))
    assert len(result) == len(per_copy[0]), f"{row.name}: number of outputs"
    for j, ours in enumerate(result):
        expected = np.stack([np.asarray(p[j].detach().numpy()) for p in per_copy])
        got = ours.detach().numpy()
        assert got.shape == expected.shape, f"{row.name} output {j}: {got.shape} != {expected.shape}"
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10, equal_nan=True)
    if batch_all:
        looped = {n for n in FALLBACK_HITS if has_rule(n) and n not in PARTIAL}
        assert not looped, f"{row.name}: primitives with a batching rule fell back: {looped}"


@pytest.mark.parametrize("row,sample", ROW_CASES, ids=[r.name for r, _ in ROW_CASES])
def test_vmap_matches_a_loop(row: OpSpec, sample: Sample) -> None:
    _check(row, sample, batch_all=True)


@pytest.mark.parametrize("row,sample", ROW_CASES, ids=[r.name for r, _ in ROW_CASES])
def test_vmap_with_unbatched_arguments(row: OpSpec, sample: Sample) -> None:
    _check(row, sample, batch_all=False)


def test_rows_left_out_of_vmap_say_why() -> None:
    assert [r.name for r in ROWS if not r.vmap and not r.vmap_reason] == []


def test_batching_rules_cover_most_primitives() -> None:
    has_rule("exp")  # loads the rules
    real = sorted(n for n in PRIMITIVES if n in RULES)
    loop = sorted(n for n in PRIMITIVES if n not in RULES)
    print(f"\n{len(real)} primitives have a batching rule, {len(loop)} use the loop: {loop}")
    assert len(real) >= 0.75 * len(PRIMITIVES), loop
    for name in ("matmul", "linear", "convolution", "sum", "softmax", "log_softmax", "getitem",
                 "embedding", "cat", "stack", "reshape", "dropout", "exp", "add", "where"):
        assert name in RULES, name
