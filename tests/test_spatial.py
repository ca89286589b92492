"""The spatial layers of issue 16 (3-d convolution and pooling, adaptive max pooling,
unpooling, LP pooling, resampling, fold/unfold, channel shuffle, local response norm):
behaviour PyTorch users rely on and errors that name the function and the argument. Values and
gradients against PyTorch per op are in the op table (tests/optable/spatial.py); per layer, with
reprs and signatures, in the module table (tests/moduletable/spatial.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F

def test_nearest_gradient_sums_every_copy_into_its_source() -> None:
    x = bp.ones(1, 1, 2, 3, requires_grad=True)
    F.interpolate(x, scale_factor=(2, 3)).sum().backward()
    assert x.grad.tolist() == [[[[6.0] * 3] * 2]]


def test_interpolate_keeps_float32_and_matches_pytorch(torch: Any) -> None:
    data = np.random.default_rng(0).standard_normal((2, 3, 5, 4)).astype(np.float32)
    for mode in ("bilinear", "bicubic", "nearest-exact", "area"):
        ours = F.interpolate(bp.tensor(data), scale_factor=1.7, mode=mode)
        theirs = torch.nn.functional.interpolate(torch.tensor(data), scale_factor=1.7, mode=mode)
        assert ours.dtype == bp.float32
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1.3e-6, atol=1e-6)


def test_scale_factor_sets_the_source_step_unless_recomputed(torch: Any) -> None:
    """5 * 1.3 rounds down to 6 outputs; the source step is 1 / 1.3 as given, or 5 / 6."""
    data = np.arange(5.0).reshape(1, 1, 5)
    for recompute in (None, True):
        ours = F.interpolate(bp.tensor(data), scale_factor=1.3, mode="linear",
                             recompute_scale_factor=recompute)
        theirs = torch.nn.functional.interpolate(torch.tensor(data), scale_factor=1.3,
                                                 mode="linear",
                                                 recompute_scale_factor=recompute)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert not np.allclose(
        F.interpolate(bp.tensor(data), scale_factor=1.3, mode="linear").numpy(),
        F.interpolate(bp.tensor(data), scale_factor=1.3, mode="linear",
                      recompute_scale_factor=True).numpy())


def test_upsample_bilinear_aligns_corners() -> None:
    out = bp.nn.UpsamplingBilinear2d(size=(1, 5))(bp.tensor([[[[0.0, 4.0]]]]))
    assert out.tolist() == [[[[0.0, 1.0, 2.0, 3.0, 4.0]]]]


def test_max_unpool_inverts_max_pool_at_the_maxima() -> None:
    x = bp.tensor(np.random.default_rng(1).uniform(0.5, 2.0, (2, 3, 4, 6)))  # above the zeros
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    restored = F.max_unpool2d(values, indices, 2)
    again, again_indices = F.max_pool2d(restored, 2, return_indices=True)
    assert again.tolist() == values.tolist()
    assert again_indices.tolist() == indices.tolist()
    assert int((restored.numpy() != 0).sum()) == values.numel()


def test_adaptive_max_pool_indices_feed_max_unpool(torch: Any) -> None:
    data = np.random.default_rng(2).standard_normal((1, 2, 5, 7))
    ours = F.adaptive_max_pool2d(bp.tensor(data), (2, 3), return_indices=True)
    theirs = torch.nn.functional.adaptive_max_pool2d(torch.tensor(data), (2, 3),
                                                     return_indices=True)
    assert ours[1].tolist() == theirs[1].tolist()
    assert ours[1].dtype == bp.int64


def test_fold_of_unfold_counts_each_pixels_blocks() -> None:
    """fold(unfold(x)) is x times the number of blocks that cover each pixel."""
    x = bp.tensor(np.random.default_rng(3).standard_normal((1, 2, 4, 5)))
    back = F.fold(F.unfold(x, 2), (4, 5), 2)
    counts = F.fold(F.unfold(bp.ones(1, 2, 4, 5), 2), (4, 5), 2)
    np.testing.assert_allclose(back.numpy(), x.numpy() * counts.numpy())
    assert counts.numpy()[0, 0, 1, 1] == 4 and counts.numpy()[0, 0, 0, 0] == 1


def test_grid_sample_of_the_identity_affine_grid_is_the_input() -> None:
    x = bp.tensor(np.random.default_rng(4).standard_normal((2, 3, 4, 5)))
    identity = bp.tensor(np.tile([[1.0, 0, 0], [0, 1.0, 0]], (2, 1, 1)))
    for align in (False, True):
        grid = F.affine_grid(identity, (2, 3, 4, 5), align_corners=align)
        for mode in ("bilinear", "nearest", "bicubic"):
            out = F.grid_sample(x, grid, mode=mode, align_corners=align)
            np.testing.assert_allclose(out.numpy(), x.numpy(), atol=1e-12)


def test_grid_sample_gradient_flows_to_theta(torch: Any) -> None:
    """A spatial transformer: the loss's gradient reaches theta through affine_grid."""
    rng = np.random.default_rng(5)
    image, theta = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((1, 2, 3)) * 0.5
    grads = []
    for lib, functional in ((bp, F), (torch, torch.nn.functional)):
        t = lib.tensor(theta, requires_grad=True)
        grid = functional.affine_grid(t, (1, 2, 4, 4), align_corners=False)
        functional.grid_sample(lib.tensor(image), grid, padding_mode="border",
                               align_corners=False).sum().backward()
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10)


def test_cross_map_lrn2d_gradient_is_pytorchs(torch: Any) -> None:
    rng = np.random.default_rng(6)
    for size, channels in ((2, 5), (3, 4), (5, 7)):
        data, upstream = rng.standard_normal((2, channels, 2, 3)), rng.standard_normal(
            (2, channels, 2, 3))
        grads = []
        for lib in (bp, torch):
            x = lib.tensor(data, requires_grad=True)
            (lib.nn.CrossMapLRN2d(size, 0.5, 0.75, 1.5)(x) * lib.tensor(upstream)).sum().backward()
            grads.append(x.grad.numpy())
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)


def test_local_response_norm_is_the_normalised_input() -> None:
    """With one channel the window holds the channel itself: x / (k + alpha x^2) ** beta."""
    x = bp.tensor([[[2.0]]])
    assert F.local_response_norm(x, 1, alpha=0.25, beta=0.5, k=0.0).item() == pytest.approx(2.0)


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.interpolate(bp.ones(1, 1, 4), size=2, scale_factor=0.5), ValueError,
     r"interpolate: size and scale_factor cannot both be given"),
    (lambda: F.interpolate(bp.ones(1, 1, 4), size=2, recompute_scale_factor=True), ValueError,
     r"interpolate: recompute_scale_factor is not meaningful with an explicit size"),
    (lambda: F.interpolate(bp.ones(1, 1, 2, 2), 3, mode="trilinear"), NotImplementedError,
     r"interpolate: got a 4-d input, but mode 'trilinear' needs a 5-d input"),
    (lambda: F.interpolate(bp.ones(1, 1, 2, 2), 3, mode="area", align_corners=False), ValueError,
     r"interpolate: align_corners can only be set with the interpolating modes"),
    (lambda: bp.nn.Upsample(scale_factor=2, mode="bilinear")(bp.ones(1, 1, 2)),
     NotImplementedError, r"mode 'bilinear' needs a 4-d input"),
    (lambda: F.adaptive_max_pool2d(bp.ones(1, 1, 4, 4), (2, 2, 2)), ValueError,
     r"adaptive_max_pool2d: output_size must be an int or a tuple of 2"),
    (lambda: F.adaptive_max_pool1d(bp.ones(1, 1, 4), 0), ValueError,
     r"adaptive_max_pool1d: output_size must be positive"),
    (lambda: F.max_unpool1d(bp.ones(1, 1, 2), bp.ones(1, 1, 2), 2), TypeError,
     r"max_unpool1d: indices must be an integer tensor"),
    (lambda: F.conv3d(bp.ones(2, 3, 3), bp.ones(1, 2, 1, 1, 1)), bp.ShapeError,
     r"conv3d: expected a 4-d \(unbatched\) or 5-d \(batched\) input"),
    (lambda: F.max_pool3d(bp.ones(1, 1, 2, 2, 2), 3), ValueError,
     r"max_pool3d: padding|max_pool3d: the output size"),
    (lambda: F.channel_shuffle(bp.ones(1, 4, 2), 0), ValueError,
     r"channel_shuffle: groups must be positive, got 0"),
    (lambda: F.grid_sample(bp.ones(1, 1, 2, 2), bp.zeros(1, 1, 1, 2), mode="cubic"), ValueError,
     r"grid_sample: mode must be"),
    (lambda: bp.nn.CrossMapLRN2d(3)(bp.ones(1, 3, 2)), bp.ShapeError,
     r"CrossMapLRN2d: expected a 4-d input \(N, C, H, W\), got shape \(1, 3, 2\)"),
    (lambda: F.fold(bp.ones(1, 4, 4), (3, 3), 2, padding=-1), ValueError,
     r"fold: padding must be non-negative"),
])
def test_errors_name_the_function_and_argument(call: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()
