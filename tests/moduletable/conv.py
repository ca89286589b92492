"""Rows: 1-D and 2-D convolutions and their transposes."""

from __future__ import annotations

from moduletable.spec import Case, x

CASES = [
    Case("Conv1d", lambda l: l.nn.Conv1d(2, 4, 3), x(2, 2, 7)),
    Case("Conv1d-stride-pad-dil", lambda l: l.nn.Conv1d(2, 4, 3, stride=2, padding=2,
                                                        dilation=2), x(2, 2, 9)),
    Case("Conv1d-groups", lambda l: l.nn.Conv1d(4, 6, 2, groups=2, bias=False), x(2, 4, 5)),
    Case("Conv1d-same", lambda l: l.nn.Conv1d(2, 3, 4, padding="same"), x(2, 2, 6)),
    Case("Conv1d-circular", lambda l: l.nn.Conv1d(2, 3, 3, padding=2,
                                                  padding_mode="circular"), x(1, 2, 5)),
    Case("Conv1d-unbatched", lambda l: l.nn.Conv1d(2, 3, 3), x(2, 6)),
    Case("Conv2d", lambda l: l.nn.Conv2d(3, 4, 3), x(2, 3, 5, 5)),
    Case("Conv2d-stride-padding", lambda l: l.nn.Conv2d(3, 4, (3, 2), stride=(2, 1),
                                                        padding=(1, 0)), x(2, 3, 6, 5)),
    Case("Conv2d-dilation", lambda l: l.nn.Conv2d(2, 3, 3, dilation=2, padding=2),
         x(1, 2, 6, 6)),
    Case("Conv2d-groups", lambda l: l.nn.Conv2d(4, 6, 3, groups=2, bias=False), x(2, 4, 4, 4)),
    Case("Conv2d-depthwise", lambda l: l.nn.Conv2d(3, 6, 3, groups=3, padding=1),
         x(1, 3, 4, 4)),
    Case("Conv2d-all", lambda l: l.nn.Conv2d(4, 2, (2, 3), stride=(1, 2), padding=(2, 1),
                                             dilation=(2, 1), groups=2), x(2, 4, 5, 6)),
    Case("Conv2d-reflect", lambda l: l.nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
         x(1, 2, 4, 5)),
    Case("Conv2d-replicate", lambda l: l.nn.Conv2d(2, 3, 3, padding=(2, 1), stride=2,
                                                   padding_mode="replicate"), x(2, 2, 5, 4)),
    Case("Conv2d-circular", lambda l: l.nn.Conv2d(2, 3, 3, padding=1, groups=1,
                                                  padding_mode="circular"), x(1, 2, 4, 4)),
    Case("Conv2d-reflect-groups-dilation", lambda l: l.nn.Conv2d(
        4, 4, 3, padding=2, dilation=2, groups=2, padding_mode="reflect"), x(1, 4, 5, 5)),
    Case("Conv2d-same-odd", lambda l: l.nn.Conv2d(2, 3, 3, padding="same", dilation=2),
         x(1, 2, 5, 5)),
    Case("Conv2d-same-even", lambda l: l.nn.Conv2d(2, 3, (4, 2), padding="same"),
         x(1, 2, 5, 5)),
    Case("Conv2d-same-reflect", lambda l: l.nn.Conv2d(2, 3, 4, padding="same",
                                                      padding_mode="reflect"), x(1, 2, 5, 6)),
    Case("Conv2d-valid", lambda l: l.nn.Conv2d(2, 3, 2, padding="valid"), x(1, 2, 4, 4)),
    Case("Conv2d-unbatched", lambda l: l.nn.Conv2d(2, 3, 3, padding=1), x(2, 4, 4)),
    Case("ConvTranspose1d", lambda l: l.nn.ConvTranspose1d(2, 3, 3, stride=2, padding=1,
                                                           output_padding=1), x(2, 2, 4)),
    Case("ConvTranspose2d", lambda l: l.nn.ConvTranspose2d(3, 2, 3), x(2, 3, 3, 3)),
    Case("ConvTranspose2d-stride-pad", lambda l: l.nn.ConvTranspose2d(
        3, 2, 3, stride=2, padding=1, output_padding=1), x(1, 3, 3, 4)),
    Case("ConvTranspose2d-groups-dilation", lambda l: l.nn.ConvTranspose2d(
        4, 6, (2, 3), stride=(2, 1), groups=2, dilation=(1, 2), bias=False), x(2, 4, 3, 3)),
    Case("ConvTranspose2d-output-size", lambda l: l.nn.ConvTranspose2d(2, 2, 3, stride=2,
                                                                       padding=1),
         x(1, 2, 3, 3), kwargs=lambda r: {"output_size": [1, 2, 6, 6]}),
]
