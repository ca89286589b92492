"""Op-table rows for dropout1d, dropout3d, alpha_dropout and feature_alpha_dropout
(backprop/nn/functional/dropout_more.py), in the shape of nn_layers.py's dropout rows: the
identity cases (p = 0, evaluation) against PyTorch, the masked ones against the mask NumPy draws
from the same seed (tests/test_nn_rest.py checks the statistics)."""

from __future__ import annotations

import math

import numpy as np

import backprop as bp
import backprop.nn.functional as F

from .nn_layers import _SEED, _dropout_seeded, _np_mask, _torch_f
from .spec import ErrorInput, OpSpec, Sample, uniform

_ALPHA = 1.7580993408473766


def _channel_shape(x, batched):
    kept = 2 if batched else 1
    return x.shape[:kept] + (1,) * (x.ndim - kept)


def _np_channels(spatial):
    def ref(x, p=0.5, training=True, inplace=False):
        return x * _np_mask(_channel_shape(x, x.ndim == spatial + 2), p)

    return ref


def _np_alpha(feature):
    def ref(x, p=0.5, training=False, inplace=False):
        shape = x.shape[:2] + (1,) * (x.ndim - 2) if feature else x.shape
        keep = np.random.Generator(np.random.PCG64(_SEED)).random(shape, dtype=np.float32) >= p
        a = 1.0 / math.sqrt((_ALPHA ** 2 * p + 1) * (1 - p))
        return np.where(keep, a * x + _ALPHA * a * p, _ALPHA * a * (p - 1))

    return ref


def _identity_samples(shape):
    return lambda rng: [Sample((uniform(rng, shape),), {"p": 0.0, "training": True}, name="p0"),
                        Sample((uniform(rng, shape),), {"p": 0.4, "training": False},
                               name="eval")]


def _masked_samples(batched, unbatched):
    return lambda rng: [
        Sample((uniform(rng, batched),), {"p": 0.5, "training": True}, name="batched"),
        Sample((uniform(rng, unbatched),), {"p": 0.3, "training": True, "inplace": True},
               name="unbatched-inplace")]


def _errors():
    return [ErrorInput(lambda: F.dropout1d(bp.ones(2, 2, 2, 2)), bp.ShapeError,
                       r"dropout1d: expected a 2-D \(C, L\) or 3-D \(N, C, L\) input, got "
                       r"\(2, 2, 2, 2\)"),
            ErrorInput(lambda: F.alpha_dropout(bp.ones(2), p=1.5, training=True), ValueError,
                       r"alpha_dropout: dropout probability has to be between 0 and 1"),
            ErrorInput(lambda: F.feature_alpha_dropout(bp.ones(3), training=True), bp.ShapeError,
                       r"feature_alpha_dropout: input must have a batch and a channel dim")]


_REASON = "a random mask: PyTorch's generator draws a different one"

ROWS = [
    OpSpec("dropout1d", F.dropout1d, lambda x, **kw: x, _identity_samples((2, 3, 4)),
           torch=_torch_f("dropout1d"), error_inputs=_errors),
    OpSpec("dropout1d", _dropout_seeded("dropout1d"), _np_channels(1),
           _masked_samples((3, 4, 2), (4, 3)), torch_reason=_REASON),
    OpSpec("dropout3d", F.dropout3d, lambda x, **kw: x, _identity_samples((1, 2, 2, 1, 2)),
           torch=_torch_f("dropout3d")),
    OpSpec("dropout3d", _dropout_seeded("dropout3d"), _np_channels(3),
           _masked_samples((2, 3, 1, 2, 2), (3, 2, 1, 2)), torch_reason=_REASON),
    OpSpec("alpha_dropout", F.alpha_dropout, lambda x, **kw: x, _identity_samples((2, 3)),
           torch=_torch_f("alpha_dropout")),
    OpSpec("alpha_dropout", _dropout_seeded("alpha_dropout"), _np_alpha(False),
           _masked_samples((3, 4), (5,)), torch_reason=_REASON),
    OpSpec("feature_alpha_dropout", F.feature_alpha_dropout, lambda x, **kw: x,
           _identity_samples((2, 3, 2)), torch=_torch_f("feature_alpha_dropout")),
    OpSpec("feature_alpha_dropout", _dropout_seeded("feature_alpha_dropout"), _np_alpha(True),
           lambda rng: [Sample((uniform(rng, (3, 4, 2)),), {"p": 0.5, "training": True},
                               name="3d"),
                        Sample((uniform(rng, (2, 3, 2, 2)),),
                               {"p": 0.3, "training": True, "inplace": True},
                               name="4d-inplace")], torch_reason=_REASON),
]
