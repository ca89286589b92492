"""``Parameter``: a leaf tensor that a ``Module`` registers as one of its weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module's weight: requires grad by default and is found by
    ``Module.parameters()`` when assigned as a module attribute.

    >>> import backprop as bp
    >>> p = bp.nn.Parameter(bp.zeros(2))
    >>> p.requires_grad, p.is_leaf
    (True, True)
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            array = np.zeros(0, dtype=np.float32)
        elif isinstance(data, Tensor):
            array = data._data  # shares storage, as torch.nn.Parameter does
        else:
            array = np.asarray(data)
        self._init_leaf(array, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def _empty(device: Any, dtype: Any) -> Tensor:
    from ..creation import empty  # creation imports nn lazily elsewhere; keep this one local

    return empty(0, device=device, dtype=dtype)


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (a lazy module's, before its first call);
    ``materialize(shape)`` gives it storage and makes it a ``Parameter``.

    >>> import backprop as bp
    >>> p = bp.nn.UninitializedParameter()
    >>> p.materialize((2, 3)); type(p).__name__, p.shape
    ('Parameter', (2, 3))
    """

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__(_empty(device, dtype), requires_grad)

    def materialize(self, shape: tuple[int, ...], device: Any = None, dtype: Any = None) -> None:
        """Storage of ``shape`` (contents unspecified, as torch.empty's), then the plain
        class."""
        from ..creation import empty

        self.data = empty(*shape, device=device or self.device, dtype=dtype or self.dtype)
        object.__setattr__(self, "__class__", self.cls_to_become)

    def __repr__(self) -> str:
        return "<UninitializedParameter>"


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet; ``materialize(shape)`` makes it a plain tensor.
    ``persistent`` is taken for PyTorch's signature only: whoever registers the buffer decides.

    >>> import backprop as bp
    >>> b = bp.nn.UninitializedBuffer()
    >>> b.materialize((3,)); type(b).__name__
    'Tensor'
    """

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None,
                 persistent: bool = True) -> None:
        self._init_leaf(_empty(device, dtype)._data, requires_grad)

    materialize = UninitializedParameter.materialize

    def __repr__(self) -> str:
        return "<UninitializedBuffer>"


class Buffer(Tensor):
    """A tensor that, assigned as a module attribute, is registered as a buffer (``persistent``:
    saved in ``state_dict``), as ``register_buffer`` would.

    >>> import backprop as bp
    >>> m = bp.nn.Module()
    >>> m.count = bp.nn.Buffer(bp.zeros(1)); m.cache = bp.nn.Buffer(bp.ones(2), persistent=False)
    >>> list(m.state_dict()), [name for name, _ in m.named_buffers()]
    (['count'], ['count', 'cache'])
    """

    __slots__ = ("persistent",)

    def __init__(self, data: Any = None, *, persistent: bool = True) -> None:
        if data is None:
            array = np.zeros(0, dtype=np.float32)
        elif isinstance(data, Tensor):
            array = data._data  # shares storage, as Parameter does
        else:
            array = np.asarray(data)
        self._init_leaf(array, isinstance(data, Tensor) and data.requires_grad)
        self.persistent = persistent
