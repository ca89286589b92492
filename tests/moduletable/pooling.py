"""Rows: max and average pooling, adaptive pooling, pixel shuffles."""

from __future__ import annotations

from moduletable.spec import Case, x

CASES = [
    Case("MaxPool2d", lambda l: l.nn.MaxPool2d(2), x(2, 3, 4, 6)),
    Case("MaxPool2d-stride-pad", lambda l: l.nn.MaxPool2d(3, stride=2, padding=1),
         x(1, 2, 5, 5)),
    Case("MaxPool2d-ceil-dilation", lambda l: l.nn.MaxPool2d((2, 3), stride=2, dilation=(1, 2),
                                                             ceil_mode=True), x(1, 2, 5, 7)),
    Case("MaxPool2d-indices", lambda l: l.nn.MaxPool2d(2, return_indices=True), x(1, 2, 4, 4)),
    Case("MaxPool1d", lambda l: l.nn.MaxPool1d(3, stride=2, padding=1), x(2, 3, 7)),
    Case("AvgPool1d", lambda l: l.nn.AvgPool1d(3, stride=2, padding=1,
                                               count_include_pad=False), x(2, 3, 7)),
    Case("AvgPool2d", lambda l: l.nn.AvgPool2d(2), x(2, 3, 4, 6)),
    Case("AvgPool2d-pad-exclude", lambda l: l.nn.AvgPool2d(3, stride=2, padding=1,
                                                           count_include_pad=False),
         x(1, 2, 5, 5)),
    Case("AvgPool2d-ceil-divisor", lambda l: l.nn.AvgPool2d(2, ceil_mode=True,
                                                            divisor_override=3), x(1, 2, 5, 5)),
    Case("AdaptiveAvgPool2d", lambda l: l.nn.AdaptiveAvgPool2d((2, 3)), x(2, 3, 5, 7)),
    Case("AdaptiveAvgPool2d-global", lambda l: l.nn.AdaptiveAvgPool2d(1), x(2, 3, 4, 4)),
    Case("AdaptiveAvgPool1d", lambda l: l.nn.AdaptiveAvgPool1d(3), x(2, 3, 7)),
    Case("PixelShuffle", lambda l: l.nn.PixelShuffle(2), x(2, 8, 2, 3)),
    Case("PixelUnshuffle", lambda l: l.nn.PixelUnshuffle(2), x(2, 2, 4, 6)),
]
