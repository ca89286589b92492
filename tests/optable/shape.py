"""Op-table rows for shape ops."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .spec import ErrorInput, OpSpec, Sample, uniform


def _reshape_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x, (6, 4)), name="merge"), Sample((x, (4, -1)), name="infer"),
            Sample((uniform(rng, ()), (1, 1)), name="scalar")]


def _broadcast_samples(rng):
    return [Sample((uniform(rng, (3,)), (2, 3)), name="rows"),
            Sample((uniform(rng, (2, 1)), (4, 2, 3)), name="lead")]


ROWS = [
    OpSpec("reshape", bp.reshape, np.reshape, _reshape_samples, torch=lambda torch, x, s: x.reshape(s),
           error_inputs=lambda: [ErrorInput(lambda: bp.ones(2, 3).reshape(4), bp.ShapeError,
                                            r"reshape: cannot reshape .* \(2, 3\) \(6 elements\) "
                                            r"into \(4,\)")]),
    OpSpec("broadcast_to", bp.broadcast_to, np.broadcast_to, _broadcast_samples,
           torch=lambda torch, x, s: torch.broadcast_to(x, s),
           error_inputs=lambda: [ErrorInput(lambda: bp.ones(2, 3).broadcast_to((3, 3)),
                                            bp.ShapeError, r"broadcast_to: cannot broadcast")]),
]
