"""The heap tuning applied at import: on where glibc is, off when asked."""

import sys

import pytest

from backprop import heap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_settings_are_accepted_by_glibc():
    assert heap.keep_freed_memory() is True


@pytest.mark.parametrize("value, applied", [("0", False), ("1", True), (None, True)])
def test_environment_switch(monkeypatch, value, applied):
    calls = []
    monkeypatch.setattr(heap, "keep_freed_memory", lambda: calls.append(1) or True)
    if value is None:
        monkeypatch.delenv("BACKPROP_KEEP_HEAP", raising=False)
    else:
        monkeypatch.setenv("BACKPROP_KEEP_HEAP", value)
    heap.apply_default()
    assert bool(calls) is applied
