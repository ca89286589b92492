"""``Dropout1d``, ``Dropout3d``, ``AlphaDropout`` and ``FeatureAlphaDropout``."""

from __future__ import annotations

from .dropout import _DropoutNd

__all__ = ["AlphaDropout", "Dropout1d", "Dropout3d", "FeatureAlphaDropout"]


class Dropout1d(_DropoutNd):
    """Zero whole channels of ``(N, C, L)`` (or ``(C, L)``) inputs with probability ``p``
    while training.

    >>> import backprop as bp
    >>> bp.nn.Dropout1d(0.2)
    Dropout1d(p=0.2, inplace=False)
    """

    _fn = "dropout1d"


class Dropout3d(_DropoutNd):
    """Zero whole channels of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) inputs with
    probability ``p`` while training.

    >>> import backprop as bp
    >>> bp.nn.Dropout3d().eval()(bp.ones(1, 1, 1, 1, 2)).flatten().tolist()
    [1.0, 1.0]
    """

    _fn = "dropout3d"


class AlphaDropout(_DropoutNd):
    """Alpha dropout (for SELU networks) while training: the mean and variance are kept.

    >>> import backprop as bp
    >>> bp.nn.AlphaDropout(0.2)
    AlphaDropout(p=0.2, inplace=False)
    """

    _fn = "alpha_dropout"


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels while training.

    >>> import backprop as bp
    >>> bp.nn.FeatureAlphaDropout().eval()(bp.ones(1, 2, 1)).flatten().tolist()
    [1.0, 1.0]
    """

    _fn = "feature_alpha_dropout"
