"""Op-table rows for bp.nn.functional: attention (scaled dot-product and multi-head).

Masks are positional args (bool arrays pass as bool tensors; float masks become tensors and
get a gradient where PyTorch gives one). Dropout is random, so it is tested in
tests/test_nn_attention.py instead.
"""

from __future__ import annotations

import math

import numpy as np

import backprop as bp
import backprop.nn.functional as F

from .spec import ErrorInput, OpSpec, Sample, uniform

# -- scaled dot-product attention -----------------------------------------------------------------

def _np_softmax_rows(scores):
    """Softmax over the last dim; rows that are -inf throughout give zeros (PyTorch's rule)."""
    full = np.all(scores == -np.inf, axis=-1, keepdims=True)
    scores = np.where(full, 0.0, scores)
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return np.where(full, 0.0, e / e.sum(-1, keepdims=True))


def _np_sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
             enable_gqa=False):
    if enable_gqa:
        k = np.repeat(k, q.shape[-3] // k.shape[-3], axis=-3)
        v = np.repeat(v, q.shape[-3] // v.shape[-3], axis=-3)
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if is_causal:
        scores = np.where(np.tril(np.ones(scores.shape[-2:], bool)), scores, -np.inf)
    if attn_mask is not None:
        scores = (np.where(attn_mask, scores, -np.inf) if attn_mask.dtype == bool
                  else scores + attn_mask)
    return _np_softmax_rows(scores) @ v


def _sdpa_samples(rng):
    q, k, v = uniform(rng, (1, 2, 3, 2)), uniform(rng, (1, 2, 4, 2)), uniform(rng, (1, 2, 4, 3))
    bool_mask = np.array([[True, False, True, True], [False, False, False, False],
                          [True, True, False, True]])  # row 1: every key masked -> zeros
    float_mask = uniform(rng, (2, 1, 4))
    inf_mask = uniform(rng, (3, 4))
    inf_mask[0, 1] = -np.inf
    inf_mask[2] = -np.inf
    return [
        Sample((q, k, v), name="heads"),
        Sample((q, k, v), {"scale": 0.3}, name="scale"),
        Sample((q, k, v), {"is_causal": True}, name="causal-L<S"),
        Sample((k, q, q[..., :2]), {"is_causal": True}, name="causal-L>S"),
        Sample((q, k, v, bool_mask), grad_args=(0, 1, 2), name="bool-mask-fully-masked-row"),
        Sample((q, k, v, float_mask), name="float-mask-grad"),
        Sample((q, k, v, inf_mask), grad_args=(0, 1, 2), name="float-mask-inf"),
        Sample((uniform(rng, (3, 2)), uniform(rng, (2, 2)), uniform(rng, (2, 2))),
               name="unbatched-2d"),
        Sample((uniform(rng, (1, 4, 2, 2)), uniform(rng, (1, 2, 3, 2)), uniform(rng, (1, 2, 3, 1))),
               {"enable_gqa": True}, name="gqa"),
    ]


def _sdpa_errors():
    op = "scaled_dot_product_attention"
    q = bp.ones(2, 3, 4)
    return [
        ErrorInput(lambda: F.scaled_dot_product_attention(q, bp.ones(2, 3, 5), q),
                   bp.ShapeError, rf"{op}: query \(2, 3, 4\) and key \(2, 3, 5\) must have the "
                   r"same last dim"),
        ErrorInput(lambda: F.scaled_dot_product_attention(q, q, bp.ones(2, 2, 4)),
                   bp.ShapeError, rf"{op}: key \(2, 3, 4\) and value \(2, 2, 4\) must have the "
                   r"same sequence length"),
        ErrorInput(lambda: F.scaled_dot_product_attention(q, q, q, bp.ones(2, 3, dtype=bp.bool)),
                   bp.ShapeError, rf"{op}: attn_mask of shape \(2, 3\) does not broadcast to "
                   r"the attention scores' shape \(2, 3, 3\)"),
        ErrorInput(lambda: F.scaled_dot_product_attention(q, q, q, bp.ones(3, 3, dtype=bp.int64)),
                   bp.DTypeError, rf"{op}: attn_mask must be bool \(True = attend\) or floating "
                   r"point"),
        ErrorInput(lambda: F.scaled_dot_product_attention(q, q, q, bp.ones(3, 3, dtype=bp.bool),
                                                          is_causal=True),
                   ValueError, rf"{op}: give either attn_mask or is_causal=True, not both"),
        ErrorInput(lambda: F.scaled_dot_product_attention(bp.ones(1, 3, 2, 2),
                                                          bp.ones(1, 2, 2, 2),
                                                          bp.ones(1, 2, 2, 2), enable_gqa=True),
                   bp.ShapeError, rf"{op}: with enable_gqa the query's 3 heads must be a "
                   r"multiple of the key/value heads, 2"),
    ]


# -- multi-head attention ---------------------------------------------------------------------------

E, H = 4, 2


def _np_mha(query, key, value, w, b, ow, ob, key_padding_mask=None, attn_mask=None,
            need_weights=True, average_attn_weights=True, is_causal=False, batch_first=False):
    """Sequence-first reference (batch-first inputs are transposed), packed weights."""
    batched = query.ndim == 3
    if not batched:
        query, key, value = query[:, None], key[:, None], value[:, None]
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask[None]
    elif batch_first:
        query, key, value = (np.swapaxes(x, 0, 1) for x in (query, key, value))
    length, batch, embed = query.shape
    source = key.shape[0]
    hd = embed // H
    q = query @ w[:embed].T + b[:embed]
    k = key @ w[embed:2 * embed].T + b[embed:2 * embed]
    v = value @ w[2 * embed:].T + b[2 * embed:]

    def heads(x):  # (T, N, E) -> (N, H, T, hd)
        return x.reshape(x.shape[0], batch, H, hd).transpose(1, 2, 0, 3)

    q, k, v = heads(q), heads(k), heads(v)
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(hd)
    if attn_mask is not None:
        m = np.where(attn_mask, -np.inf, 0.0) if attn_mask.dtype == bool else attn_mask
        scores = scores + (m if m.ndim == 2 else m.reshape(batch, H, length, source))
    if key_padding_mask is not None:
        scores = scores + np.where(key_padding_mask, -np.inf, 0.0)[:, None, None, :]
    if need_weights:
        e = np.exp(scores - scores.max(-1, keepdims=True))
        weights = e / e.sum(-1, keepdims=True)
    else:
        weights = _np_softmax_rows(scores)
    out = (weights @ v).transpose(2, 0, 1, 3).reshape(length, batch, embed) @ ow.T + ob
    if average_attn_weights:
        weights = weights.mean(1)
    if not batched:
        out, weights = out[:, 0], weights[0]
    elif batch_first:
        out = np.swapaxes(out, 0, 1)
    return (out, weights) if need_weights else out


def _mha_op(q, k, v, w, b, ow, ob, key_padding_mask=None, attn_mask=None, need_weights=True,
            **kw):
    out, weights = F.multi_head_attention(q, k, v, H, w, b, ow, ob, key_padding_mask, attn_mask,
                                          need_weights, **kw)
    return (out, weights) if need_weights else out


def _mha_self_op(x, w, b, ow, ob, *masks, **kw):
    return _mha_op(x, x, x, w, b, ow, ob, *masks, **kw)


def _torch_mha(torch, q, k, v, w, b, ow, ob, key_padding_mask=None, attn_mask=None,
               need_weights=True, average_attn_weights=True, is_causal=False, batch_first=False):
    if batch_first:
        q, k, v = (x.transpose(0, 1) for x in (q, k, v))
    out, weights = torch.nn.functional.multi_head_attention_forward(
        q, k, v, E, H, w, b, None, None, False, 0.0, ow, ob, key_padding_mask=key_padding_mask,
        need_weights=need_weights, attn_mask=attn_mask, average_attn_weights=average_attn_weights,
        is_causal=is_causal)
    if batch_first:
        out = out.transpose(0, 1)
    return (out, weights) if need_weights else out


def _mha_samples(rng):
    def params():
        return (uniform(rng, (3 * E, E), -1, 1), uniform(rng, (3 * E,), -1, 1),
                uniform(rng, (E, E), -1, 1), uniform(rng, (E,), -1, 1))

    q, k, v = uniform(rng, (2, 2, E)), uniform(rng, (3, 2, E)), uniform(rng, (3, 2, E))
    padding = np.array([[False, False, True], [False, True, False]])
    bool_mask = np.array([[False, True, False], [False, False, True]])
    return [
        Sample((q, k, v) + params(), name="basic"),
        Sample((q, k, v) + params() + (padding, bool_mask), {"average_attn_weights": False},
               grad_args=tuple(range(7)), name="masks-per-head"),
        Sample((q, k, v) + params() + (None, uniform(rng, (2 * H, 2, 3))),
               {"need_weights": False}, name="float-mask-3d-sdpa-path"),
        Sample((np.swapaxes(q, 0, 1).copy(), np.swapaxes(k, 0, 1).copy(),
                np.swapaxes(v, 0, 1).copy()) + params(), {"batch_first": True},
               name="batch-first"),
        Sample((q[:, 0], k[:, 0], v[:, 0]) + params() + (padding[0],),
               grad_args=tuple(range(7)), name="unbatched"),
    ]


def _mha_self_samples(rng):
    x = uniform(rng, (3, 1, E))
    causal = np.triu(np.ones((3, 3), bool), 1)
    w = (uniform(rng, (3 * E, E), -1, 1), uniform(rng, (3 * E,), -1, 1),
         uniform(rng, (E, E), -1, 1), uniform(rng, (E,), -1, 1))
    return [Sample((x,) + w + (None, causal), {"is_causal": True}, grad_args=tuple(range(5)),
                   name="self-causal-weights"),
            Sample((x,) + w + (None, causal), {"is_causal": True, "need_weights": False},
                   grad_args=tuple(range(5)), name="self-causal-sdpa")]


def _np_mha_self(x, w, b, ow, ob, *masks, **kw):
    return _np_mha(x, x, x, w, b, ow, ob, *masks, **kw)


def _torch_mha_self(torch, x, w, b, ow, ob, *masks, **kw):
    return _torch_mha(torch, x, x, x, w, b, ow, ob, *masks, **kw)


def _mha_errors():
    op = "multi_head_attention"
    x = bp.ones(3, 2, E)
    w, b, ow, ob = bp.ones(3 * E, E), bp.ones(3 * E), bp.ones(E, E), bp.ones(E)

    def call(*args, **kw):
        return lambda: F.multi_head_attention(*args, **kw)

    return [
        ErrorInput(call(bp.ones(3, E, 1, 1), x, x, H, w, b, ow, ob), bp.ShapeError,
                   rf"{op}: query must be \(L, N, E\)"),
        ErrorInput(call(x, x, x, 3, w, b, ow, ob), bp.ShapeError,
                   rf"{op}: embed_dim 4 is not divisible by num_heads 3"),
        ErrorInput(call(x, x, x, H, w, b, ow, ob, attn_mask=bp.ones(3, 4, dtype=bp.bool)),
                   bp.ShapeError, rf"{op}: attn_mask of shape \(3, 4\) must be \(L, S\) = "
                   r"\(3, 3\)"),
        ErrorInput(call(x, x, x, H, w, b, ow, ob, key_padding_mask=bp.ones(3, 2, dtype=bp.bool)),
                   bp.ShapeError, rf"{op}: key_padding_mask of shape \(3, 2\) must be \(N, S\) "
                   r"= \(2, 3\)"),
        ErrorInput(call(x, x, x, H, bp.ones(2 * E, E), b, ow, ob), bp.ShapeError,
                   rf"{op}: in_proj_weight of shape \(8, 4\) must be \(3 \* embed_dim, "
                   r"embed_dim\) = \(12, 4\)"),
        ErrorInput(call(x, x, x, H, w, b, ow, ob, is_causal=True), ValueError,
                   rf"{op}: is_causal=True is a hint that attn_mask is the causal mask"),
        ErrorInput(call(x, bp.ones(3, 2, 3), bp.ones(3, 2, 3), H, w, b, ow, ob), bp.ShapeError,
                   rf"{op}: key \(3, 2, 3\) and value \(3, 2, 3\) must have the query's "
                   r"embedding size 4"),
        ErrorInput(call(x, x, x, H, w, b, ow, ob, attn_mask=bp.ones(3, 3, dtype=bp.int64)),
                   bp.DTypeError, rf"{op}: attn_mask must be bool \(True = masked\) or floating"),
    ]


def _mha_forward_samples(rng):
    x, k = uniform(rng, (2, 1, E)), uniform(rng, (3, 1, E))
    return [Sample((x, k, k, uniform(rng, (3 * E, E), -1, 1), uniform(rng, (3 * E,), -1, 1),
                    uniform(rng, (1, 1, E)), uniform(rng, (1, 1, E)), uniform(rng, (E, E), -1, 1),
                    uniform(rng, (E,), -1, 1)), name="bias-kv-zero-attn")]


def _mha_forward_op(q, k, v, w, b, bias_k, bias_v, ow, ob):
    return F.multi_head_attention_forward(q, k, v, E, H, w, b, bias_k, bias_v, True, 0.0, ow, ob)


def _torch_mha_forward(torch, q, k, v, w, b, bias_k, bias_v, ow, ob):
    return torch.nn.functional.multi_head_attention_forward(q, k, v, E, H, w, b, bias_k, bias_v,
                                                            True, 0.0, ow, ob)


def _np_mha_forward(q, k, v, w, b, bias_k, bias_v, ow, ob):
    """bias_k/bias_v append one key/value after projection; add_zero_attn a zero one after
    splitting heads: both come out as extra key columns of the scores."""
    length, batch, embed = q.shape
    hd = embed // H
    qp = q @ w[:embed].T + b[:embed]
    kp = np.concatenate([k @ w[embed:2 * embed].T + b[embed:2 * embed],
                         np.broadcast_to(bias_k, (1, batch, embed))])
    vp = np.concatenate([v @ w[2 * embed:].T + b[2 * embed:],
                         np.broadcast_to(bias_v, (1, batch, embed))])

    def heads(x):
        return x.reshape(x.shape[0], batch, H, hd).transpose(1, 2, 0, 3)

    qh, kh, vh = heads(qp), heads(kp), heads(vp)
    zeros = np.zeros(kh.shape[:2] + (1, hd))
    kh, vh = np.concatenate([kh, zeros], 2), np.concatenate([vh, zeros], 2)
    scores = qh @ np.swapaxes(kh, -1, -2) / math.sqrt(hd)
    weights = _np_softmax_rows(scores)
    out = (weights @ vh).transpose(2, 0, 1, 3).reshape(length, batch, embed) @ ow.T + ob
    return out, weights.mean(1)


ROWS = [
    OpSpec("scaled_dot_product_attention", F.scaled_dot_product_attention, _np_sdpa,
           _sdpa_samples,
           torch=lambda torch, *a, **k: torch.nn.functional.scaled_dot_product_attention(*a, **k),
           error_inputs=_sdpa_errors),
    OpSpec("multi_head_attention", _mha_op, _np_mha, _mha_samples, torch=_torch_mha,
           error_inputs=_mha_errors),
    OpSpec("multi_head_attention", _mha_self_op, _np_mha_self, _mha_self_samples,
           torch=_torch_mha_self),
    OpSpec("multi_head_attention_forward", _mha_forward_op, _np_mha_forward,
           _mha_forward_samples, torch=_torch_mha_forward),
]
