"""PyTorch's own op tests as our oracle: every entry of PyTorch's OpInfo database
(``torch.testing._internal.common_methods_invocations.op_db``) that we have runs on all its
samples in float32 and float64 (values, dtypes, shapes) with float64 gradients against torch's.

The tables (aliases, unsupported samples, random values, today's disagreements) live in
``tests/opinfo.py``. The counts print at the end of the session; ``BACKPROP_OPINFO_REPORT=path``
also writes the per-entry table there as markdown.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest

import opinfo
from opinfo import DISAGREEMENTS, OURS, run_entry


def _entry(name: str) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=DISAGREEMENTS[name])] \
        if name in DISAGREEMENTS else []
    return pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", [_entry(name) for name in OURS])
def test_entry_agrees_with_pytorch(name: str) -> None:
    result = run_entry(name)
    assert result.samples or result.skipped, f"{name}: no samples"
    assert not result.failures, (f"{name}: {len(result.failures)} of {result.samples} samples "
                                 f"differ; the first: {result.failures[0]}")


def test_tables_name_what_exists() -> None:
    """Every row of the tables is about an entry we have, and every unsupported-sample reason
    still matches a sample: a row a fix or a new PyTorch made stale fails here."""
    assert not set(DISAGREEMENTS) - set(OURS), "DISAGREEMENTS names entries we do not run"
    assert not set(opinfo.ALIASES) - {e.name for e in opinfo.OP_DB}
    names = {opinfo.ENTRIES[n].name for n in OURS}
    assert not (set(opinfo.RANDOM_VALUES) | set(opinfo.LOOSER_FLOAT64)) - names
    matched = {reason for name in OURS for reason in run_entry(name).skipped}
    unused = [row.reason for row in opinfo.UNSUPPORTED if row.reason not in matched]
    assert not unused, f"UNSUPPORTED rows no sample needs: {unused}"


def test_counts(session_summary: Callable[[str], None]) -> None:
    results = {name: run_entry(name) for name in OURS}
    for line in opinfo.summary(results):
        session_summary(line)
    if os.environ.get("BACKPROP_OPINFO_REPORT"):
        Path(os.environ["BACKPROP_OPINFO_REPORT"]).write_text(opinfo.markdown_report(results))
    agree = [name for name, r in results.items() if r.samples and not r.failures]
    # Lower bounds at today's counts: an op lost, or a sample newly skipped, fails here.
    assert len(opinfo.ENTRIES) >= 702
    assert len(opinfo.HAVE) >= 249
    assert len(agree) >= 228
    assert sum(r.samples for r in results.values()) >= 10_000
