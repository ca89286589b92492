"""Op-table rows for ``embedding_bag`` (backprop/nn/functional/bags.py), against a NumPy loop
over the bags."""

from __future__ import annotations

import numpy as np

import backprop as bp
import backprop.nn.functional as F

from .spec import ErrorInput, OpSpec, Sample, uniform


def _np_embedding_bag(indices, weight, offsets=None, weights=None, mode="mean",
                      include_last_offset=False, padding_idx=None):
    if indices.ndim == 2:
        bags = [list(range(i * indices.shape[1], (i + 1) * indices.shape[1]))
                for i in range(indices.shape[0])]
        indices = indices.reshape(-1)
        weights = None if weights is None else weights.reshape(-1)
    else:
        starts = list(offsets[:-1] if include_last_offset else offsets)
        ends = list(offsets[1:]) if include_last_offset else starts[1:] + [len(indices)]
        bags = [list(range(s, e)) for s, e in zip(starts, ends)]
    out = np.zeros((len(bags), weight.shape[1]))
    for b, positions in enumerate(bags):
        rows = [weight[indices[i]] * (1.0 if weights is None else weights[i])
                for i in positions if indices[i] != padding_idx]
        if rows:
            out[b] = {"sum": np.sum, "mean": np.mean, "max": np.max}[mode](rows, axis=0)
    return out


def _op(indices, weight, offsets=None, weights=None, **kwargs):
    return F.embedding_bag(indices, weight, offsets, per_sample_weights=weights, **kwargs)


def _torch(torch, indices, weight, offsets=None, weights=None, **kwargs):
    return torch.nn.functional.embedding_bag(indices, weight, offsets,
                                             per_sample_weights=weights, **kwargs)


def _samples(rng):
    flat = np.array([1, 2, 4, 5, 4, 3, 2, 2, 6])
    offsets = np.array([0, 2, 2, 6])
    result = []
    for mode in ("sum", "mean", "max"):
        result += [
            Sample((flat, uniform(rng, (7, 3)), offsets), {"mode": mode}, name=f"{mode}-offsets"),
            Sample((flat, uniform(rng, (7, 3)), np.append(offsets, 9)),
                   {"mode": mode, "include_last_offset": True}, name=f"{mode}-last-offset"),
            Sample((np.array([[1, 2, 4], [5, 4, 2]]), uniform(rng, (7, 3)), None),
                   {"mode": mode, "padding_idx": 2}, name=f"{mode}-2d-padding")]
    result.append(Sample((flat, uniform(rng, (7, 3)), offsets, uniform(rng, (9,))),
                         {"mode": "sum", "padding_idx": 4}, name="per-sample-weights"))
    return result


def _errors():
    table = bp.ones(5, 2)
    return [ErrorInput(lambda: F.embedding_bag(bp.tensor([[0, 1]]), table, bp.tensor([0])),
                       ValueError, r"embedding_bag: if input is 2-D \(1, 2\), offsets has to be "
                       r"None"),
            ErrorInput(lambda: F.embedding_bag(bp.tensor([0, 1]), table), ValueError,
                       r"embedding_bag: offsets has to be a 1-D tensor for a 1-D input"),
            ErrorInput(lambda: F.embedding_bag(bp.tensor([0, 7]), table, bp.tensor([0])),
                       IndexError, r"embedding_bag: indices must be in \[0, 5\)"),
            ErrorInput(lambda: F.embedding_bag(bp.tensor([0, 1]), table, bp.tensor([1])),
                       ValueError, r"embedding_bag: offsets must start at 0"),
            ErrorInput(lambda: F.embedding_bag(bp.tensor([0, 1]), table, bp.tensor([0]),
                                               mode="mean", per_sample_weights=bp.ones(2)),
                       NotImplementedError, r"embedding_bag: per_sample_weights is only "
                       r"supported for mode='sum'"),
            ErrorInput(lambda: F.embedding_bag(bp.tensor([0, 1]), table, bp.tensor([0]),
                                               mode="median"), ValueError,
                       r"embedding_bag: mode has to be one of sum, mean or max")]


ROWS = [OpSpec("embedding_bag", _op, _np_embedding_bag, _samples, torch=_torch, kinks=True,
               error_inputs=_errors)]
