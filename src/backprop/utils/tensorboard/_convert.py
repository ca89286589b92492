"""What the writer accepts as values: our Tensors (on any device, with or without
``requires_grad``), NumPy arrays and Python numbers, all read as host NumPy arrays; and the
image layouts PyTorch's writer accepts (``CHW``, ``HWC``, ``HW``, ``NCHW``, ``NHWC``...),
turned into one ``(H, W, C)`` picture of 8-bit pixels."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import backend
from ...tensor import Tensor

# add_images tiles a batch into rows of at most this many pictures (as PyTorch's writer).
GRID_COLUMNS = 8


def to_numpy(value: Any, where: str, argument: str) -> np.ndarray:
    """``value`` as a host NumPy array; a Tensor's graph is ignored (only its values are read).

    >>> import backprop as bp
    >>> to_numpy(bp.ones(2, requires_grad=True), "add_histogram", "values")
    array([1., 1.], dtype=float32)
    """
    if isinstance(value, Tensor):
        return backend.to_host(value._data)
    if isinstance(value, np.ndarray):
        return value
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{where}: {argument} must be a Tensor, a NumPy array or numbers, got "
                        f"{type(value).__name__}") from error
    if array.dtype == object or array.dtype.kind in "USV":
        raise TypeError(f"{where}: {argument} must be a Tensor, a NumPy array or numbers, got "
                        f"{type(value).__name__}")
    return array


def to_float(value: Any, where: str, argument: str) -> float:
    """One number (a one-element Tensor or array, or a Python number) as a Python float.

    >>> import numpy as np
    >>> to_float(np.array([[2.5]]), "add_scalar", "scalar_value")
    2.5
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    array = to_numpy(value, where, argument)
    if array.size != 1:
        raise ValueError(f"{where}: {argument} must hold exactly one number, got shape "
                         f"{tuple(array.shape)}")
    return float(array.reshape(()))


def to_pixels(array: np.ndarray) -> np.ndarray:
    """8-bit pixels as PyTorch's writer makes them: uint8 arrays as they are, anything else taken
    as intensities in [0, 1], scaled by 255, clipped to [0, 255] and truncated."""
    if array.dtype == np.uint8:
        return array
    scaled = array.astype(np.float32) * np.float32(255)
    return np.clip(scaled, 0, 255).astype(np.uint8)


def to_hwc(array: np.ndarray, dataformats: str, where: str) -> np.ndarray:
    """An image (``CHW``, ``HWC``, ``HW``...) or a batch of them (``NCHW``, ``NHWC``...) as one
    ``(H, W, C)`` picture: grey pictures become RGB, and a batch is tiled into a grid of
    ``GRID_COLUMNS`` columns.

    >>> to_hwc(np.zeros((2, 1, 4, 5)), "NCHW", "add_images").shape
    (4, 10, 3)
    """
    layout = dataformats.upper() if isinstance(dataformats, str) else dataformats
    valid = (isinstance(layout, str) and len(set(layout)) == len(layout)
             and set(layout) in ({"N", "C", "H", "W"}, {"C", "H", "W"}, {"H", "W"}))
    if not valid:
        raise ValueError(f"{where}: dataformats must name each of H and W once, with C and N "
                         f"optional (e.g. 'CHW', 'HWC', 'HW', 'NCHW', 'NHWC'); got "
                         f"{dataformats!r}")
    if array.ndim != len(layout):
        raise ValueError(f"{where}: dataformats {dataformats!r} needs a {len(layout)}-D image, "
                         f"got shape {tuple(array.shape)}")
    if len(layout) == 2:
        picture = array.transpose([layout.index(c) for c in "HW"])
        return np.stack([picture] * 3, axis=2)
    if len(layout) == 3:
        picture = array.transpose([layout.index(c) for c in "HWC"])
        if picture.shape[2] == 1:
            picture = np.concatenate([picture] * 3, axis=2)
        if picture.shape[2] not in (3, 4):
            raise ValueError(f"{where}: an image needs 1 (grey), 3 (RGB) or 4 (RGBA) channels, "
                             f"got {picture.shape[2]} (shape {tuple(array.shape)}, dataformats "
                             f"{dataformats!r})")
        return picture
    batch = array.transpose([layout.index(c) for c in "NCHW"])
    return _grid(batch, where, dataformats).transpose(1, 2, 0)


def _grid(batch: np.ndarray, where: str, dataformats: str) -> np.ndarray:
    """``(N, C, H, W)`` with 1 or 3 channels tiled into one ``(3, rows*H, columns*W)`` canvas,
    row by row; cells past the last picture stay 0."""
    count, channels, height, width = batch.shape
    if channels == 1:
        batch = np.concatenate([batch] * 3, axis=1)
    elif channels != 3:
        raise ValueError(f"{where}: a batch of images needs 1 (grey) or 3 (RGB) channels, got "
                         f"{channels} (shape {tuple(batch.shape)} as NCHW, dataformats "
                         f"{dataformats!r})")
    if count == 0:
        raise ValueError(f"{where}: the batch of images is empty (shape {tuple(batch.shape)})")
    columns = min(count, GRID_COLUMNS)
    rows = -(-count // columns)
    canvas = np.zeros((3, rows * height, columns * width), dtype=batch.dtype)
    for index in range(count):
        top, left = (index // columns) * height, (index % columns) * width
        canvas[:, top:top + height, left:left + width] = batch[index]
    return canvas
