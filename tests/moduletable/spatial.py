"""Module-table rows for the spatial layers of issue 16: 3-d convolution and pooling, adaptive
max pooling, unpooling, LP pooling, resampling, fold/unfold, channel shuffle and local response
normalisation."""

from __future__ import annotations

from typing import Any

import numpy as np

import backprop as bp
from moduletable.spec import Case, Const, x


def _pooled(*shape: int) -> Any:
    """Inputs for a MaxUnpool: a 2-wide max pool's values and (constant) indices of a random
    input of ``shape`` (N, C, *spatial), each spatial size even."""
    def inputs(rng: np.random.Generator) -> list:
        values, indices = getattr(bp.nn.functional, f"max_pool{len(shape) - 2}d")(
            bp.tensor(rng.standard_normal(shape)), 2, return_indices=True)
        return [values.numpy(), Const(indices.numpy())]
    return inputs


CASES = [
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
    # PyTorch's CrossMapLRN2d backward is its own formula, not its forward's derivative: the
    # gradients are compared with PyTorch's, finite differences would disagree with both.
    Case("CrossMapLRN2d", lambda l: l.nn.CrossMapLRN2d(5, alpha=0.5, beta=0.6, k=2),
         x(2, 7, 2, 2), gradcheck=False),
]
