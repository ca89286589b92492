"""The spatial layers of issue 16 (3-d convolution and pooling, adaptive max pooling,
unpooling, LP pooling, resampling, fold/unfold, channel shuffle, local response norm):
behaviour PyTorch users rely on, errors that name the function and the argument, and each
constructor's signature against PyTorch's. Values and gradients against PyTorch per op are in
the op table (tests/optable/spatial.py); per layer in tests/moduletable/spatial.py."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F
import test_nn_modules as layers
from test_nn_modules import Case, Const, x

NEW_MODULES = ["Conv3d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d",
               "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "MaxUnpool1d",
               "MaxUnpool2d", "MaxUnpool3d", "LPPool1d", "LPPool2d", "LPPool3d", "Upsample",
               "UpsamplingNearest2d", "UpsamplingBilinear2d", "Fold", "Unfold",
               "ChannelShuffle", "LocalResponseNorm", "CrossMapLRN2d"]


def _pooled(*shape: int) -> Any:
    """Inputs for a MaxUnpool: a 2-wide max pool's values and (constant) indices of a random
    input of ``shape`` (N, C, *spatial), each spatial size even."""
    def inputs(rng: np.random.Generator) -> list:
        values, indices = getattr(F, f"max_pool{len(shape) - 2}d")(
            bp.tensor(rng.standard_normal(shape)), 2, return_indices=True)
        return [values.numpy(), Const(indices.numpy())]
    return inputs


MODULE_CASES = [
    Case("Conv3d", lambda l: l.nn.Conv3d(2, 3, (2, 3, 2), stride=(1, 2, 1), padding=1),
         x(2, 2, 3, 4, 3)),
    Case("Conv3d-groups-dilation-reflect", lambda l: l.nn.Conv3d(
        4, 2, 2, groups=2, dilation=(1, 2, 1), padding=1, padding_mode="reflect", bias=False),
         x(1, 4, 3, 4, 3)),
    Case("Conv3d-unbatched-same", lambda l: l.nn.Conv3d(2, 2, 3, padding="same"), x(2, 3, 3, 3)),
    Case("ConvTranspose3d", lambda l: l.nn.ConvTranspose3d(2, 3, (2, 2, 3), stride=2, padding=1,
                                                           output_padding=1), x(1, 2, 2, 3, 2)),
    Case("ConvTranspose3d-groups", lambda l: l.nn.ConvTranspose3d(4, 2, 2, groups=2,
                                                                  dilation=2), x(1, 4, 2, 2, 2)),
    Case("MaxPool3d", lambda l: l.nn.MaxPool3d(2, stride=1, padding=1), x(1, 2, 3, 4, 3)),
    Case("MaxPool3d-indices-ceil", lambda l: l.nn.MaxPool3d((2, 2, 3), stride=2, ceil_mode=True,
                                                            return_indices=True),
         x(1, 2, 3, 5, 4)),
    Case("AvgPool3d", lambda l: l.nn.AvgPool3d(2, stride=1, padding=1,
                                               count_include_pad=False), x(1, 2, 3, 4, 3)),
    Case("AvgPool3d-divisor", lambda l: l.nn.AvgPool3d((1, 2, 2), divisor_override=3,
                                                       ceil_mode=True), x(2, 3, 3, 3)),
    Case("AdaptiveAvgPool3d", lambda l: l.nn.AdaptiveAvgPool3d((2, None, 3)), x(1, 2, 3, 4, 5)),
    Case("AdaptiveMaxPool1d", lambda l: l.nn.AdaptiveMaxPool1d(3), x(2, 3, 7)),
    Case("AdaptiveMaxPool2d-indices", lambda l: l.nn.AdaptiveMaxPool2d((2, 3),
                                                                       return_indices=True),
         x(2, 2, 5, 7)),
    Case("AdaptiveMaxPool3d", lambda l: l.nn.AdaptiveMaxPool3d((2, 1, None)), x(1, 2, 3, 3, 2)),
    Case("MaxUnpool1d", lambda l: l.nn.MaxUnpool1d(2), _pooled(2, 2, 6)),
    Case("MaxUnpool2d", lambda l: l.nn.MaxUnpool2d(2), _pooled(1, 2, 4, 6)),
    Case("MaxUnpool2d-output-size", lambda l: l.nn.MaxUnpool2d(2), _pooled(1, 2, 4, 6),
         kwargs=lambda rng: {"output_size": (5, 7)}),
    Case("MaxUnpool3d", lambda l: l.nn.MaxUnpool3d(2), _pooled(1, 1, 2, 4, 2)),
    Case("LPPool1d", lambda l: l.nn.LPPool1d(2, 3, stride=2), lambda r: [
        r.uniform(0.5, 2, (2, 2, 7))]),
    Case("LPPool2d", lambda l: l.nn.LPPool2d(1.5, (2, 3), ceil_mode=True), lambda r: [
        r.uniform(0.5, 2, (1, 2, 5, 5))]),
    Case("LPPool3d", lambda l: l.nn.LPPool3d(3, 2), lambda r: [r.uniform(0.5, 2, (1, 2, 2, 4, 4))]),
    Case("Upsample-nearest", lambda l: l.nn.Upsample(scale_factor=2), x(1, 2, 3, 2)),
    Case("Upsample-nearest-exact-3d", lambda l: l.nn.Upsample(size=(3, 4, 5),
                                                              mode="nearest-exact"),
         x(1, 1, 2, 3, 2)),
    Case("Upsample-linear", lambda l: l.nn.Upsample(scale_factor=1.5, mode="linear"),
         x(2, 2, 4)),
    Case("Upsample-bilinear-align", lambda l: l.nn.Upsample(size=(5, 3), mode="bilinear",
                                                            align_corners=True), x(1, 2, 3, 4)),
    Case("Upsample-bicubic", lambda l: l.nn.Upsample(scale_factor=(1.5, 2), mode="bicubic"),
         x(1, 1, 4, 3)),
    Case("Upsample-trilinear-recompute", lambda l: l.nn.Upsample(
        scale_factor=1.7, mode="trilinear", recompute_scale_factor=True), x(1, 1, 2, 3, 2)),
    Case("Upsample-area", lambda l: l.nn.Upsample(size=(2, 3), mode="area"), x(1, 2, 5, 4)),
    Case("UpsamplingNearest2d", lambda l: l.nn.UpsamplingNearest2d(size=(4, 5)), x(1, 2, 2, 3)),
    Case("UpsamplingBilinear2d", lambda l: l.nn.UpsamplingBilinear2d(scale_factor=2),
         x(1, 2, 2, 3)),
    Case("Fold", lambda l: l.nn.Fold((4, 5), (2, 3), dilation=(1, 2), padding=1, stride=2),
         x(2, 12, 6)),
    Case("Unfold", lambda l: l.nn.Unfold((2, 3), padding=1, stride=(2, 1)), x(2, 2, 4, 5)),
    Case("ChannelShuffle", lambda l: l.nn.ChannelShuffle(3), x(2, 6, 2, 2)),
    Case("LocalResponseNorm", lambda l: l.nn.LocalResponseNorm(3, alpha=0.3, k=1.5),
         x(2, 5, 2, 3)),
    Case("LocalResponseNorm-3d-even", lambda l: l.nn.LocalResponseNorm(4), x(2, 6, 3)),
    Case("CrossMapLRN2d", lambda l: l.nn.CrossMapLRN2d(5, alpha=0.5, beta=0.6, k=2),
         x(2, 7, 2, 2)),
]


@pytest.mark.parametrize("case", MODULE_CASES, ids=lambda c: c.id)
def test_layer_matches_pytorch(torch: Any, case: Case) -> None:
    layers.test_layer_matches_torch(torch, case)


def _parameters(cls: type) -> list[tuple[str, Any]]:
    return [(p.name, p.default) for p in inspect.signature(cls.__init__).parameters.values()]


@pytest.mark.parametrize("name", NEW_MODULES)
def test_constructor_signature_is_pytorchs(torch: Any, name: str) -> None:
    assert _parameters(getattr(bp.nn, name)) == _parameters(getattr(torch.nn, name))


@pytest.mark.parametrize("build", [
    lambda lib: lib.nn.Upsample(scale_factor=2),
    lambda lib: lib.nn.Upsample(size=(2, 3), mode="bilinear", align_corners=True),
    lambda lib: lib.nn.Upsample(scale_factor=(2, 1.5), mode="bicubic"),
    lambda lib: lib.nn.UpsamplingNearest2d(size=4),
    lambda lib: lib.nn.UpsamplingBilinear2d(scale_factor=3),
    lambda lib: lib.nn.Fold((4, 5), (2, 3), stride=2),
    lambda lib: lib.nn.Unfold(3, padding=1),
    lambda lib: lib.nn.MaxUnpool3d(2, 1),
    lambda lib: lib.nn.LPPool2d(1.5, (2, 3)),
    lambda lib: lib.nn.AdaptiveMaxPool2d((2, None), return_indices=True),
    lambda lib: lib.nn.AvgPool3d(2, stride=1, padding=1),
    lambda lib: lib.nn.ConvTranspose3d(2, 4, (1, 2, 3), stride=2, output_padding=1),
    lambda lib: lib.nn.CrossMapLRN2d(3, k=2),
], ids=lambda _: "")
def test_repr_is_pytorchs(torch: Any, build: Any) -> None:
    assert repr(build(bp)) == repr(build(torch))


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
