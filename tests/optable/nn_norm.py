"""Op-table rows for bp.nn.functional: norm."""

from __future__ import annotations

import numpy as np

import backprop as bp
import backprop.nn.functional as F

from .spec import ErrorInput, OpSpec, Sample, uniform


def _torch_f(name):
    return lambda torch, *args, **kwargs: getattr(torch.nn.functional, name)(*args, **kwargs)


def _np_normalize(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def _affine(out, weight, bias):
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


# -- layer_norm and rms_norm ----------------------------------------------------------------------

def _trailing(x, normalized_shape):
    k = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
    return tuple(range(x.ndim - k, x.ndim))


def _torch_trailing(name):
    """PyTorch's functional form wants a tuple for normalized_shape (ours also takes an int,
    as nn.LayerNorm does)."""
    def call(torch, x, normalized_shape, *args, **kwargs):
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        return getattr(torch.nn.functional, name)(x, normalized_shape, *args, **kwargs)

    return call


def _np_layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    return _affine(_np_normalize(x, _trailing(x, normalized_shape), eps), weight, bias)


def _layer_norm_samples(rng):
    return [
        Sample((uniform(rng, (2, 3, 4)), (4,), uniform(rng, (4,)), uniform(rng, (4,))),
               name="last-dim"),
        Sample((uniform(rng, (2, 3, 4)), (3, 4), uniform(rng, (3, 4)), uniform(rng, (3, 4))),
               name="two-dims"),
        Sample((uniform(rng, (3, 5)), 5), name="int-shape-no-affine"),
        Sample((uniform(rng, (4, 3)), [3], uniform(rng, (3,))), {"eps": 0.1}, name="weight-eps"),
        Sample((uniform(rng, (6,)) * 100 + 1000, (6,), uniform(rng, (6,)), uniform(rng, (6,))),
               name="large-offset"),
    ]


def _layer_norm_errors():
    return [
        ErrorInput(lambda: F.layer_norm(bp.ones(2, 3), (4,)), bp.ShapeError,
                   r"layer_norm: normalized_shape \(4,\) does not match the last dimensions of "
                   r"input of shape \(2, 3\): expected input of shape \(\*, 4\)"),
        ErrorInput(lambda: F.layer_norm(bp.ones(3), (2, 3)), bp.ShapeError,
                   r"layer_norm: normalized_shape \(2, 3\) does not match"),
        ErrorInput(lambda: F.layer_norm(bp.ones(2, 3), (3,), bp.ones(4)), bp.ShapeError,
                   r"layer_norm: weight of shape \(4,\) does not match normalized_shape \(3,\): "
                   r"expected shape \(3,\)"),
        ErrorInput(lambda: F.layer_norm(bp.ones(2, 3), (3,), None, bp.ones(2, 3)), bp.ShapeError,
                   r"layer_norm: bias of shape \(2, 3\) does not match normalized_shape"),
    ]


def _np_rms_norm(x, normalized_shape, weight=None, eps=None):
    if eps is None:
        eps = np.finfo(x.dtype).eps
    axes = _trailing(x, normalized_shape)
    out = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    return out if weight is None else out * weight


def _rms_norm_samples(rng):
    return [Sample((uniform(rng, (2, 3, 4)), (4,), uniform(rng, (4,))), name="last-dim"),
            Sample((uniform(rng, (2, 3, 4)), [3, 4], uniform(rng, (3, 4))), name="two-dims"),
            Sample((uniform(rng, (3, 5)), 5), name="no-weight"),
            Sample((uniform(rng, (4, 3)), (3,), uniform(rng, (3,))), {"eps": 0.1}, name="eps")]


def _rms_norm_errors():
    return [ErrorInput(lambda: F.rms_norm(bp.ones(2, 3), (2,)), bp.ShapeError,
                       r"rms_norm: normalized_shape \(2,\) does not match the last dimensions of "
                       r"input of shape \(2, 3\)"),
            ErrorInput(lambda: F.rms_norm(bp.ones(2, 3), 3, bp.ones(2)), bp.ShapeError,
                       r"rms_norm: weight of shape \(2,\) does not match normalized_shape \(3,\)")]


# -- batch_norm and instance_norm -----------------------------------------------------------------
# The running statistics are updated in place, and the table calls each op many times, so the
# ops get copies (tests/test_nn_functional.py checks the updates against PyTorch's).

def _copy(running):
    return None if running is None else running.clone()


def _with_copies(fn):
    return lambda x, running_mean=None, running_var=None, *args, **kwargs: fn(
        x, _copy(running_mean), _copy(running_var), *args, **kwargs)


def _torch_with_copies(name):
    def call(torch, x, running_mean=None, running_var=None, *args, **kwargs):
        return getattr(torch.nn.functional, name)(x, _copy(running_mean), _copy(running_var),
                                                  *args, **kwargs)

    return call


def _channel(param, ndim):
    return None if param is None else param.reshape((-1,) + (1,) * (ndim - 2))


def _np_batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
                   momentum=0.1, eps=1e-5):
    if training:
        out = _np_normalize(x, (0,) + tuple(range(2, x.ndim)), eps)
    else:
        out = (x - _channel(running_mean, x.ndim)) / np.sqrt(_channel(running_var, x.ndim) + eps)
    return _affine(out, _channel(weight, x.ndim), _channel(bias, x.ndim))


def _running(rng, channels):
    return uniform(rng, (channels,), -0.5, 0.5), uniform(rng, (channels,), 0.5, 2.0)


def _batch_norm_samples(rng):
    mean3, var3 = _running(rng, 3)
    mean2, var2 = _running(rng, 2)
    return [
        Sample((uniform(rng, (4, 3)), None, None, uniform(rng, (3,)), uniform(rng, (3,))),
               {"training": True}, name="train-2d"),
        Sample((uniform(rng, (2, 3, 2, 2)), mean3, var3, uniform(rng, (3,)), uniform(rng, (3,))),
               {"training": True, "momentum": 0.2}, grad_args=(0, 3, 4), name="train-4d-running"),
        Sample((uniform(rng, (3, 2, 4)), None, None), {"training": True, "eps": 0.01},
               name="train-3d-no-affine"),
        Sample((uniform(rng, (2, 3, 2, 2)), mean3, var3, uniform(rng, (3,)), uniform(rng, (3,))),
               grad_args=(0, 3, 4), name="eval-4d"),
        Sample((uniform(rng, (4, 2)), mean2, var2), {"training": False}, grad_args=(0,),
               name="eval-2d-no-affine"),
    ]


def _batch_norm_errors():
    x = bp.ones(4, 3, 2)
    return [
        ErrorInput(lambda: F.batch_norm(x, bp.zeros(4), bp.ones(4), training=True), bp.ShapeError,
                   r"batch_norm: running_mean of shape \(4,\) does not match input of shape "
                   r"\(4, 3, 2\) with 3 channels \(dim 1\): expected shape \(3,\)"),
        ErrorInput(lambda: F.batch_norm(x, None, None, bp.ones(2), training=True), bp.ShapeError,
                   r"batch_norm: weight of shape \(2,\) does not match input of shape \(4, 3, 2\) "
                   r"with 3 channels"),
        ErrorInput(lambda: F.batch_norm(bp.ones(1, 3), None, None, training=True), ValueError,
                   r"batch_norm: expected more than 1 value per channel when training, got "
                   r"input of shape \(1, 3\)"),
        ErrorInput(lambda: F.batch_norm(x, None, None), ValueError,
                   r"batch_norm: running_mean and running_var must be given in evaluation mode"),
        ErrorInput(lambda: F.batch_norm(bp.ones(3), None, None, training=True), bp.ShapeError,
                   r"batch_norm: input must be \(N, C, \*\) with at least 2 dims, got shape \(3,\)"),
    ]


def _np_instance_norm(x, running_mean=None, running_var=None, weight=None, bias=None,
                      use_input_stats=True, momentum=0.1, eps=1e-5):
    if use_input_stats:
        out = _np_normalize(x, tuple(range(2, x.ndim)), eps)
    else:
        out = (x - _channel(running_mean, x.ndim)) / np.sqrt(_channel(running_var, x.ndim) + eps)
    return _affine(out, _channel(weight, x.ndim), _channel(bias, x.ndim))


def _instance_norm_samples(rng):
    mean, var = _running(rng, 3)
    return [
        Sample((uniform(rng, (2, 3, 4)), None, None, uniform(rng, (3,)), uniform(rng, (3,))),
               name="affine"),
        Sample((uniform(rng, (2, 3, 2, 2)), mean, var), {"momentum": 0.3}, grad_args=(0,),
               name="running"),
        Sample((uniform(rng, (2, 3, 3)), mean, var, uniform(rng, (3,)), uniform(rng, (3,))),
               {"use_input_stats": False}, grad_args=(0, 3, 4), name="running-stats-used"),
    ]


def _instance_norm_errors():
    return [ErrorInput(lambda: F.instance_norm(bp.ones(2, 3, 1)), ValueError,
                       r"instance_norm: expected more than 1 spatial element when training, got "
                       r"input of shape \(2, 3, 1\)")]


# -- group_norm -----------------------------------------------------------------------------------

def _np_group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    grouped = x.reshape(x.shape[0], num_groups, -1)
    out = _np_normalize(grouped, (2,), eps).reshape(x.shape)
    return _affine(out, _channel(weight, x.ndim), _channel(bias, x.ndim))


def _group_norm_samples(rng):
    return [Sample((uniform(rng, (2, 4, 3)), 2, uniform(rng, (4,)), uniform(rng, (4,))),
                   name="3d"),
            Sample((uniform(rng, (2, 6)), 3), name="2d-no-affine"),
            Sample((uniform(rng, (1, 4, 2, 2)), 4, uniform(rng, (4,))), {"eps": 0.1},
                   name="4d-instance"),
            Sample((uniform(rng, (3, 2, 2)), 1, uniform(rng, (2,)), uniform(rng, (2,))),
                   name="one-group")]


def _group_norm_errors():
    return [ErrorInput(lambda: F.group_norm(bp.ones(2, 6, 4), 4), bp.ShapeError,
                       r"group_norm: the number of channels \(6\) of input of shape \(2, 6, 4\) "
                       r"must be divisible by num_groups \(4\)"),
            ErrorInput(lambda: F.group_norm(bp.ones(2, 6), 3, bp.ones(3)), bp.ShapeError,
                       r"group_norm: weight of shape \(3,\) does not match input of shape \(2, 6\) "
                       r"with 6 channels")]


ROWS = [
    OpSpec("layer_norm", F.layer_norm, _np_layer_norm, _layer_norm_samples,
           torch=_torch_trailing("layer_norm"), error_inputs=_layer_norm_errors),
    OpSpec("rms_norm", F.rms_norm, _np_rms_norm, _rms_norm_samples, torch=_torch_trailing("rms_norm"),
           error_inputs=_rms_norm_errors),
    OpSpec("batch_norm", _with_copies(F.batch_norm), _np_batch_norm, _batch_norm_samples,
           torch=_torch_with_copies("batch_norm"),
           error_inputs=_batch_norm_errors),
    OpSpec("instance_norm", _with_copies(F.instance_norm), _np_instance_norm,
           _instance_norm_samples,
           torch=_torch_with_copies("instance_norm"),
           error_inputs=_instance_norm_errors),
    OpSpec("group_norm", F.group_norm, _np_group_norm, _group_norm_samples,
           torch=_torch_f("group_norm"), error_inputs=_group_norm_errors),
]
