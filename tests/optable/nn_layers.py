"""Op-table rows for bp.nn.functional: layers."""

from __future__ import annotations

import numpy as np

import backprop as bp
import backprop.nn.functional as F

from .spec import ErrorInput, OpSpec, Sample, uniform

_SEED = 1234


def _torch_f(name):
    return lambda torch, *args, **kwargs: getattr(torch.nn.functional, name)(*args, **kwargs)


# -- linear and bilinear --------------------------------------------------------------------------

def _np_linear(x, w, b=None):
    out = x @ w.T
    return out if b is None else out + b


def _linear_samples(rng):
    return [
        Sample((uniform(rng, (3, 4)), uniform(rng, (2, 4)), uniform(rng, (2,))), name="2d-bias"),
        Sample((uniform(rng, (3, 4)), uniform(rng, (2, 4))), name="no-bias"),
        Sample((uniform(rng, (2, 2, 3)), uniform(rng, (4, 3)), uniform(rng, (4,))), name="3d"),
        Sample((uniform(rng, (3,)), uniform(rng, (2, 3)), uniform(rng, (2,))), name="1d-input"),
        Sample((uniform(rng, (3, 4)), uniform(rng, (2, 4)), uniform(rng, (2,))), grad_args=(1, 2),
               name="input-no-grad"),
    ]


def _linear_errors():
    return [
        ErrorInput(lambda: F.linear(bp.ones(32, 784), bp.ones(10, 100)), bp.ShapeError,
                   r"linear: cannot multiply input of shape \(32, 784\) by the transpose of "
                   r"weight of shape \(10, 100\): input has 784 features \(last dim\) but weight "
                   r"expects 100"),
        ErrorInput(lambda: F.linear(bp.ones(2, 3), bp.ones(4, 3), bp.ones(5)), bp.ShapeError,
                   r"linear: bias of shape \(5,\) does not match weight of shape \(4, 3\): "
                   r"expected shape \(4,\)"),
        ErrorInput(lambda: F.linear(bp.ones(2, 3), bp.ones(1, 4, 3)), bp.ShapeError,
                   r"linear: weight must be 2-D \(out_features, in_features\), got shape "
                   r"\(1, 4, 3\)"),
    ]


def _np_bilinear(x1, x2, w, b=None):
    out = np.einsum("...i,oij,...j->...o", x1, w, x2)
    return out if b is None else out + b


def _bilinear_samples(rng):
    return [Sample((uniform(rng, (2, 3)), uniform(rng, (2, 2)), uniform(rng, (2, 3, 2)),
                    uniform(rng, (2,))), name="bias"),
            Sample((uniform(rng, (3,)), uniform(rng, (2,)), uniform(rng, (1, 3, 2))),
                   name="1d-no-bias")]


def _bilinear_errors():
    return [ErrorInput(lambda: F.bilinear(bp.ones(2, 3), bp.ones(2, 2), bp.ones(4, 2, 2)),
                       bp.ShapeError, r"bilinear: weight of shape \(4, 2, 2\) must be")]


# -- dropout --------------------------------------------------------------------------------------
# PyTorch's random masks cannot be reproduced, so the rows compared with PyTorch use p = 0 and
# training=False (the identity); the seeded rows check the masked op against the mask NumPy draws
# from the same seed (tests/test_nn_functional.py checks the statistics).

def _dropout_identity_samples(rng):
    return [Sample((uniform(rng, (2, 3)),), {"p": 0.0}, name="p0"),
            Sample((uniform(rng, (2, 3)),), {"p": 0.5, "training": False}, name="eval"),
            Sample((uniform(rng, (4,)),), {"p": 1.0, "training": False}, name="eval-p1")]


def _dropout2d_identity_samples(rng):
    return [Sample((uniform(rng, (2, 2, 2, 2)),), {"p": 0.0}, name="p0"),
            Sample((uniform(rng, (1, 2, 3, 2)),), {"p": 0.4, "training": False}, name="eval")]


def _seeded(fn):
    """Call ``fn`` with the default generator seeded, restoring its state afterwards."""
    def call(*args, **kwargs):
        state = bp.default_generator.get_state()
        bp.manual_seed(_SEED)
        try:
            return fn(*args, **kwargs)
        finally:
            bp.default_generator.set_state(state)

    return call


def _np_mask(shape, p):
    if p == 1.0:
        return np.zeros(shape)
    keep = np.random.Generator(np.random.PCG64(_SEED)).random(shape, dtype=np.float32) >= p
    return np.where(keep, 1.0 / (1.0 - p), 0.0)


def _np_dropout(x, p=0.5, training=True, inplace=False):
    return x * _np_mask(x.shape, p)


def _np_dropout2d(x, p=0.5, training=True, inplace=False):
    return x * _np_mask(x.shape[:2] + (1,) * (x.ndim - 2), p)


def _dropout_seeded_samples(rng):
    return [Sample((uniform(rng, (3, 4)),), {"p": 0.5}, name="p0.5"),
            Sample((uniform(rng, (2, 3)),), {"p": 0.2}, name="p0.2"),
            Sample((uniform(rng, (5,)),), {"p": 1.0}, name="p1"),
            Sample((uniform(rng, (2, 3)),), {"p": 0.3, "inplace": True}, name="inplace")]


def _dropout_seeded(name):
    fn = getattr(F, name)

    def call(x, inplace=False, **kwargs):
        return fn(x * 1.0 if inplace else x, inplace=inplace, **kwargs)

    return _seeded(call)


def _dropout2d_seeded_samples(rng):
    return [Sample((uniform(rng, (3, 4, 2)),), {"p": 0.5}, name="3d"),
            Sample((uniform(rng, (2, 3, 2, 2)),), {"p": 0.3, "inplace": True}, name="4d-inplace")]


def _dropout_errors():
    return [ErrorInput(lambda: F.dropout(bp.ones(2), p=1.5), ValueError,
                       r"dropout: dropout probability has to be between 0 and 1, but got 1.5"),
            ErrorInput(lambda: F.dropout(bp.ones(2), p=-0.1, training=False), ValueError,
                       r"dropout: dropout probability has to be between 0 and 1, but got -0.1"),
            ErrorInput(lambda: F.dropout2d(bp.ones(2, 2, 2), p=2.0), ValueError,
                       r"dropout2d: dropout probability has to be between 0 and 1")]


# -- embedding ------------------------------------------------------------------------------------

def _np_embedding(indices, weight, padding_idx=None, max_norm=None, norm_type=2.0,
                  scale_grad_by_freq=False, sparse=False):
    return weight[indices]


def _embedding_samples(rng):
    indices = np.array([[0, 2, 2], [4, 0, 2]], dtype=np.int64)  # repeats add their gradients
    return [Sample((indices, uniform(rng, (5, 3))), name="repeats"),
            Sample((np.array(3, dtype=np.int64), uniform(rng, (4, 2))), name="scalar-index"),
            Sample((np.array([1, 3, 1, 1], dtype=np.int64), uniform(rng, (4, 2))), name="1d")]


def _embedding_option_samples(rng):
    indices = np.array([[0, 2, 2], [4, 0, 2]], dtype=np.int64)
    return [Sample((indices, uniform(rng, (5, 3))), {"padding_idx": 2}, name="padding"),
            Sample((indices, uniform(rng, (5, 3))), {"padding_idx": -1}, name="padding-negative"),
            Sample((indices, uniform(rng, (5, 3))), {"scale_grad_by_freq": True, "padding_idx": 0},
                   name="scale-by-freq")]


def _embedding_errors():
    table = bp.ones(10, 3)
    return [
        ErrorInput(lambda: F.embedding(bp.tensor([1, 10]), table), IndexError,
                   r"embedding: index 10 is out of range for a table of 10 rows \(weight shape "
                   r"\(10, 3\)\); valid indices are 0..9"),
        ErrorInput(lambda: F.embedding(bp.tensor([-1, 2]), table), IndexError,
                   r"embedding: index -1 is out of range for a table of 10 rows"),
        ErrorInput(lambda: F.embedding(bp.tensor([0.0, 1.0]), table), bp.DTypeError,
                   r"embedding: input must be a tensor of integer indices \(long\), got float32"),
        ErrorInput(lambda: F.embedding(bp.tensor([0]), bp.ones(10)), bp.ShapeError,
                   r"embedding: weight must be 2-D \(num_embeddings, embedding_dim\), got shape "
                   r"\(10,\)"),
        ErrorInput(lambda: F.embedding(bp.tensor([0]), table, padding_idx=10), ValueError,
                   r"embedding: padding_idx 10 must be within num_embeddings \(10\)"),
    ]


# -- normalize and distances ----------------------------------------------------------------------

def _np_normalize(x, p=2.0, dim=1, eps=1e-12):
    n = np.sum(np.abs(x) ** p, axis=dim, keepdims=True) ** (1.0 / p)
    return x / np.maximum(n, eps)


def _normalize_samples(rng):
    return [Sample((uniform(rng, (2, 3)),), name="default"),
            Sample((uniform(rng, (3, 2)),), {"p": 1.0, "dim": 0}, name="p1-dim0"),
            Sample((uniform(rng, (2, 2, 3)),), {"dim": -1}, name="3d-last"),
            Sample((uniform(rng, (2, 3)),), {"p": 3.0, "eps": 1e-6}, name="p3")]


def _np_cosine_similarity(x1, x2, dim=1, eps=1e-8):
    x1, x2 = np.broadcast_arrays(x1, x2)
    n1 = np.maximum(np.linalg.norm(x1, axis=dim, keepdims=True), eps)
    n2 = np.maximum(np.linalg.norm(x2, axis=dim, keepdims=True), eps)
    return np.sum((x1 / n1) * (x2 / n2), axis=dim)


def _cosine_samples(rng):
    return [Sample((uniform(rng, (2, 3)), uniform(rng, (2, 3))), name="same-shape"),
            Sample((uniform(rng, (2, 3)), uniform(rng, (1, 3))), name="broadcast"),
            Sample((uniform(rng, (3, 2, 2)), uniform(rng, (3, 2, 2))), {"dim": 0}, name="dim0"),
            Sample((uniform(rng, (4,)), uniform(rng, (4,))), {"dim": 0}, name="vectors")]


def _np_pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    diff = np.abs(x1 - x2 + eps)
    return np.sum(diff ** p, axis=-1, keepdims=keepdim) ** (1.0 / p)


def _pairwise_samples(rng):
    return [Sample((uniform(rng, (2, 3)), uniform(rng, (2, 3))), name="default"),
            Sample((uniform(rng, (2, 3)), uniform(rng, (3,))), {"p": 1.0}, name="p1-broadcast"),
            Sample((uniform(rng, (2, 3)), uniform(rng, (2, 3))), {"keepdim": True, "p": 3.0},
                   name="keepdim-p3")]


def _cosine_errors():
    return [ErrorInput(lambda: F.cosine_similarity(bp.ones(2, 3), bp.ones(2, 4)), bp.ShapeError,
                       r"cosine_similarity: cannot broadcast shapes \(2, 3\) and \(2, 4\)")]


ROWS = [
    OpSpec("linear", F.linear, _np_linear, _linear_samples, torch=_torch_f("linear"),
           error_inputs=_linear_errors),
    OpSpec("bilinear", F.bilinear, _np_bilinear, _bilinear_samples, torch=_torch_f("bilinear"),
           error_inputs=_bilinear_errors),
    OpSpec("dropout", F.dropout, lambda x, **kwargs: x, _dropout_identity_samples,
           torch=_torch_f("dropout"), error_inputs=_dropout_errors),
    OpSpec("dropout", _dropout_seeded("dropout"), _np_dropout, _dropout_seeded_samples,
           torch=None, torch_reason="a random mask: PyTorch's generator draws a different one "
           "(its p=0 and evaluation cases are compared in the row above)"),
    OpSpec("dropout2d", F.dropout2d, lambda x, **kwargs: x, _dropout2d_identity_samples,
           torch=_torch_f("dropout2d")),
    OpSpec("dropout2d", _dropout_seeded("dropout2d"), _np_dropout2d, _dropout2d_seeded_samples,
           torch=None, torch_reason="a random mask: PyTorch's generator draws a different one"),
    OpSpec("embedding", F.embedding, _np_embedding, _embedding_samples,
           torch=_torch_f("embedding"), error_inputs=_embedding_errors,
           aliases=("embedding_backward",)),  # run by the second-derivative tests
    # padding_idx and scale_grad_by_freq change the gradient on purpose (it is no longer the
    # derivative), so finite differences do not apply: forward only here, and the gradients are
    # compared with PyTorch's in tests/test_nn_functional.py.
    OpSpec("embedding", F.embedding, _np_embedding, _embedding_option_samples,
           torch=_torch_f("embedding"), grad=False),
    OpSpec("normalize", F.normalize, _np_normalize, _normalize_samples,
           torch=_torch_f("normalize")),
    OpSpec("cosine_similarity", F.cosine_similarity, _np_cosine_similarity, _cosine_samples,
           torch=_torch_f("cosine_similarity"), error_inputs=_cosine_errors),
    OpSpec("pairwise_distance", F.pairwise_distance, _np_pairwise_distance, _pairwise_samples,
           torch=_torch_f("pairwise_distance")),
]
