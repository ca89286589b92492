"""Rows: the padding modules."""

from __future__ import annotations

from moduletable.spec import Case, x

CASES = [
    Case("ZeroPad1d", lambda l: l.nn.ZeroPad1d((2, 1)), x(2, 3, 4)),
    Case("ZeroPad2d", lambda l: l.nn.ZeroPad2d((1, 1, 2, 0)), x(1, 2, 3, 3)),
    Case("ZeroPad2d-int-unbatched", lambda l: l.nn.ZeroPad2d(1), x(2, 3, 3)),
    Case("ZeroPad2d-negative-crops", lambda l: l.nn.ZeroPad2d((-1, 1, 0, -2)), x(1, 1, 4, 4)),
    Case("ZeroPad3d", lambda l: l.nn.ZeroPad3d((1, 0, 0, 2, 1, 1)), x(1, 1, 2, 2, 2)),
    Case("ConstantPad1d", lambda l: l.nn.ConstantPad1d(2, 3.5), x(2, 4)),
    Case("ConstantPad2d", lambda l: l.nn.ConstantPad2d((0, 1, 2, 3), -1.5), x(1, 2, 3, 3)),
    Case("ConstantPad3d", lambda l: l.nn.ConstantPad3d(1, 2), x(1, 2, 2, 2, 2)),
    Case("ReflectionPad1d", lambda l: l.nn.ReflectionPad1d((3, 1)), x(2, 3, 5)),
    Case("ReflectionPad2d", lambda l: l.nn.ReflectionPad2d((1, 2, 2, 0)), x(2, 2, 3, 4)),
    Case("ReflectionPad2d-int-unbatched", lambda l: l.nn.ReflectionPad2d(1), x(2, 3, 3)),
    Case("ReflectionPad3d", lambda l: l.nn.ReflectionPad3d(1), x(1, 1, 2, 3, 3)),
    Case("ReplicationPad1d", lambda l: l.nn.ReplicationPad1d(2), x(2, 3, 4)),
    Case("ReplicationPad2d", lambda l: l.nn.ReplicationPad2d((2, 0, 1, 3)), x(1, 2, 3, 3)),
    Case("ReplicationPad3d", lambda l: l.nn.ReplicationPad3d((1, 2, 0, 1, 1, 0)),
         x(1, 2, 2, 2, 3)),
    Case("CircularPad1d", lambda l: l.nn.CircularPad1d((1, 2)), x(2, 3, 4)),
    Case("CircularPad2d", lambda l: l.nn.CircularPad2d((1, 0, 2, 1)), x(1, 2, 3, 3)),
    Case("CircularPad3d", lambda l: l.nn.CircularPad3d(1), x(1, 1, 2, 3, 3)),
]
