"""PyTorch's own op tests as our oracle: every entry of PyTorch's OpInfo database
(``torch.testing._internal.common_methods_invocations.op_db``) that we have runs on all its
samples in float32 and float64 (values, dtypes, shapes) with float64 gradients against torch's,
then on its reference inputs (NaN, inf, -0.0, larger shapes, Python numbers on either side).

The tables (aliases, unsupported samples, random values) live in
``tests/opinfo.py``. The counts print at the end of the session; ``BACKPROP_OPINFO_REPORT=path``
also writes the per-entry table there as markdown.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import opinfo
from opinfo import OURS, run_entry


@pytest.mark.parametrize("name", OURS)
def test_entry_agrees_with_pytorch(name: str) -> None:
    result = run_entry(name)
    assert result.samples or result.skipped, f"{name}: no samples"
    assert not result.failures, (f"{name}: {len(result.failures)} of {result.samples} samples "
                                 f"differ; the first: {result.failures[0]}")


@pytest.mark.parametrize("name", OURS)
def test_reference_inputs_agree_with_pytorch(name: str) -> None:
    """The entry's reference inputs: NaN, inf, -0.0, larger shapes, Python numbers."""
    result = run_entry(name, reference=True)
    # grid_sample's reference inputs are all larger than REFERENCE_MAX_NUMEL: its ordinary
    # samples (test_entry_agrees_with_pytorch) are what checks it.
    assert result.samples or result.skipped or result.too_large, f"{name}: no reference samples"
    assert not result.failures, (f"{name}: {len(result.failures)} of {result.samples} reference "
                                 f"samples differ; the first: {result.failures[0]}")


@pytest.mark.parametrize("name", opinfo.INPLACE)
def test_inplace_method_agrees_with_pytorch(name: str) -> None:
    """``x.exp_()`` beside ``bp.exp``: the tensor after the write, and the refusals."""
    result = opinfo.run_inplace(name)
    assert result.samples, f"{name}: no samples with a tensor input"
    assert not result.failures, (f"{name}: {len(result.failures)} of {result.samples} samples "
                                 f"differ; the first: {result.failures[0]}")


def test_tables_name_what_exists() -> None:
    """Every row of the tables is about an entry we have, and every unsupported-sample reason
    still matches a sample: a row a fix or a new PyTorch made stale fails here."""
    assert not set(opinfo.ALIASES) - {e.name for e in opinfo.OP_DB}
    names = {opinfo.ENTRIES[n].name for n in OURS}
    assert not (set(opinfo.RANDOM_VALUES) | set(opinfo.LOOSER_FLOAT64)
                | opinfo.NAN_GRADIENT_VARIES) - names
    matched = {reason for name in OURS for reference in (False, True)
               for reason in run_entry(name, reference=reference).skipped}
    unused = [row.reason for row in opinfo.UNSUPPORTED if row.reason not in matched]
    assert not unused, f"UNSUPPORTED rows no sample needs: {unused}"


def _add_one_behind_autograd(x: object, result: object) -> object:
    """``result``, after adding 1 to ``x``'s storage through NumPy (no version bump)."""
    array = x.detach().numpy()  # type: ignore[attr-defined]
    np.add(array, 1, out=array)
    return result


@pytest.mark.parametrize("wrong, what", [
    (lambda x, y: x * y + 1e-9, "output 0"),  # a value off by 1e-9 (float64's tolerance 1e-10)
    (lambda x, y: (x * y).double(), "dtype"),  # float64 where torch gives float32
    (lambda x, y: x * y.detach(), "gradient of args[0]"),  # a lost gradient
    (lambda x, y: (x * y).unsqueeze(0), "shape"),
    (lambda x, y: _add_one_behind_autograd(x, x * y), "input after the op"),  # input changed
])
def test_a_wrong_op_disagrees(wrong: Callable[..., object], what: str) -> None:
    """The harness is not vacuous: an op off in a value, dtype, gradient or shape, or one that
    changes its input, fails."""
    entry = opinfo.ENTRIES["mul"]
    failures = []
    with opinfo.pytorch_defaults():
        for dtype in opinfo.dtypes_to_run(entry):
            opinfo.torch.manual_seed(0)
            for i, sample in enumerate(entry.sample_inputs_func(entry, "cpu", dtype,
                                                                dtype == opinfo.torch.float64)):
                failure = opinfo.run_sample(entry, wrong, sample, opinfo.EntryResult(), seed=i)
                failures += [failure] if failure else []
    assert failures and all(what in f for f in failures), [f for f in failures if what not in f]


def test_counts(session_summary: Callable[[str], None]) -> None:
    results = {name: run_entry(name) for name in OURS}
    references = {name: run_entry(name, reference=True) for name in OURS}
    for line in [*opinfo.summary(results), opinfo.reference_summary(references)]:
        session_summary(line)
    if os.environ.get("BACKPROP_OPINFO_REPORT"):
        Path(os.environ["BACKPROP_OPINFO_REPORT"]).write_text(opinfo.markdown_report(results))
    agree = [name for name, r in results.items() if r.samples and not r.failures]
    # Lower bounds at today's counts: an op lost, or a sample newly skipped, fails here.
    assert len(opinfo.ENTRIES) >= 702
    assert len(opinfo.HAVE) >= 670
    assert len(agree) >= 667
    assert sum(r.samples for r in results.values()) >= 34_000
    assert len([r for r in references.values() if r.samples and not r.failures]) >= 666
    assert sum(r.samples for name, r in references.items()
               if opinfo.ENTRIES[name].reference_inputs_func is not None) >= 12_000
    assert not opinfo.METHODS_WE_LACK, "PyTorch has these Tensor methods, and so must we"
