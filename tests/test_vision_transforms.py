"""backprop.vision.transforms and transforms.functional: torchvision's semantics on PIL Images,
uint8 ndarrays and Tensors, checked against exact values, Pillow and PyTorch's interpolate."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.vision import _image
from backprop.vision import transforms as T
from backprop.vision.transforms import functional as F

Image = pytest.importorskip("PIL.Image")
RNG = np.random.default_rng(0)
GREY = RNG.integers(0, 256, (37, 50), dtype=np.uint8)
RGB = RNG.integers(0, 256, (37, 50, 3), dtype=np.uint8)


def pixels(img: Any) -> np.ndarray:
    return img.numpy() if isinstance(img, bp.Tensor) else np.asarray(img)


# -- conversions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("array", [GREY, RGB], ids=["L", "RGB"])
def test_to_tensor_scales_uint8_to_float32_chw(array: np.ndarray) -> None:
    expected = (array.reshape(37, 50, -1).transpose(2, 0, 1).astype(np.float32)
                / np.float32(255))
    for pic in (Image.fromarray(array), array):
        out = T.ToTensor()(pic)
        assert out.dtype == bp.float32 and np.array_equal(out.numpy(), expected)
    as_uint8 = T.PILToTensor()(Image.fromarray(array))
    assert as_uint8.dtype == bp.uint8 and np.array_equal(as_uint8.numpy() / np.float32(255),
                                                         expected)


def test_to_tensor_keeps_other_dtypes_and_refuses_tensors() -> None:
    floats = np.linspace(0, 3, 6, dtype=np.float64).reshape(2, 3)
    assert F.to_tensor(floats).tolist() == [floats.tolist()]
    with pytest.raises(TypeError, match="to_tensor: pic should be a PIL Image or an ndarray"):
        F.to_tensor(bp.zeros(1, 2, 2))


def test_convert_image_dtype_exact_values() -> None:
    u8 = bp.tensor(np.array([0, 1, 128, 255], np.uint8))
    assert F.convert_image_dtype(u8, bp.float32).tolist() == \
        (np.array([0, 1, 128, 255], np.float32) / np.float32(255)).tolist()
    floats = bp.tensor(np.array([0.0, 0.5, 0.999, 1.0], np.float32))
    # x * 255.999 truncated: 1.0 -> 255, and each of the 256 values gets an equal bin.
    assert T.ConvertImageDtype(bp.uint8)(floats).tolist() == [0, 127, 255, 255]
    assert F.convert_image_dtype(u8, bp.int16).tolist() == [0, 128, 128 * 128, 255 * 128]
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(floats, bp.int64)


def test_to_pil_image_round_trips_and_wraps_like_byte() -> None:
    back = F.to_pil_image(T.ToTensor()(Image.fromarray(RGB)))
    assert back.mode == "RGB" and np.array_equal(np.asarray(back), RGB)
    grey = F.to_pil_image(bp.tensor(np.array([[[0.0, 0.5, 1.0, -0.5, 1.2]]], np.float32)))
    # 0.5 * 255 = 127.5 truncates to 127; -127.5 and 306 wrap around as Tensor.byte() does.
    assert grey.mode == "L" and np.asarray(grey).tolist() == [[0, 127, 255, 129, 50]]
    assert T.ToPILImage()(RGB).mode == "RGB"


# -- normalize -----------------------------------------------------------------------------------

def test_normalize_matches_pytorch_arithmetic(torch32: Any) -> None:
    x = RNG.random((2, 3, 4, 5), dtype=np.float32)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    ours = T.Normalize(mean, std)(bp.tensor(x))
    ref = (torch32.from_numpy(x) - torch32.tensor(mean).view(-1, 1, 1)) \
        / torch32.tensor(std).view(-1, 1, 1)
    assert np.array_equal(ours.numpy(), ref.numpy())
    source = bp.tensor(x)
    F.normalize(source, mean, std)
    assert np.array_equal(source.numpy(), x)  # inplace=False leaves the input alone
    assert np.array_equal(F.normalize(source, mean, std, inplace=True).numpy(), ref.numpy())
    assert np.array_equal(source.numpy(), ref.numpy())


@pytest.mark.parametrize("tensor, std, match", [
    (bp.zeros(3, 2, 2, dtype=bp.uint8), (1.0,), "should be a float tensor, got uint8"),
    (bp.zeros(2, 2), (1.0,), r"size \(\.\.\., C, H, W\), got shape \(2, 2\)"),
    (bp.zeros(1, 2, 2), (0.0,), "std evaluated to zero"),
])
def test_normalize_refuses_bad_input(tensor: Any, std: Any, match: str) -> None:
    with pytest.raises((TypeError, ValueError), match=match):
        F.normalize(tensor, (0.0,), std)


# -- resize --------------------------------------------------------------------------------------

@pytest.mark.parametrize("size, expected", [(20, (20, 27)), ([17], (17, 22)), ((30, 25), (30, 25)),
                                            (100, (100, 135))])
def test_resize_output_sizes_follow_torchvision(size: Any, expected: tuple) -> None:
    # An int sets the shorter side (here the height, 37) and truncates the longer: 20*50/37.
    out = T.Resize(size)(Image.fromarray(RGB))
    assert out.size == (expected[1], expected[0])
    assert tuple(T.Resize(size)(bp.tensor(RGB.transpose(2, 0, 1).copy())).shape) == \
        (3,) + expected
    assert T.Resize(size)(RGB).shape == expected + (3,)


def test_resize_pil_uses_pillow_and_max_size() -> None:
    img = Image.fromarray(RGB)
    assert np.array_equal(pixels(F.resize(img, [20, 27])),
                          pixels(img.resize((27, 20), Image.Resampling.BILINEAR)))
    assert np.array_equal(pixels(F.resize(img, 20, T.InterpolationMode.NEAREST)),
                          pixels(img.resize((27, 20), Image.Resampling.NEAREST)))
    assert F.resize(img, 20, max_size=25).size == (25, 18)
    with pytest.raises(ValueError, match="max_size = 20 must be strictly greater"):
        F.resize(img, 20, max_size=20)


@pytest.mark.parametrize("size", [(20, 33), (14, 14), (60, 90), (40, 20)])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_resize_tensors_match_pytorch_antialias(torch32: Any, size: tuple, mode: str) -> None:
    x = RNG.random((2, 3, 37, 50), dtype=np.float32)
    ours = F.resize(bp.tensor(x), list(size), T.InterpolationMode(mode))
    ref = torch32.nn.functional.interpolate(torch32.from_numpy(x), size=size, mode=mode,
                                            align_corners=False, antialias=True)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=0, atol=1e-5)
    plain = F.resize(bp.tensor(x), list(size), antialias=False)
    ref_plain = torch32.nn.functional.interpolate(torch32.from_numpy(x), size=size,
                                                  mode="bilinear", align_corners=False)
    np.testing.assert_allclose(plain.numpy(), ref_plain.numpy(), rtol=0, atol=1e-5)


def test_resize_uint8_rounds_and_keeps_the_kind() -> None:
    u8 = bp.tensor(RGB.transpose(2, 0, 1).copy())
    as_float = F.resize(bp.tensor(RGB.transpose(2, 0, 1).astype(np.float32)), [20, 25])
    out = F.resize(u8, [20, 25])
    assert out.dtype == bp.uint8 and np.array_equal(out.numpy(), np.round(as_float.numpy()))
    array_out = F.resize(RGB, [20, 25])
    assert isinstance(array_out, np.ndarray)
    assert np.array_equal(array_out, out.numpy().transpose(1, 2, 0))
    assert F.resize(GREY, [37, 50]) is GREY  # the same size returns the image


def test_resize_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="Resize: size should be an int or a sequence"):
        T.Resize("big")
    with pytest.raises(ValueError, match="sizes must be positive"):
        T.Resize(0)
    with pytest.raises(TypeError, match="interpolation should be an InterpolationMode"):
        T.Resize(4, interpolation="bilinear")


# -- crops, flips, pads --------------------------------------------------------------------------

ARANGE = np.arange(6 * 7, dtype=np.uint8).reshape(6, 7)


@pytest.mark.parametrize("kind", ["pil", "array", "tensor"])
def test_center_crop_offsets_round_half_to_even(kind: str) -> None:
    img: Any = {"pil": Image.fromarray(ARANGE), "array": ARANGE,
                "tensor": bp.tensor(ARANGE[None].copy())}[kind]
    # (6 - 3) / 2 = 1.5 rounds to 2, (7 - 2) / 2 = 2.5 rounds to 2 (Python's round).
    out = pixels(T.CenterCrop((3, 2))(img)).reshape(3, 2)
    assert np.array_equal(out, ARANGE[2:5, 2:4])
    # A crop larger than the image pads zeros first: 1 column left, 2 right, 1 row top and bottom.
    big = pixels(F.center_crop(img, [8, 10])).reshape(8, 10)
    expected = np.zeros((8, 10), np.uint8)
    expected[1:7, 1:8] = ARANGE
    assert np.array_equal(big, expected)


@pytest.mark.parametrize("kind", ["pil", "array", "tensor"])
def test_crop_outside_the_image_is_zero(kind: str) -> None:
    img: Any = {"pil": Image.fromarray(ARANGE), "array": ARANGE,
                "tensor": bp.tensor(ARANGE[None].copy())}[kind]
    out = pixels(F.crop(img, -1, 5, 3, 4)).reshape(3, 4)
    expected = np.zeros((3, 4), np.uint8)
    expected[1:, :2] = ARANGE[:2, 5:7]
    assert np.array_equal(out, expected)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("padding, widths", [(2, ((2, 2), (2, 2))), ((1, 3), ((3, 3), (1, 1))),
                                             ((1, 2, 3, 4), ((2, 4), (1, 3)))])
def test_pad_matches_numpy_pad(mode: str, padding: Any, widths: tuple) -> None:
    kwargs = {"constant_values": 9} if mode == "constant" else {}
    expected = np.pad(RGB, widths + ((0, 0),), mode=mode, **kwargs)
    for img in (Image.fromarray(RGB), RGB, bp.tensor(RGB.transpose(2, 0, 1).copy())):
        out = pixels(T.Pad(padding, fill=9, padding_mode=mode)(img))
        if isinstance(img, bp.Tensor):
            out = out.transpose(1, 2, 0)
        assert np.array_equal(out, expected)


def test_pad_per_channel_fill_and_negative_padding() -> None:
    out = np.asarray(F.pad(Image.fromarray(RGB), 1, fill=(1, 2, 3)))
    assert out[0, 0].tolist() == [1, 2, 3] and np.array_equal(out[1:-1, 1:-1], RGB)
    cropped = F.pad(bp.tensor(ARANGE[None].copy()), [-1, 1, 0, -2])
    expected = np.zeros((5, 6), np.uint8)
    expected[1:, :] = ARANGE[:4, 1:]
    assert np.array_equal(cropped.numpy()[0], expected)
    with pytest.raises(ValueError, match="padding_mode should be constant, edge"):
        T.Pad(1, padding_mode="wrap")


@pytest.mark.parametrize("kind", ["pil", "array", "tensor"])
def test_flips(kind: str) -> None:
    img: Any = {"pil": Image.fromarray(ARANGE), "array": ARANGE,
                "tensor": bp.tensor(ARANGE[None].copy())}[kind]
    assert np.array_equal(pixels(F.hflip(img)).reshape(6, 7), ARANGE[:, ::-1])
    assert np.array_equal(pixels(F.vflip(img)).reshape(6, 7), ARANGE[::-1])
    assert pixels(T.RandomHorizontalFlip(p=0.0)(img)).reshape(6, 7).tolist() == ARANGE.tolist()
    assert np.array_equal(pixels(T.RandomHorizontalFlip(p=1.0)(img)).reshape(6, 7),
                          ARANGE[:, ::-1])


def test_random_flip_draws_from_the_global_generator() -> None:
    bp.manual_seed(5)
    draws = bp.rand(20).tolist()  # one draw of rand(1) per call, the same stream
    bp.manual_seed(5)
    flipped = [T.RandomHorizontalFlip()(ARANGE)[0, 0] == 6 for _ in range(20)]
    bp.manual_seed(5)
    single = [float(bp.rand(1).item()) < 0.5 for _ in range(20)]
    assert flipped == single and len(draws) == 20 and 0 < sum(flipped) < 20


def test_random_crop_is_reproducible_and_uses_the_global_generator() -> None:
    img = np.arange(10 * 12, dtype=np.uint8).reshape(10, 12)
    bp.manual_seed(3)
    top = int(bp.randint(0, 10 - 4 + 1, size=(1,)).item())
    left = int(bp.randint(0, 12 - 5 + 1, size=(1,)).item())
    bp.manual_seed(3)
    out = T.RandomCrop((4, 5))(img)
    assert np.array_equal(out, img[top:top + 4, left:left + 5])
    bp.manual_seed(3)
    assert np.array_equal(T.RandomCrop((4, 5))(Image.fromarray(img)), out)


def test_random_crop_padding_and_pad_if_needed() -> None:
    small = np.ones((2, 3), np.uint8)
    padded = T.RandomCrop((2, 3), padding=4, fill=7)(small)
    assert padded.shape == (2, 3) and set(np.unique(padded)) <= {1, 7}
    # pad_if_needed pads both sides by the shortfall, so the crop is always possible.
    out = T.RandomCrop((5, 3), pad_if_needed=True)(small)
    assert out.shape == (5, 3) and out.sum() <= 6
    with pytest.raises(ValueError, match=r"RandomCrop: required crop size \(5, 3\) is larger"):
        T.RandomCrop((5, 3))(small)
    full = T.RandomCrop((2, 3))(small)
    assert np.array_equal(full, small)


def test_grayscale_on_tensors_pil_and_arrays() -> None:
    rgb = RGB.transpose(2, 0, 1).copy()
    weights = [np.float32(0.2989), np.float32(0.587), np.float32(0.114)]
    luma = (weights[0] * rgb[0].astype(np.float32) + weights[1] * rgb[1].astype(np.float32)
            + weights[2] * rgb[2].astype(np.float32)).astype(np.uint8)
    out = T.Grayscale()(bp.tensor(rgb))
    assert tuple(out.shape) == (1, 37, 50) and np.array_equal(out.numpy()[0], luma)
    three = T.Grayscale(3)(bp.tensor(rgb))
    assert tuple(three.shape) == (3, 37, 50) and np.array_equal(three.numpy()[2], luma)
    pil = T.Grayscale(3)(Image.fromarray(RGB))
    assert pil.mode == "RGB"
    assert np.array_equal(np.asarray(pil)[..., 0], np.asarray(Image.fromarray(RGB).convert("L")))
    assert T.Grayscale()(RGB).shape == (37, 50)
    with pytest.raises(ValueError, match="num_output_channels should be 1 or 3"):
        T.Grayscale(2)


def test_compose_lambda_and_reprs() -> None:
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    assert repr(pipeline) == ("Compose(\n    ToTensor()\n    Normalize(mean=(0.1307,), "
                              "std=(0.3081,))\n)")
    assert repr(T.Resize(64)) == \
        "Resize(size=64, interpolation=bilinear, max_size=None, antialias=True)"
    assert repr(T.CenterCrop(64)) == "CenterCrop(size=(64, 64))"
    assert repr(T.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.Lambda(abs)) == "Lambda()"
    assert T.Compose([T.Lambda(lambda x: x * 3), T.Lambda(lambda x: x + 1)])(2) == 7
    with pytest.raises(TypeError, match="Lambda: the argument should be callable"):
        T.Lambda(3)
    with pytest.raises(TypeError, match="Compose: transform 1 is not callable"):
        T.Compose([abs, 3])


def test_mnist_pipeline_on_a_pil_image_matches_hand_arithmetic() -> None:
    pipeline = T.Compose([T.Resize(32), T.CenterCrop(28), T.ToTensor(),
                          T.Normalize((0.5,), (0.5,))])
    img = Image.fromarray(GREY)
    expected_pil = img.resize((43, 32), Image.Resampling.BILINEAR).crop((8, 2, 36, 30))
    expected = (np.asarray(expected_pil).astype(np.float32) / np.float32(255) - np.float32(0.5)) \
        / np.float32(0.5)
    out = pipeline(img)
    assert tuple(out.shape) == (1, 28, 28) and np.array_equal(out.numpy()[0], expected)


def test_transforms_refuse_what_is_not_an_image(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TypeError, match=r"hflip: img should be a PIL Image, a uint8 ndarray"):
        F.hflip([[1, 2]])
    monkeypatch.setattr(_image, "_pillow", _image._NO_PILLOW)
    with pytest.raises(ImportError, match=r"pip install 'backprop\[vision\]'"):
        F.to_pil_image(RGB)
    assert np.array_equal(T.CenterCrop(2)(ARANGE), ARANGE[2:4, 2:4])


def test_module_transforms_are_nn_modules_as_in_torchvision() -> None:
    for transform in (T.Normalize((0.5,), (0.5,)), T.Resize(4), T.CenterCrop(2),
                      T.RandomCrop(2), T.RandomHorizontalFlip(), T.Grayscale(), T.Pad(1),
                      T.ConvertImageDtype(bp.float32)):
        assert isinstance(transform, bp.nn.Module)
    assert not isinstance(T.ToTensor(), bp.nn.Module) and not isinstance(T.Lambda(abs),
                                                                         bp.nn.Module)
    pipeline = bp.nn.Sequential(T.CenterCrop(2), T.Normalize((0.5,), (0.25,)))
    x = bp.tensor(np.arange(16, dtype=np.float32).reshape(1, 4, 4))
    assert pipeline(x).tolist() == [[[(5 - 0.5) / 0.25, (6 - 0.5) / 0.25],
                                     [(9 - 0.5) / 0.25, (10 - 0.5) / 0.25]]]


@pytest.mark.parametrize("shape, size", [((28, 28), 64), ((37, 50, 3), 20), ((64, 48, 3), (30, 25))])
def test_resizing_arrays_comes_within_one_of_pillow(shape: tuple, size: Any) -> None:
    array = RNG.integers(0, 256, shape, dtype=np.uint8)
    ours = F.resize(array, size)
    pillows = np.asarray(F.resize(Image.fromarray(array), size))
    assert ours.shape == pillows.shape and ours.dtype == np.uint8
    assert np.abs(ours.astype(int) - pillows).max() <= 1


def test_random_resized_crop() -> None:
    img = Image.fromarray(RGB)  # 50 wide, 37 high
    bp.manual_seed(1)
    first = np.asarray(T.RandomResizedCrop(16)(img))
    bp.manual_seed(1)
    assert first.shape == (16, 16, 3) and np.array_equal(np.asarray(T.RandomResizedCrop(16)(img)),
                                                         first)
    # The whole image at its own aspect ratio is the only crop scale (1, 1) can give.
    whole = T.RandomResizedCrop((20, 27), scale=(1.0, 1.0), ratio=(50 / 37, 50 / 37))
    assert np.array_equal(np.asarray(whole(img)), np.asarray(F.resize(img, [20, 27])))
    # No crop can cover 5x the area: the fallback is the widest central crop within the
    # ratios, 37 high and round(37 * 4/3) = 49 wide.
    assert T.RandomResizedCrop.get_params(img, (5.0, 6.0), (3 / 4, 4 / 3)) == (0, 0, 37, 49)
    assert T.RandomResizedCrop.get_params(np.zeros((10, 100), np.uint8), (5.0, 6.0),
                                          (3 / 4, 4 / 3)) == (0, 43, 10, 13)
    assert repr(T.RandomResizedCrop(224)) == (
        "RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), ratio=(0.75, 1.3333), "
        "interpolation=bilinear, antialias=True)")


def test_random_apply_uses_the_global_generator() -> None:
    bp.manual_seed(2)
    applied = [float(bp.rand(1).item()) <= 0.5 for _ in range(12)]
    bp.manual_seed(2)
    transform = T.RandomApply([T.Lambda(lambda x: x + 1)], p=0.5)
    assert [transform(0) == 1 for _ in range(12)] == applied and 0 < sum(applied) < 12
