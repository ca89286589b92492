"""Data sets from the user's own files: NumPy ``.npz`` archives and numeric CSV tables.

Inputs become ``dtype`` (float32 by default; ``dtype=None`` keeps the stored one). Labels that
are integers (or, in a CSV, whole numbers) become int64 class indices; other labels become
``dtype`` too (regression targets). Archives are read with ``allow_pickle=False``: a ``.npz``
never runs code.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from ._base import LabelledDataset
from .idx import PathLike

_FLOAT32 = dtypes.float32


def _as_inputs(array: np.ndarray, dtype: Any, op: str) -> np.ndarray:
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{op}: inputs of dtype {array.dtype} cannot become a tensor; store "
                        "numbers")
    return array if dtype is None else array.astype(dtypes.as_dtype(dtype, op), copy=False)


def _as_labels(array: np.ndarray, dtype: Any, op: str) -> np.ndarray:
    if array.dtype.kind in "biu":
        return array.astype(np.int64, copy=False)
    return _as_inputs(array, dtype, op)


def load_npz(path: PathLike, x_key: str = "x", y_key: str | None = "y", *,
             dtype: Any = _FLOAT32) -> tuple[Tensor, Tensor] | Tensor:
    """The arrays ``x_key`` and ``y_key`` of a ``.npz`` file as tensors ``(x, y)`` (just ``x``
    when ``y_key`` is None), checked to hold the same number of samples.

    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "toy.npz")
    >>> np.savez(path, x=np.zeros((4, 2)), y=np.array([0, 1, 1, 0]))
    >>> x, y = load_npz(path)
    >>> x.shape, x.dtype, y.dtype
    ((4, 2), dtype('float32'), dtype('int64'))
    """
    path = Path(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"load_npz: no such file: {path}") from None
    except (ValueError, OSError) as err:
        raise ValueError(f"load_npz: {path} is not a readable .npz archive ({err})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(  # noqa: TRY004 - a wrong file, not a wrong argument type
            f"load_npz: {path} is a single .npy array, not a .npz archive of named arrays; "
            "save it with np.savez(path, x=..., y=...)")
    with archive:
        keys = list(archive.files)
        wanted = [x_key] if y_key is None else [x_key, y_key]
        for key in wanted:
            if key not in keys:
                raise KeyError(f"load_npz: {path} has no array {key!r}; it holds {keys}. Pass "
                               "x_key= and y_key= to choose")
        try:
            x = archive[x_key]
            y = None if y_key is None else archive[y_key]
        except ValueError as err:  # object arrays need pickle, which is refused
            raise ValueError(f"load_npz: {path}: {err}") from None
    x = _as_inputs(x, dtype, "load_npz")
    if x.ndim == 0:
        raise ValueError(f"load_npz: {path}: array {x_key!r} is 0-d; it needs a first dimension "
                         "of samples")
    if y is None:
        return Tensor._wrap(x)
    y = _as_labels(y, dtype, "load_npz")
    if y.ndim == 0 or len(y) != len(x):
        raise ValueError(f"load_npz: {path}: {x_key!r} holds {len(x)} samples but {y_key!r} has "
                         f"shape {y.shape}; they must have the same first dimension")
    return Tensor._wrap(x), Tensor._wrap(y)


class NpzDataset(LabelledDataset):
    """A data set from two arrays of a ``.npz`` file: inputs ``x_key`` and labels ``y_key``.

    A sample is ``(x[i], y[i])`` as tensors (just ``x[i]`` when ``y_key`` is None), passed through
    ``transform`` and ``target_transform`` when given; ``.data`` and ``.targets`` hold the arrays.

    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "toy.npz")
    >>> np.savez(path, images=np.ones((3, 2, 2)), labels=np.array([2, 0, 1]))
    >>> ds = NpzDataset(path, x_key="images", y_key="labels")
    >>> len(ds), ds[0][0].shape, int(ds[0][1])
    (3, (2, 2), 2)
    """

    def __init__(self, path: PathLike, x_key: str = "x", y_key: str | None = "y",
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 *, dtype: Any = _FLOAT32) -> None:
        loaded = load_npz(path, x_key, y_key, dtype=dtype)
        self.data, self.targets = loaded if y_key is not None else (loaded, None)
        self.path = Path(path)
        self.transform = transform
        self.target_transform = target_transform

    def extra_repr(self) -> str:
        return f"File: {self.path}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class CsvDataset(LabelledDataset):
    """A data set from a numeric CSV table: one sample a row, one column holding the label.

    ``label_column`` is a column index (negative counts from the end; default the last) or a
    header name; ``None`` means unlabelled. ``header`` is True, False, or None to detect it (the
    first row is a header when some field is not a number). Blank lines and lines starting with
    ``#`` are skipped. Whole-number labels become int64 class indices, others ``dtype``.
    A sample is ``(features, label)`` as tensors; ``.data``, ``.targets`` and ``.columns``
    (the header's names, or None) hold the table.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "toy.csv")
    >>> _ = open(path, "w").write("a,b,label\\n0.5,1,1\\n2,3.5,0\\n")
    >>> ds = CsvDataset(path, label_column="label")
    >>> len(ds), ds.data.tolist(), ds.targets.tolist()
    (2, [[0.5, 1.0], [2.0, 3.5]], [1, 0])
    """

    def __init__(self, path: PathLike, label_column: int | str | None = -1,
                 header: bool | None = None, delimiter: str = ",",
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 *, dtype: Any = _FLOAT32) -> None:
        self.path = Path(path)
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            raise FileNotFoundError(f"CsvDataset: no such file: {self.path}") from None
        rows = [(n, row) for n, row in enumerate(csv.reader(io.StringIO(text),
                                                            delimiter=delimiter), start=1)
                if row and any(f.strip() for f in row) and not row[0].lstrip().startswith("#")]
        if not rows:
            raise ValueError(f"CsvDataset: {self.path} holds no rows")
        if header is None:
            header = not all(_is_number(f) for f in rows[0][1])
        self.columns: list[str] | None = [f.strip() for f in rows[0][1]] if header else None
        if header:
            rows = rows[1:]
        width = len(self.columns) if self.columns else len(rows[0][1]) if rows else 0
        table = self._parse(rows, width)
        label = self._label_index(label_column, width)
        if label is None:
            features, labels = table, None
        else:
            features, labels = np.delete(table, label, axis=1), table[:, label]
        self.data = Tensor._wrap(_as_inputs(features, dtype, "CsvDataset"))
        if labels is None:
            self.targets = None
        elif np.all(np.isfinite(labels)) and np.all(labels == np.round(labels)):
            self.targets = Tensor._wrap(labels.astype(np.int64))
        else:
            self.targets = Tensor._wrap(_as_inputs(labels, dtype, "CsvDataset"))
        self.transform = transform
        self.target_transform = target_transform

    def _parse(self, rows: Sequence[tuple[int, list[str]]], width: int) -> np.ndarray:
        for line, row in rows:
            if len(row) != width:
                raise ValueError(f"CsvDataset: {self.path}, line {line}: {len(row)} fields, but "
                                 f"the table has {width} columns")
        try:
            return np.array([row for _, row in rows], dtype=np.float64).reshape(len(rows), width)
        except ValueError:
            for line, row in rows:
                for column, field in enumerate(row):
                    if not _is_number(field):
                        raise ValueError(f"CsvDataset: {self.path}, line {line}, column "
                                         f"{column}: {field!r} is not a number (the table must "
                                         "be numeric apart from a header row)") from None
            raise

    def _label_index(self, label_column: int | str | None, width: int) -> int | None:
        if label_column is None:
            return None
        if isinstance(label_column, str):
            if self.columns is None or label_column not in self.columns:
                raise KeyError(f"CsvDataset: {self.path} has no column named {label_column!r}; "
                               f"its header is {self.columns}")
            return self.columns.index(label_column)
        if not -width <= label_column < width:
            raise IndexError(f"CsvDataset: {self.path}: label_column {label_column} is out of "
                             f"range for a table of {width} columns")
        return label_column % width

    def extra_repr(self) -> str:
        return f"File: {self.path}"


__all__ = ["load_npz", "NpzDataset", "CsvDataset"]
