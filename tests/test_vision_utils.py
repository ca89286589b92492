"""backprop.vision.utils: make_grid's layout and normalisation against a grid built by hand,
save_image's pixels, formats and atomic writes (with and without Pillow)."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.vision import _image
from backprop.vision.utils import make_grid, save_image

RNG = np.random.default_rng(0)


def hand_grid(images: np.ndarray, nrow: int, padding: int, pad_value: float) -> np.ndarray:
    """torchvision's layout, written out: images left to right, then top to bottom, each cell
    (H + padding) x (W + padding) after a first band of padding."""
    count, channels, height, width = images.shape
    columns = min(nrow, count)
    rows = math.ceil(count / columns)
    grid = np.full((channels, rows * (height + padding) + padding,
                    columns * (width + padding) + padding), pad_value, images.dtype)
    for k in range(count):
        row, column = divmod(k, columns)
        top, left = padding + row * (height + padding), padding + column * (width + padding)
        grid[:, top:top + height, left:left + width] = images[k]
    return grid


@pytest.mark.parametrize("count, nrow, padding, pad_value", [(5, 8, 2, 0.0), (5, 2, 1, 0.5),
                                                             (6, 3, 0, 1.0), (2, 1, 3, 0.25)])
def test_make_grid_layout(count: int, nrow: int, padding: int, pad_value: float) -> None:
    images = RNG.random((count, 3, 4, 6), dtype=np.float32)
    grid = make_grid(bp.tensor(images), nrow=nrow, padding=padding, pad_value=pad_value)
    assert grid.dtype == bp.float32
    assert np.array_equal(grid.numpy(), hand_grid(images, nrow, padding, pad_value))


def test_make_grid_hard_facts() -> None:
    grid = make_grid(bp.ones(5, 3, 4, 4), nrow=2, padding=2, pad_value=0.5).numpy()
    assert grid.shape == (3, 2 + 3 * 6, 2 + 2 * 6)  # 3 rows of 2, cells of 4 + 2
    assert grid[:, 0, :].tolist() == np.full((3, 14), 0.5).tolist()
    assert grid[:, 2:6, 2:6].min() == 1.0 and grid[:, 2:6, 6:8].max() == 0.5
    assert grid[:, 14:18, 8:12].max() == 0.5  # the sixth cell is empty


def test_one_channel_images_become_three_channels() -> None:
    images = RNG.random((3, 1, 2, 2), dtype=np.float32)
    grid = make_grid(bp.tensor(images), nrow=3, padding=1).numpy()
    assert grid.shape == (3, 4, 10)
    expected = hand_grid(np.repeat(images, 3, axis=1), 3, 1, 0.0)
    assert np.array_equal(grid, expected)
    single = make_grid(bp.tensor(images[0])).numpy()  # (1, H, W): three channels, no padding
    assert single.shape == (3, 2, 2) and np.array_equal(single[2], images[0, 0])
    plane = make_grid(bp.tensor(images[0, 0])).numpy()  # (H, W)
    assert np.array_equal(plane, single)
    colour = make_grid(bp.tensor(RNG.random((1, 3, 2, 5), dtype=np.float32)))
    assert tuple(colour.shape) == (3, 2, 5)


def test_make_grid_takes_a_list_of_images() -> None:
    images = RNG.random((3, 3, 2, 2), dtype=np.float32)
    grid = make_grid([bp.tensor(image) for image in images], nrow=2)
    assert np.array_equal(grid.numpy(), hand_grid(images, 2, 2, 0.0))


def test_make_grid_normalize() -> None:
    images = (RNG.standard_normal((4, 3, 3, 3)) * 3).astype(np.float32)
    low, high = float(images.min()), float(images.max())
    expected = (images - np.float32(low)) / np.float32(high - low)
    grid = make_grid(bp.tensor(images), normalize=True, padding=0, nrow=4).numpy()
    assert np.array_equal(grid, hand_grid(expected, 4, 0, 0.0))
    # value_range clamps first, then maps [-1, 1] to [0, 1].
    ranged = make_grid(bp.tensor(images), normalize=True, value_range=(-1.0, 1.0), padding=0,
                       nrow=4).numpy()
    clamped = (np.clip(images, -1, 1) - np.float32(-1.0)) / np.float32(2.0)
    assert np.array_equal(ranged, hand_grid(clamped, 4, 0, 0.0))
    each = make_grid(bp.tensor(images), normalize=True, scale_each=True, padding=0,
                     nrow=4).numpy()
    per_image = np.stack([(im - np.float32(im.min()))
                          / np.float32(float(im.max()) - float(im.min())) for im in images])
    assert np.array_equal(each, hand_grid(per_image, 4, 0, 0.0))
    source = bp.tensor(images)
    make_grid(source, normalize=True)
    assert np.array_equal(source.numpy(), images)  # normalising works on a copy
    flat = make_grid(bp.full((2, 1, 2, 2), 3.0), normalize=True, padding=0).numpy()
    assert flat.max() == 0.0  # a constant batch divides by 1e-5, not by zero


def test_make_grid_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(bp.zeros(2, 3, 2, 2), normalize=True, value_range=[0, 1])
    with pytest.raises(TypeError, match="make_grid: tensor should be a Tensor or a list"):
        make_grid(np.zeros((2, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"expected images \(B, C, H, W\)"):
        make_grid(bp.zeros(1, 2, 3, 2, 2))


def expected_pixels(grid: np.ndarray) -> np.ndarray:
    # torchvision: grid * 255 + 0.5, clamped to [0, 255], truncated, channels last.
    return np.clip(grid * np.float32(255) + np.float32(0.5), 0, 255).astype(np.uint8) \
        .transpose(1, 2, 0)


@pytest.mark.parametrize("pillow", [True, False])
def test_save_image_writes_the_grid_as_png(tmp_path: Path, pillow: bool,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    image = pytest.importorskip("PIL.Image")  # reads the file back in both cases
    if not pillow:
        monkeypatch.setattr(_image, "_pillow", _image._NO_PILLOW)
    images = (RNG.random((5, 3, 4, 6)) * 1.2 - 0.1).astype(np.float32)  # some outside [0, 1]
    path = tmp_path / "grid.png"
    save_image(bp.tensor(images), path, nrow=3, padding=1, pad_value=0.5)
    expected = expected_pixels(hand_grid(images, 3, 1, 0.5))
    with image.open(path) as picture:
        assert picture.format == "PNG" and picture.mode == "RGB"
        assert np.array_equal(np.asarray(picture), expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]  # no temporary files


def test_save_image_formats_and_file_objects(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    image = pytest.importorskip("PIL.Image")
    images = RNG.random((2, 1, 3, 3), dtype=np.float32)
    save_image(bp.tensor(images), tmp_path / "grid.jpg")
    with image.open(tmp_path / "grid.jpg") as picture:
        assert picture.format == "JPEG" and picture.size == (2 + 2 * 5, 7)
    buffer = io.BytesIO()
    save_image(bp.tensor(images), buffer, format="png")
    buffer.seek(0)
    with image.open(buffer) as picture:
        assert np.array_equal(np.asarray(picture),
                              expected_pixels(hand_grid(np.repeat(images, 3, 1), 8, 2, 0.0)))
    with pytest.raises(ValueError, match="cannot tell the image format"):
        save_image(bp.tensor(images), tmp_path / "grid.unknown")
    monkeypatch.setattr(_image, "_pillow", _image._NO_PILLOW)
    with pytest.raises(ImportError, match=r"writing JPEG needs Pillow.*backprop\[vision\]"):
        save_image(bp.tensor(images), tmp_path / "other.jpg", format="JPEG")
    raw = io.BytesIO()
    save_image(bp.tensor(images), raw, format="PNG")
    assert raw.getvalue().startswith(b"\x89PNG\r\n\x1a\n")


def test_a_failed_save_leaves_the_previous_file(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    image = pytest.importorskip("PIL.Image")
    path = tmp_path / "grid.png"
    save_image(bp.zeros(1, 3, 2, 2), path)
    before = path.read_bytes()

    def broken_save(self: Any, *args: Any, **kwargs: Any) -> None:
        args[0].write(b"half a picture")
        raise OSError("disk full")

    monkeypatch.setattr(image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_image(bp.ones(1, 3, 2, 2), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]
