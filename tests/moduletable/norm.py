"""Rows: batch, instance, layer, group and RMS normalisation."""

from __future__ import annotations

from moduletable.spec import Case, x

CASES = [
    Case("BatchNorm1d-2d-input", lambda l: l.nn.BatchNorm1d(3), x(6, 3)),
    Case("BatchNorm1d-3d-input", lambda l: l.nn.BatchNorm1d(3, momentum=None), x(4, 3, 5)),
    Case("BatchNorm2d", lambda l: l.nn.BatchNorm2d(3), x(2, 3, 3, 4)),
    Case("BatchNorm2d-no-affine", lambda l: l.nn.BatchNorm2d(3, affine=False, eps=1e-3),
         x(2, 3, 2, 2)),
    Case("BatchNorm2d-no-bias", lambda l: l.nn.BatchNorm2d(3, bias=False), x(2, 3, 2, 2)),
    Case("BatchNorm2d-untracked", lambda l: l.nn.BatchNorm2d(3, track_running_stats=False),
         x(2, 3, 2, 2)),
    Case("BatchNorm2d-eval", lambda l: l.nn.BatchNorm2d(3), x(2, 3, 2, 2), train=False),
    Case("BatchNorm2d-untracked-eval", lambda l: l.nn.BatchNorm2d(3, track_running_stats=False),
         x(2, 3, 2, 2), train=False),
    Case("BatchNorm3d", lambda l: l.nn.BatchNorm3d(2), x(2, 2, 2, 2, 3)),
    Case("InstanceNorm3d", lambda l: l.nn.InstanceNorm3d(2, affine=True), x(2, 2, 2, 3, 2)),
    Case("InstanceNorm1d", lambda l: l.nn.InstanceNorm1d(3), x(2, 3, 5)),
    Case("InstanceNorm2d-affine-tracked", lambda l: l.nn.InstanceNorm2d(
        3, affine=True, track_running_stats=True), x(2, 3, 3, 3)),
    Case("InstanceNorm2d-unbatched", lambda l: l.nn.InstanceNorm2d(3, affine=True),
         x(3, 3, 3)),
    Case("LayerNorm", lambda l: l.nn.LayerNorm(4), x(3, 4)),
    Case("LayerNorm-2d-shape", lambda l: l.nn.LayerNorm((3, 4), eps=1e-3), x(2, 3, 4)),
    Case("LayerNorm-no-affine", lambda l: l.nn.LayerNorm(4, elementwise_affine=False),
         x(2, 3, 4)),
    Case("LayerNorm-no-bias", lambda l: l.nn.LayerNorm([4], bias=False), x(3, 4)),
    Case("GroupNorm", lambda l: l.nn.GroupNorm(2, 4), x(2, 4, 3)),
    Case("GroupNorm-no-affine", lambda l: l.nn.GroupNorm(3, 6, eps=1e-3, affine=False),
         x(2, 6, 2, 2)),
    Case("GroupNorm-no-bias", lambda l: l.nn.GroupNorm(1, 4, bias=False), x(2, 4, 3)),
    Case("RMSNorm", lambda l: l.nn.RMSNorm(4), x(3, 4)),
    Case("RMSNorm-2d-eps", lambda l: l.nn.RMSNorm((3, 4), eps=1e-6), x(2, 3, 4)),
    Case("RMSNorm-no-affine", lambda l: l.nn.RMSNorm(4, elementwise_affine=False), x(3, 4)),
]
