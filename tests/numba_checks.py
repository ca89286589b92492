"""What the tests of the optional Numba kernels share: the kernels switched on for each test,
and a check that a kernel actually ran (a silent fallback to NumPy would pass unnoticed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from backprop.backends import numba as numba_switch


def numba_switched_on() -> Iterator[None]:
    """For an autouse fixture: Numba's kernels on (where Numba is installed) for one test."""
    saved = numba_switch.enabled
    numba_switch.enabled = numba_switch.is_available()
    try:
        yield
    finally:
        numba_switch.enabled = saved


@contextmanager
def kernel_ran(kernels: ModuleType, name: str) -> Iterator[None]:
    """Assert that the block called ``kernels``' kernel ``name`` (counted in ``calls``)."""
    before = kernels.calls.get(name, 0)
    yield
    if numba_switch.enabled and numba_switch.is_available():
        assert kernels.calls.get(name, 0) > before, f"{name} fell back to NumPy"
