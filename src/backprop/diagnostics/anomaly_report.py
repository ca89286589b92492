"""What anomaly detection tells the user: value summaries, the record of one anomaly, its message.

Nothing here watches the engine (``anomaly_watch.py`` does); these are plain descriptions,
built only on the slow path, once a non-finite value has been found.

>>> import numpy as np
>>> str(summarize(np.array([1.0, -2.0, np.nan, np.inf])))
'(4,) float64, finite values in [-2, 1], 1 NaN, 1 inf'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd.graph import Meta
from ..errors import format_shape
from .origin import Origin

# Ops that only move or pick values (no arithmetic): a non-finite value passes through them
# unchanged, or is dropped when they select other entries. The first two are the masking ops
# of the classic where trap; the rest pick by index or position.
MASKING_OPS = frozenset({"where", "masked_fill"})
SELECTING_OPS = MASKING_OPS | frozenset({
    "getitem", "index_select", "gather", "values_at_index", "narrow", "tril", "triu",
    "embedding", "scatter", "setitem", "cat", "stack", "clone", "copy", "flip", "roll", "repeat",
    "to_dtype", "constant_pad_nd", "reflection_pad", "replication_pad", "circular_pad",
})


@dataclass(frozen=True)
class ValueSummary:
    """Shape, dtype and value range of one array, as an anomaly message shows it.

    ``minimum``/``maximum`` cover the finite values only (None when there are none, or when the
    values were not kept for backward: ``kept`` is False).
    """

    shape: tuple[int, ...]
    dtype: str
    kept: bool = True
    minimum: float | None = None
    maximum: float | None = None
    nan: int = 0
    posinf: int = 0
    neginf: int = 0
    floating: bool = True  # False for integer and bool arrays (no NaN or inf possible)

    @property
    def finite(self) -> bool:
        return self.nan == 0 and self.posinf == 0 and self.neginf == 0

    def nonfinite_kind(self) -> str:
        """``NaN``, ``inf``, ``-inf`` or several of them joined by ``and``."""
        parts = [name for name, n in (("NaN", self.nan), ("inf", self.posinf),
                                      ("-inf", self.neginf)) if n]
        return " and ".join(parts) if parts else "finite values"

    def __str__(self) -> str:
        text = f"{format_shape(self.shape)} {self.dtype}"
        if not self.kept:
            return text + " (values not kept for backward)"
        if not self.floating:
            if self.minimum is not None:
                text += f", values in [{_number(self.minimum)}, {_number(self.maximum)}]"
            return text
        if self.minimum is None:
            text += ", no finite values"
        elif self.minimum == self.maximum:
            text += f", finite values all {_number(self.minimum)}"
        else:
            text += f", finite values in [{_number(self.minimum)}, {_number(self.maximum)}]"
        for name, n in (("NaN", self.nan), ("inf", self.posinf), ("-inf", self.neginf)):
            if n:
                text += f", {n} {name}"
        return text


def _number(v: float) -> str:
    return f"{v:.4g}"


def summarize(value: Any) -> ValueSummary | None:
    """Summarize a Tensor, an array, a ``Meta`` (shape and dtype only) or a number; None for
    anything else (a shape tuple, a dim)."""
    from ..tensor import Tensor  # noqa: PLC0415 - tensor imports autograd

    if isinstance(value, Tensor):
        value = value._data
    if not isinstance(value, np.ndarray) and hasattr(value, "dtype") and hasattr(value, "get"):
        value = value.get()  # a device (CuPy) array: summarize a host copy
    if isinstance(value, Meta):
        return ValueSummary(tuple(value.shape), str(value.dtype), kept=False)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, complex,
                                                                     np.generic, np.ndarray)):
        return None
    a = np.asarray(value)
    if a.dtype.kind not in "fciub":
        return None
    if a.dtype.kind not in "fc":
        lo = hi = None
        if a.size:
            lo, hi = float(a.min()), float(a.max())
        return ValueSummary(a.shape, str(a.dtype), minimum=lo, maximum=hi, floating=False)
    finite_mask = np.isfinite(a)
    finite = a[finite_mask]
    if a.dtype.kind == "c":  # complex values have no order: report magnitudes
        nan = int(np.isnan(a).sum())
        return ValueSummary(a.shape, str(a.dtype),
                            minimum=float(np.abs(finite).min()) if finite.size else None,
                            maximum=float(np.abs(finite).max()) if finite.size else None,
                            nan=nan, posinf=int(a.size - finite.size - nan))
    return ValueSummary(a.shape, str(a.dtype),
                        minimum=float(finite.min()) if finite.size else None,
                        maximum=float(finite.max()) if finite.size else None,
                        nan=int(np.isnan(a).sum()), posinf=int(np.isposinf(a).sum()),
                        neginf=int(np.isneginf(a).sum()))


@dataclass(frozen=True)
class AnomalyRecord:
    """One non-finite value found by ``detect_anomaly``.

    ``phase`` is ``"forward"`` or ``"backward"``; ``op`` the forward op (``log``) or the backward
    node (``LogBackward``) that made it; ``what`` which value (``output``, ``gradient for input 0
    (input)``, ``incoming gradient``); ``origin`` where the op was called in the forward pass
    (module path and user source line; None when the graph was recorded outside the block);
    ``value`` the non-finite array; ``inputs`` the forward inputs; ``incoming`` the gradient that
    entered the node (backward only); ``masked_where`` True for the where trap (a masked-away inf
    or NaN turning into NaN in backward). ``str(record)`` is the full message.
    """

    phase: str
    op: str
    what: str
    origin: Origin | None
    value: ValueSummary
    inputs: tuple[tuple[str, ValueSummary], ...] = ()
    incoming: ValueSummary | None = None
    masked_where: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def kind(self) -> str:
        """What is non-finite in ``value``: ``NaN``, ``inf``, ``-inf`` or several."""
        return self.value.nonfinite_kind()

    @property
    def filename(self) -> str | None:
        return None if self.origin is None else self.origin.filename

    @property
    def lineno(self) -> int | None:
        return None if self.origin is None else self.origin.lineno

    @property
    def module(self) -> str | None:
        """The module path (``model.layers.3.attn``), ``''`` outside any module, None if unknown."""
        return None if self.origin is None else self.origin.module

    @property
    def message(self) -> str:
        return format_record(self)

    def __str__(self) -> str:
        return format_record(self)


def describe_origin(origin: Origin | None, module: bool = True) -> str:
    """``at file.py:42 in step (module model.0)`` for a message line (``module=False`` leaves
    the module out, for the second and later places of one message)."""
    if origin is None:
        return ("at an unknown place (the graph was recorded outside detect_anomaly, so no "
                "source line was kept)")
    if not module:
        return f"at {origin.where()}"
    inside = f"module {origin.module}" if origin.module else "outside any module"
    return f"at {origin.where()} ({inside})"


def format_record(record: AnomalyRecord) -> str:
    """The message of an ``AnomalyError``, a warning or a record, one fact per line."""
    value = record.value
    if record.phase == "forward":
        head = f"{record.op} produced {record.kind} in its forward {record.what}"
    elif record.incoming is None:  # the gradient entering the node was already bad
        head = f"{record.op} received {record.kind} in its {record.what}"
    else:
        head = f"{record.op} returned {record.kind} in the {record.what}"
    lines = [f"detect_anomaly: {head}",
             f"  called in the forward pass {describe_origin(record.origin)}"]
    lines.append(f"  {'output' if record.phase == 'forward' else 'gradient'}: {value}")
    if record.incoming is not None:
        lines.append(f"  incoming gradient: {record.incoming}")
    for label, summary in record.inputs:
        lines.append(f"  {label}: {summary}")
    lines.extend(f"  {note}" for note in record.notes)
    return "\n".join(lines)


class AnomalyError(FloatingPointError, RuntimeError):
    """A non-finite value found by ``detect_anomaly`` (mode ``"raise"``); ``.record`` holds the
    ``AnomalyRecord``.

    A ``FloatingPointError`` because it is what NumPy raises for the same event under
    ``np.errstate(all="raise")`` (the values went bad, the graph was not misused, so not a
    ``GraphError``); a ``RuntimeError`` because that is what PyTorch's anomaly mode raises, so a
    ported ``except RuntimeError`` keeps working.
    """

    def __init__(self, record: AnomalyRecord) -> None:
        super().__init__(str(record))
        self.record = record


def masking_hint(op: str, absorber: str) -> str:
    """What to do about the where trap, for the op that made the inf and the op that hid it."""
    if absorber in MASKING_OPS:
        return (f"apply the mask to the input of {op} instead (e.g. where(mask, x, 1) before "
                f"{op})")
    if absorber in SELECTING_OPS:
        return f"select from the input of {op} instead, so {op} never sees those entries"
    return (f"keep the input of {op} inside its domain instead (e.g. clamp or mask the input of "
            f"{op}, not its output)")
