"""NaN/Inf provenance: which op, called from which line of the user's code, made a value non-finite.

``with detect_anomaly():`` watches every forward op and every backward node of the block and
reports the first non-finite value at the op that made it, naming the op (``log``,
``LogBackward``), the source line and module path (``model.layers.3.attn``) where the op was
called in the forward pass, and the shapes, dtypes and value ranges of its inputs and gradients.
It recognises the masked-``where`` trap: ``where(x > 0, log(x), 0)`` is right in forward, but the
``-inf`` that ``where`` drops turns into NaN in backward (``0 * inf``), and the message says to
mask the input of ``log`` instead. What counts as an anomaly, and when it is reported, is spelt
out in ``anomaly_watch``.

Modes: ``"raise"`` (an ``AnomalyError``), ``"warn"`` (a ``RuntimeWarning`` pointing at the user's
line, then go on) and ``"record"`` (collect ``AnomalyRecord``s in the context object, then go
on). Detection watches the thread that switches it on, through one engine observer
(``anomaly_watch.AnomalyObserver``) registered while any block or the switch is on there;
outside, nothing is registered and nothing is slower. Inside, the cost is one finiteness test per op
output and per gradient (see ``benchmarks/anomaly_overhead.py``).

>>> import numpy as np
>>> import backprop as bp
>>> x = bp.tensor([0.0, 2.0], requires_grad=True)
>>> with np.errstate(all="ignore"), detect_anomaly(mode="record") as anomalies:
...     y = bp.where(x > 0, bp.log(x), 0.0)   # log(0) = -inf, selected away: right in forward
...     y.sum().backward()                    # LogBackward: 0 / 0 = NaN
>>> record = anomalies.records[0]
>>> record.op, record.kind, record.masked_where
('LogBackward', 'NaN', True)
"""

from __future__ import annotations

import threading
import warnings
from contextlib import AbstractContextManager
from typing import Any

from ..autograd.observers import observing
from .anomaly_report import AnomalyError, AnomalyRecord, ValueSummary
from .anomaly_watch import WATCH, AnomalyObserver, unconsumed_record
from .origin import user_frame

__all__ = ["AnomalyError", "AnomalyRecord", "ValueSummary", "detect_anomaly",
           "is_anomaly_check_nan_enabled", "is_anomaly_enabled", "set_detect_anomaly"]

MODES = ("raise", "warn", "record")


class _Layer:
    """One switch-on of detection: a ``detect_anomaly`` block or ``set_detect_anomaly``."""

    __slots__ = ("mode", "check_nan", "records")

    def __init__(self, mode: str, check_nan: bool, records: list[AnomalyRecord]) -> None:
        self.mode = mode
        self.check_nan = check_nan
        self.records = records


class _ThreadLayers(threading.local):
    """What is switched on in one thread (observers watch the thread that registers them)."""

    def __init__(self) -> None:
        self.blocks: list[_Layer] = []  # open detect_anomaly blocks, innermost last
        self.switch: _Layer | None = None  # set_detect_anomaly's setting, under every block
        self.registration: AbstractContextManager | None = None  # the AnomalyObserver's


_layers = _ThreadLayers()


def _current() -> _Layer | None:
    layers = _layers
    return layers.blocks[-1] if layers.blocks else layers.switch


def _sync() -> None:
    """Register this thread's observer while any layer is on; unregister it (and forget the
    provenance) when none is."""
    layers = _layers
    layer = _current()
    if layer is not None:
        WATCH.check_nan = layer.check_nan
        if layers.registration is None:
            WATCH.deliver = _deliver
            registration = observing(AnomalyObserver())
            registration.__enter__()
            layers.registration = registration
        return
    if layers.registration is not None:
        registration, layers.registration = layers.registration, None
        registration.__exit__(None, None, None)
    WATCH.reset()


def _deliver(record: AnomalyRecord, layer: _Layer | None = None) -> None:
    layer = layer or _current()
    if layer is None:  # cannot happen while the observer is registered; raise, not lose it
        raise AnomalyError(record)
    layer.records.append(record)
    if layer.mode == "raise":
        raise AnomalyError(record)
    if layer.mode == "warn":
        filename, lineno, _ = user_frame()
        warnings.warn_explicit(str(record), RuntimeWarning, filename, lineno)


def _check_mode(function: str, mode: Any) -> str:
    if mode not in MODES:
        raise ValueError(f"{function}: mode must be one of {', '.join(map(repr, MODES))}, "
                         f"got {mode!r}")
    return mode


def _check_flag(function: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        hint = " (pass the mode by keyword: mode='warn')" if isinstance(value, str) else ""
        raise TypeError(f"{function}: {name} must be True or False, got {value!r}{hint}")
    return value


class detect_anomaly:
    """Context manager that finds the op making the first NaN or inf, in forward or backward.

    ``check_nan=False`` keeps only the forward origins: an error raised during backward gets a
    note naming where its node was recorded (PyTorch's anomaly mode shows that traceback).
    ``mode``: ``"raise"`` (default) raises ``AnomalyError``; ``"warn"`` issues a
    ``RuntimeWarning`` with the same message and goes on; ``"record"`` appends an
    ``AnomalyRecord`` to ``.records`` of the context object and goes on. Only root causes are
    reported: values computed from an anomaly already reported are not reported again.

    A non-finite value that no op used before the block ends (say, its last output) is reported
    when the block exits, unless an exception is already leaving it. The block watches the
    thread that enters it; blocks and other observers (a profiler) may end in any order.

    >>> import numpy as np
    >>> import backprop as bp
    >>> x = bp.tensor([-1.0, 4.0], requires_grad=True)
    >>> with np.errstate(invalid="ignore"), detect_anomaly(mode="record") as anomalies:
    ...     bp.sqrt(x).sum().backward()
    >>> len(anomalies), anomalies[0].op, anomalies[0].kind
    (1, 'sqrt', 'NaN')
    """

    def __init__(self, check_nan: bool = True, *, mode: str = "raise") -> None:
        self.check_nan = _check_flag("detect_anomaly", "check_nan", check_nan)
        self.mode = _check_mode("detect_anomaly", mode)
        self.records: list[AnomalyRecord] = []
        self._layers: list[_Layer] = []

    def __enter__(self) -> detect_anomaly:
        self.records = []
        layer = _Layer(self.mode, self.check_nan, self.records)
        blocks = _layers.blocks
        blocks.append(layer)
        self._layers.append(layer)
        try:
            _sync()
        except BaseException:
            blocks.pop()
            self._layers.pop()
            raise
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        layer = self._layers.pop()
        blocks = _layers.blocks
        last = len(blocks) == 1 and _layers.switch is None
        record = None
        if exc_type is None and last and layer.check_nan:
            record = unconsumed_record()
        blocks.remove(layer)
        _sync()
        if record is not None:
            _deliver(record, layer)

    def __iter__(self):
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> AnomalyRecord:
        return self.records[index]

    def __repr__(self) -> str:
        return (f"detect_anomaly(check_nan={self.check_nan}, mode={self.mode!r}, "
                f"records={len(self.records)})")


class set_detect_anomaly:
    """Switch anomaly detection on or off in the calling thread (PyTorch's name).

    ``mode`` is True (``"raise"``), False (off) or one of ``"raise"``, ``"warn"``, ``"record"``.
    It takes effect at once; used as a context manager it restores the previous setting on exit.
    ``detect_anomaly`` blocks take precedence while they are open. Like every engine observer
    (and unlike PyTorch's process-wide flag) it watches the thread that switches it on, so a
    training thread switches it on itself.

    >>> _ = set_detect_anomaly(True)
    >>> is_anomaly_enabled()
    True
    >>> _ = set_detect_anomaly(False)
    >>> is_anomaly_enabled()
    False
    """

    def __init__(self, mode: bool | str, check_nan: bool = True) -> None:
        if isinstance(mode, bool):
            layer_mode = "raise" if mode else None
        else:
            layer_mode = _check_mode("set_detect_anomaly", mode)
        check_nan = _check_flag("set_detect_anomaly", "check_nan", check_nan)
        self.records: list[AnomalyRecord] = []
        self._previous = _layers.switch
        _layers.switch = None if layer_mode is None else _Layer(layer_mode, check_nan,
                                                                self.records)
        _sync()

    def __enter__(self) -> set_detect_anomaly:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        _layers.switch = self._previous
        _sync()


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on in this thread (a ``detect_anomaly`` block or
    ``set_detect_anomaly``).

    >>> is_anomaly_enabled()
    False
    """
    return _current() is not None


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection is on and checks values for NaN and inf.

    >>> with detect_anomaly(check_nan=False):
    ...     is_anomaly_enabled(), is_anomaly_check_nan_enabled()
    (True, False)
    """
    layer = _current()
    return layer is not None and layer.check_nan
