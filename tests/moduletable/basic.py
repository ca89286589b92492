"""Rows: Linear, Bilinear, Identity, Flatten, Unflatten."""

from __future__ import annotations

from moduletable.spec import Case, x

CASES = [
    Case("Linear", lambda l: l.nn.Linear(4, 3), x(2, 4)),
    Case("Linear-3d-input", lambda l: l.nn.Linear(4, 3), x(2, 5, 4)),
    Case("Linear-unbatched", lambda l: l.nn.Linear(4, 3), x(4)),
    Case("NonDynamicallyQuantizableLinear", lambda l: l.nn.modules.linear.
         NonDynamicallyQuantizableLinear(4, 3), x(2, 4)),
    Case("Linear-no-bias", lambda l: l.nn.Linear(4, 3, bias=False), x(2, 4)),
    Case("Bilinear", lambda l: l.nn.Bilinear(3, 2, 4), lambda r: [r.standard_normal((5, 3)),
                                                                  r.standard_normal((5, 2))]),
    Case("Bilinear-no-bias", lambda l: l.nn.Bilinear(3, 2, 4, bias=False),
         lambda r: [r.standard_normal((5, 3)), r.standard_normal((5, 2))]),
    Case("Identity", lambda l: l.nn.Identity(3, key="ignored"), x(2, 3)),
    Case("Flatten", lambda l: l.nn.Flatten(), x(2, 3, 2, 2)),
    Case("Flatten-0-1", lambda l: l.nn.Flatten(0, 1), x(2, 3, 4)),
    Case("Unflatten", lambda l: l.nn.Unflatten(1, (2, 3)), x(4, 6)),
    Case("Unflatten-minus-one", lambda l: l.nn.Unflatten(-1, (2, -1)), x(4, 6)),
]
