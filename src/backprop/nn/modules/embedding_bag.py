"""``EmbeddingBag``: the sum, mean or max of the embeddings of each bag of indices."""

from __future__ import annotations

from typing import Any

from ...tensor import Tensor
from .. import functional as F
from ..parameter import Parameter
from .embedding import Embedding
from .utils import check_sizes

__all__ = ["EmbeddingBag"]


class EmbeddingBag(Embedding):
    """Reduce (``mode`` 'sum', 'mean' or 'max') the rows of ``weight`` over each bag: each row
    of a 2-D input, or each run of a 1-D input starting at ``offsets``. Parameters and
    initialisation are ``Embedding``'s.

    >>> import backprop as bp
    >>> bag = bp.nn.EmbeddingBag(10, 3, mode="sum")
    >>> bag
    EmbeddingBag(10, 3, mode='sum')
    >>> bag(bp.tensor([1, 2, 4, 5, 4]), bp.tensor([0, 2])).shape
    (2, 3)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Tensor | None = None,
                 include_last_offset: bool = False, padding_idx: int | None = None,
                 device: Any = None, dtype: Any = None) -> None:
        check_sizes("EmbeddingBag", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got {mode!r}")
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                         scale_grad_by_freq, sparse, _weight, device=device, dtype=dtype)
        self.mode = mode
        self.include_last_offset = include_last_offset

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}{self._lookup_options()}"
        text += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,  # type: ignore[override]
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An ``EmbeddingBag`` whose weight is ``embeddings`` (2-D), frozen unless
        ``freeze=False``.

        >>> import backprop as bp
        >>> bag = bp.nn.EmbeddingBag.from_pretrained(bp.tensor([[1., 2.], [3., 4.]]))
        >>> bag(bp.tensor([[0, 1]])).tolist(), bag.weight.requires_grad
        ([[2.0, 3.0]], False)
        """
        if embeddings.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-D, got shape "
                             f"{tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  embeddings, include_last_offset, padding_idx)
        bag.weight = Parameter(embeddings, requires_grad=not freeze)
        return bag
