"""``BatchedTensor``: what a function under ``vmap`` sees in place of a batch of inputs.

It holds the *physical* tensor (the whole batch), which of its dims is the batch dim, and the
*level* of the ``vmap`` that made it (1 for the outermost, 2 for one nested in it ...). To the
function it is one example: its shape, ``ndim`` and ``len`` leave the batch dim out. Its methods
are ``Tensor``'s, which call primitives; while a ``vmap`` is active, an observer meets every
such call and applies the op's batching rule to the physical tensors (``vmap.py``).

The physical tensor of a level-2 ``BatchedTensor`` may itself be a level-1 ``BatchedTensor``:
nested maps nest wrappers, and each level's rule sees only its own batch dim.

>>> import backprop as bp
>>> bp.func.vmap(lambda x: bp.tensor(x.shape))(bp.zeros(5, 3)).tolist()
[[3], [3], [3], [3], [3]]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NoReturn

from ..tensor import Tensor


class BatchedTensor(Tensor):
    """A tensor seen by a ``vmap``-ed function: one example of a batch (see the module)."""

    __slots__ = ("_bdim", "_level", "_value")

    # Read with getattr by code that must notice a vmap without importing this package
    # (the losses that precompute a plan from their target's values).
    _batched_by_vmap = True

    def __init__(self, value: Tensor, bdim: int, level: int) -> None:
        self._value = value
        self._bdim = bdim
        self._level = level
        # The innermost physical array: the engine looks at ``_data`` (its type, its device)
        # before the vmap observer takes the call.
        self._data = value._data
        self.grad = None
        self._requires_grad = value._requires_grad
        self._grad_fn = None
        self._output_nr = 0
        self._version = None
        self._hooks = None
        self._view = None

    # -- the logical (one-example) view ----------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        physical = self._value.shape
        return physical[:self._bdim] + physical[self._bdim + 1:]

    @property
    def ndim(self) -> int:
        return self._value.ndim - 1

    def dim(self) -> int:
        return self._value.ndim - 1

    def size(self, dim: int | None = None) -> Any:
        shape = self.shape
        if dim is None:
            return shape
        if not -len(shape) <= dim < max(len(shape), 1):
            raise IndexError(f"size: dim {dim} is out of range for a tensor with "
                             f"{len(shape)} dimensions (under vmap)")
        return shape[dim]

    def numel(self) -> int:
        count = 1
        for n in self.shape:
            count *= n
        return count

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d tensor")
        return shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    @property
    def requires_grad(self) -> bool:
        return self._value.requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        _refuse("requires_grad_()", "use bp.func.grad or vjp inside vmap instead")

    @property  # type: ignore[misc]  # read-only here: vmap's inputs are not reassigned
    def data(self) -> Tensor:
        return BatchedTensor(self._value.data, self._bdim, self._level)

    def detach(self) -> Tensor:
        return BatchedTensor(self._value.detach(), self._bdim, self._level)

    def __repr__(self) -> str:
        return (f"BatchedTensor(lvl={self._level}, bdim={self._bdim}, value=\n"
                f"    {self._value!r})")

    # -- what depends on the values of one example: refused, as in PyTorch -------------------------

    def item(self) -> NoReturn:
        _refuse("item()", "vmap maps over the batch; return the tensor instead")

    def tolist(self) -> NoReturn:
        _refuse("tolist()", "return the tensor instead")

    def numpy(self, *, force: bool = False) -> NoReturn:
        _refuse("numpy()", "return the tensor and convert it outside vmap")

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> NoReturn:
        _refuse("conversion to a NumPy array", "use bp ops on the tensor instead")

    def __bool__(self) -> NoReturn:  # noqa: PLE0304 - it never returns
        _refuse("bool() (data-dependent Python control flow)",
                "use bp.where instead of if/while on tensor values")

    def __float__(self) -> NoReturn:
        _refuse("float()", "keep the value a tensor")

    def __int__(self) -> NoReturn:
        _refuse("int()", "keep the value a tensor")

    def __index__(self) -> NoReturn:  # noqa: PLE0305 - it never returns
        _refuse("use as a Python index", "index with the tensor itself (x[index_tensor])")


def _refuse(what: str, advice: str) -> NoReturn:
    raise RuntimeError(f"vmap: {what} is not supported on a tensor batched by vmap, since its "
                       f"value differs from example to example; {advice}")


def unwrap(x: Any, level: int) -> tuple[Any, int | None]:
    """``(physical tensor, batch dim)`` of ``x`` at ``level``; ``(x, None)`` when ``x`` is not
    batched at that level."""
    if isinstance(x, BatchedTensor) and x._level == level:
        return x._value, x._bdim
    return x, None


def level_of(x: Any) -> int:
    """The level of the innermost vmap that batches ``x`` (0: none)."""
    return x._level if isinstance(x, BatchedTensor) else 0


__all__ = ["BatchedTensor", "level_of", "unwrap"]
