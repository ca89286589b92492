"""Op-table rows for indexing ops: getitem/setitem keys of every kind (gather/scatter, masks:
scatter.py, which shares ``_i``).

Keys travel as sample arguments: a top-level int64 or bool array becomes an index tensor, while
Python values (ints, slices, tuples holding NumPy arrays, lists) reach the op as they are.
"""

from __future__ import annotations

import numpy as np

import backprop as bp
from backprop.ops.indexing import _getitem_backward

from .spec import ErrorInput, OpSpec, Sample, uniform


def _i(*values):
    """An int64 index array (the table passes it as an index tensor without grad)."""
    return np.array(values, dtype=np.int64)


# -- converting keys for PyTorch ----------------------------------------------------------------

def _torch_key(torch, key, shape):
    """The key with NumPy arrays as tensors; a negative-step slice (which PyTorch refuses) becomes
    the equivalent index tensor when it is the key's only advanced index."""
    items = key if isinstance(key, tuple) else (key,)
    converted = []
    for dim, k in enumerate(items):
        if isinstance(k, np.ndarray):
            k = torch.tensor(k)
        elif isinstance(k, slice) and k.step is not None and k.step < 0:
            k = torch.tensor(list(range(shape[dim]))[k])
        converted.append(k)
    return tuple(converted) if isinstance(key, tuple) else converted[0]


def _torch_getitem(torch, x, key):
    return x[_torch_key(torch, key, x.shape)]


def _torch_getitem_backward(torch, grad, shape, key):
    # PyTorch's own VJP of indexing, kept differentiable in grad by create_graph.
    x = torch.zeros(shape, dtype=grad.dtype, requires_grad=True)
    return torch.autograd.grad(x[_torch_key(torch, key, shape)], x, grad, create_graph=True)[0]


# -- getitem / setitem ----------------------------------------------------------------------------

def _getitem_samples(rng):
    a, b = uniform(rng, (3, 4)), uniform(rng, (2, 3, 4))
    return [
        Sample((a, 1), name="int"),
        Sample((a, -1), name="negative-int"),
        Sample((a, (1, 2)), name="scalar"),
        Sample((a, (slice(1, None), slice(None, None, 2))), name="slice-step"),
        Sample((a, (slice(None), slice(None, None, -2))), name="negative-step-numpy"),
        Sample((a, (None, slice(None), 2)), name="none"),
        Sample((b, (Ellipsis, 1)), name="ellipsis"),
        Sample((b, (Ellipsis, None, _i(3, 0))), name="ellipsis-none-array"),
        Sample((a, _i(0, 2, 0)), name="int-tensor-repeats"),
        Sample((a, np.array(1)), name="0d-int-tensor"),
        Sample((a, [2, 0]), name="list"),
        Sample((a, _i([0, 1], [2, 0])), name="2d-index-repeats"),
        Sample((a, (_i(0, 2, 0), _i(1, 1, 1))), name="pairs-repeats"),
        Sample((b, (0, _i(2, -1), slice(None, None, 3))), name="negative-alias-repeats"),
        Sample((a, a > 0), name="bool-mask"),
        Sample((a, (slice(None), np.array([True, False, True, True]))), name="mask-on-dim1"),
        Sample((b, (_i(0, 1), slice(None), slice(1, None))), name="mixed"),
        Sample((b, (_i(0, 1), slice(None), _i(1, 3))), name="separated-arrays"),
    ]


def _getitem_errors():
    x = bp.ones(3, 4)
    return [
        ErrorInput(lambda: x[5], IndexError,
                   r"getitem: index 5 is out of range for dimension 0 with size 3"),
        ErrorInput(lambda: x[:, bp.tensor([0, 4])], IndexError,
                   r"getitem: index 4 is out of range for dimension 1 with size 4"),
        ErrorInput(lambda: x[0, 0, 0], IndexError,
                   r"getitem: too many indices for a tensor of shape \(3, 4\): 3 dimensions "
                   r"indexed, but it has 2"),
        ErrorInput(lambda: x[bp.tensor([True, False])], IndexError,
                   r"getitem: the boolean mask of shape \(2,\) does not match the tensor of "
                   r"shape \(3, 4\) at dimension 0 \(size 3, mask size 2\)"),
        ErrorInput(lambda: x[bp.tensor([0.0, 1.0])], IndexError,
                   r"getitem: tensors used as indices must be integer .* got float32"),
        ErrorInput(lambda: x[[0, 1], [0, 1, 2]], IndexError,
                   r"getitem: index arrays of shapes \(2,\) and \(3,\) cannot be broadcast"),
    ]


def _getitem_backward_samples(rng):
    return [
        Sample((uniform(rng, (3, 4)), (3, 4), (_i(0, 2, 0),)), name="rows-repeat"),
        Sample((uniform(rng, (2, 2)), (3, 4), (slice(1, None), slice(None, None, 2))),
               name="basic"),
        Sample((uniform(rng, (3,)), (3, 4), (_i(0, 0, 1), _i(1, 1, 1))), name="pairs-repeat"),
        Sample((uniform(rng, (2, 2)), (3, 4), (slice(None, 2), _i(3, -1))),
               name="slice-then-aliased"),
        Sample((uniform(rng, (2, 3)), (2, 3, 4), (_i(0, 1), slice(None), _i(1, 3))),
               name="unique"),
    ]


def _np_getitem_backward(grad, shape, key):
    out = np.zeros(shape)
    np.add.at(out, key, grad)
    return out


def _setitem(x, key, value):
    y = x.clone()
    y[key] = value
    return y


def _np_setitem(x, key, value):
    y = x.copy()
    y[key] = value
    return y


def _torch_setitem(torch, x, key, value):
    y = x.clone()
    y[_torch_key(torch, key, x.shape)] = value
    return y


def _setitem_samples(rng):
    a = uniform(rng, (3, 4))
    return [
        Sample((a, 1, uniform(rng, (4,))), name="int"),
        Sample((a, (slice(None), slice(None, None, 2)), uniform(rng, (3, 1))),
               name="broadcast-value"),
        Sample((a, _i(2, 0), uniform(rng, (4,))), name="int-tensor"),
        Sample((a, a > 0, 0.5), name="mask-number"),
        Sample((a, (0, slice(1, 3)), uniform(rng, ())), name="0d-value"),
        Sample((a, 0, uniform(rng, (1, 4))), name="value-leading-one"),
        Sample((a, slice(0, 2), uniform(rng, (2, 4))), grad_args=(2,), name="value-only-grad"),
    ]


def _set_wrong_shape():
    x = bp.zeros(3, 4)
    x[0] = bp.ones(3)


def _set_leaf():
    x = bp.zeros(3, requires_grad=True)
    x[0] = 1.0


def _setitem_errors():
    return [
        ErrorInput(_set_wrong_shape, bp.ShapeError,
                   r"setitem: cannot assign a value of shape \(3,\) to the selected part of a "
                   r"tensor of shape \(3, 4\)"),
        ErrorInput(_set_leaf, bp.GraphError,
                   r"setitem: a leaf tensor that requires grad cannot be modified in place"),
    ]


ROWS = [
    OpSpec("getitem", lambda x, key: x[key], lambda x, key: x[key], _getitem_samples,
           torch=_torch_getitem, error_inputs=_getitem_errors, aliases=("__getitem__",)),
    OpSpec("getitem_backward", _getitem_backward, _np_getitem_backward,
           _getitem_backward_samples, torch=_torch_getitem_backward),
    OpSpec("setitem", _setitem, _np_setitem, _setitem_samples, torch=_torch_setitem,
           error_inputs=_setitem_errors, aliases=("__setitem__",)),
]
