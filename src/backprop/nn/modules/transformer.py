"""The Transformer: encoder and decoder layers, their stacks and ``Transformer`` itself, with
PyTorch's constructor arguments, submodule names (so state dicts move both ways) and numbers.

Each layer is PyTorch's "slow path": attention, residual, LayerNorm, feed-forward. PyTorch's
evaluation fast path computes the same numbers, except that its ``TransformerEncoder`` on nested
tensors (evaluation, no gradient, a left-aligned ``src_key_padding_mask``) returns zeros at the
padded positions before its final norm; ours zeros them in the same conditions, so outputs
match in both modes.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ... import backend
from ...autograd.grad_mode import is_grad_enabled
from ...creation import full
from ...errors import ShapeError, format_shape
from ...ops.elementwise import where
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..functional.attention import _additive_mask
from ..module import Module
from .activation import GELU, ReLU
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .norm import LayerNorm

__all__ = ["Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerEncoderLayer"]

Activation = str | Callable[[Tensor], Tensor]


def _activation(owner: str, activation: Activation) -> Callable[[Tensor], Tensor]:
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"{owner}: activation should be 'relu', 'gelu' or a callable, "
                       f"not {activation!r}")


def _check_heads(owner: str, d_model: int, nhead: int) -> None:
    # MultiheadAttention would refuse too, but under its own name; say which argument to change.
    if nhead <= 0 or d_model % nhead:
        raise ValueError(f"{owner}: nhead ({nhead}) must be a positive divisor of d_model "
                         f"({d_model})")


def _check_d_model(owner: str, name: str, x: Tensor, d_model: int) -> None:
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        raise ShapeError(f"{owner}: {name} must be (S, N, d_model), (N, S, d_model) with "
                         f"batch_first, or unbatched (S, d_model) with d_model={d_model}; got "
                         f"shape {format_shape(x.shape)}")


def _seq_len(x: Tensor, batch_first: bool) -> int:
    return x.shape[1] if batch_first and x.ndim == 3 else x.shape[0]


def _is_causal_mask(mask: Any, is_causal: bool | None, size: int) -> bool:
    """``is_causal=None`` means "find out": True when ``mask`` equals
    ``generate_square_subsequent_mask(size)``; an explicit True or False is kept."""
    if is_causal is not None or mask is None:
        return bool(is_causal)
    values = backend.array_of(mask)
    if values.shape != (size, size):
        return False
    upper = np.triu(np.ones((size, size), bool), 1)
    if values.dtype == np.bool_:
        return bool((backend.to_host(values) == upper).all())
    return bool((backend.to_host(values) == np.where(upper, -np.inf, 0.0)).all())


class _Layer(Module):
    """What encoder and decoder layers share: ``_blocks`` sub-blocks (attention(s), then the
    feed-forward), each with its LayerNorm ``norm<i>`` and dropout ``dropout<i>``. Submodules
    are made in PyTorch's order, which its state dict keys and printout follow."""

    _blocks: int

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Activation = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        blocks = self._blocks
        _check_heads(type(self).__name__, d_model, nhead)
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        if blocks == 3:
            self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                     batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        for i in range(1, blocks + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        for i in range(1, blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(type(self).__name__, activation)
        if blocks == 2:  # PyTorch's encoder layer records 1 for ReLU, 2 for GELU, 0 otherwise
            act = self.activation
            self.activation_relu_or_gelu = (1 if act is F.relu or isinstance(act, ReLU) else
                                            2 if act is F.gelu or isinstance(act, GELU) else 0)

    def _sa_block(self, x: Tensor, attn_mask: Any, key_padding_mask: Any,
                  is_causal: bool) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor, dropout: Module) -> Tensor:
        return dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoderLayer(_Layer):
    """Self-attention then a feed-forward block, each with a residual connection and a
    LayerNorm (after each block, or before it with ``norm_first=True``).

    ``src`` is ``(S, N, d_model)`` (``(N, S, d_model)`` with ``batch_first``, or unbatched
    ``(S, d_model)``). ``src_mask`` (``(S, S)`` or ``(N * nhead, S, S)``) and
    ``src_key_padding_mask`` (``(N, S)``) are bool (True = masked) or float (added);
    ``is_causal`` is a hint that ``src_mask`` is the causal mask.

    >>> import backprop as bp
    >>> layer = bp.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> layer(bp.randn(5, 3, 8)).shape
    (5, 3, 8)
    """

    _blocks = 2

    def forward(self, src: Tensor, src_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        owner = type(self).__name__
        _check_d_model(owner, "src", src, self.self_attn.embed_dim)
        src_key_padding_mask = _additive_mask(owner, "src_key_padding_mask",
                                              src_key_padding_mask, src.dtype)
        src_mask = _additive_mask(owner, "src_mask", src_mask, src.dtype)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x), self.dropout2)
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x, self.dropout2))


class TransformerDecoderLayer(_Layer):
    """Self-attention over ``tgt``, attention from ``tgt`` to ``memory`` (the encoder's
    output), then a feed-forward block; residual connections and LayerNorms as in
    ``TransformerEncoderLayer``.

    >>> import backprop as bp
    >>> layer = bp.nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16,
    ...                                       batch_first=True)
    >>> layer(bp.randn(3, 4, 8), bp.randn(3, 6, 8)).shape
    (3, 4, 8)
    """

    _blocks = 3

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        owner = type(self).__name__
        d_model = self.self_attn.embed_dim
        _check_d_model(owner, "tgt", tgt, d_model)
        _check_d_model(owner, "memory", memory, d_model)
        if memory.ndim != tgt.ndim:
            raise ShapeError(f"{owner}: tgt {format_shape(tgt.shape)} and memory "
                             f"{format_shape(memory.shape)} must both be batched or both "
                             "unbatched")
        dtype = tgt.dtype
        tgt_mask = _additive_mask(owner, "tgt_mask", tgt_mask, dtype)
        memory_mask = _additive_mask(owner, "memory_mask", memory_mask, dtype)
        tgt_key_padding_mask = _additive_mask(owner, "tgt_key_padding_mask",
                                              tgt_key_padding_mask, dtype)
        memory_key_padding_mask = _additive_mask(owner, "memory_key_padding_mask",
                                                 memory_key_padding_mask, dtype)
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x), self.dropout3)
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        return self.norm3(x + self._ff_block(x, self.dropout3))

    def _mha_block(self, x: Tensor, memory: Tensor, attn_mask: Any, key_padding_mask: Any,
                   is_causal: bool) -> Tensor:
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)


def _clones(layer: Module, num_layers: int) -> ModuleList:
    """``num_layers`` independent deep copies of ``layer`` (as PyTorch, the layer given is not
    itself one of them)."""
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


def _why_no_nested_tensor(layer: Module) -> str:
    """Why PyTorch's encoder would not use nested tensors with this layer ('' when it would):
    only then does it zero padded positions in evaluation."""
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{type(layer).__name__} was not TransformerEncoderLayer"
    attn = layer.self_attn
    reasons = [
        (layer.norm_first, "norm_first was True"),
        (not attn.batch_first, "self_attn.batch_first was not True(use batch_first for better "
                               "inference performance)"),
        (not attn._qkv_same_embed_dim, "self_attn._qkv_same_embed_dim was not True"),
        (attn.in_proj_bias is None, "self_attn was passed bias=False"),
        (not layer.activation_relu_or_gelu, "activation_relu_or_gelu was not True"),
        (layer.norm1.eps != layer.norm2.eps, "norm1.eps was not equal to encoder_layer.norm2.eps"),
        (attn.num_heads % 2 == 1, "self_attn.num_heads is odd"),
    ]
    return next((why for failed, why in reasons if failed), "")


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer``, then ``norm`` if given.

    ``mask`` and ``src_key_padding_mask`` go to every layer. ``is_causal=None`` (the default)
    detects a causal ``mask`` as PyTorch does. In evaluation without gradients, with a
    left-aligned ``src_key_padding_mask`` and a layer PyTorch runs on nested tensors
    (``enable_nested_tensor``), padded positions come out as zeros before ``norm``, as in
    PyTorch.

    >>> import backprop as bp
    >>> layer = bp.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> encoder = bp.nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
    >>> encoder(bp.randn(5, 3, 8)).shape
    (5, 3, 8)
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = _why_no_nested_tensor(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because encoder_layer.{why_not}", stacklevel=2)
            self.use_nested_tensor = False

    def forward(self, src: Tensor, mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        owner = type(self).__name__
        src_key_padding_mask = _additive_mask(owner, "src_key_padding_mask",
                                              src_key_padding_mask, src.dtype)
        mask = _additive_mask(owner, "mask", mask, src.dtype)
        batch_first = getattr(getattr(self.layers[0], "self_attn", None), "batch_first", False)
        is_causal = _is_causal_mask(mask, is_causal, _seq_len(src, batch_first))
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=is_causal,
                           src_key_padding_mask=src_key_padding_mask)
        padded = self._nested_padding(src, mask, src_key_padding_mask)
        if padded is not None:
            output = where(padded, 0.0, output)
        if self.norm is not None:
            output = self.norm(output)
        return output

    def _nested_padding(self, src: Tensor, mask: Any, padding: Any) -> Any:
        """The padded positions, ``(N, S, 1)``, where PyTorch's nested-tensor path would
        return zeros; None where it would not take that path."""
        if (not self.use_nested_tensor or self.layers[0].training or src.ndim != 3
                or padding is None or mask is not None):
            return None
        if is_grad_enabled() and (src.requires_grad or any(
                p.requires_grad for p in self.layers[0].parameters())):
            return None
        padded = backend.array_of(padding) != 0  # -inf (or another nonzero) where padded
        if self.mask_check:
            # Left-aligned: no real token after a padded one.
            xp = backend.xp_of(padded)
            if bool((xp.diff(padded.astype(np.int8), axis=-1) < 0).any()):
                return None
        return padded[:, :, None]


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of ``decoder_layer``, then ``norm`` if given;
    ``tgt_is_causal=None`` (the default) detects a causal ``tgt_mask``.

    >>> import backprop as bp
    >>> layer = bp.nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> decoder = bp.nn.TransformerDecoder(layer, num_layers=2)
    >>> decoder(bp.randn(4, 3, 8), bp.randn(6, 3, 8)).shape
    (4, 3, 8)
    """

    def __init__(self, decoder_layer: Module, num_layers: int,
                 norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        batch_first = getattr(getattr(self.layers[0], "self_attn", None), "batch_first", False)
        tgt_is_causal = _is_causal_mask(tgt_mask, tgt_is_causal, _seq_len(tgt, batch_first))
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """An encoder-decoder Transformer ("Attention Is All You Need"): ``src`` is encoded into a
    memory the decoder attends to while reading ``tgt``. Parameters with more than one dim
    start Xavier-uniform, as in PyTorch.

    >>> import backprop as bp
    >>> model = bp.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1,
    ...                           num_decoder_layers=1, dim_feedforward=16)
    >>> tgt_mask = bp.nn.Transformer.generate_square_subsequent_mask(4)
    >>> model(bp.randn(6, 3, 8), bp.randn(4, 3, 8), tgt_mask=tgt_mask).shape
    (4, 3, 8)
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Activation = F.relu,
                 custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        _check_heads(type(self).__name__, d_model, nhead)
        kw = {"device": device, "dtype": dtype}
        layer_options = {"dim_feedforward": dim_feedforward, "dropout": dropout,
                         "activation": activation, "layer_norm_eps": layer_norm_eps,
                         "batch_first": batch_first, "norm_first": norm_first, "bias": bias,
                         **kw}

        def norm() -> LayerNorm:
            return LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)

        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, **layer_options), num_encoder_layers, norm())
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, **layer_options), num_decoder_layers, norm())
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None,
                tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        owner = type(self).__name__
        if src.ndim == 3 and tgt.ndim == 3:
            axis = 0 if self.batch_first else 1
            if src.shape[axis] != tgt.shape[axis]:
                raise ShapeError(f"{owner}: the batch sizes of src {format_shape(src.shape)} "
                                 f"and tgt {format_shape(tgt.shape)} (dim {axis}) must be "
                                 "equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ShapeError(f"{owner}: the feature sizes of src {format_shape(src.shape)} and "
                             f"tgt {format_shape(tgt.shape)} must equal d_model={self.d_model}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None,
                                        dtype: Any = None) -> Tensor:
        """An ``(sz, sz)`` float mask, ``-inf`` above the diagonal and 0 elsewhere: position
        ``i`` may attend to positions ``0..i``.

        >>> import backprop as bp
        >>> bp.nn.Transformer.generate_square_subsequent_mask(3).tolist()
        [[0.0, -inf, -inf], [0.0, 0.0, -inf], [0.0, 0.0, 0.0]]
        """
        return full((sz, sz), -math.inf, dtype=dtype, device=device).triu(1)
