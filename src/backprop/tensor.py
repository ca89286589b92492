"""``Tensor``: an array, its gradient, and the node that made it.

This file holds what is about the tensor itself: construction, conversion, printing and the entry
point to the backward pass. The operators and the methods that are ops are one-line delegations
in ``TensorMethods`` (``tensor_methods.py``), which ``Tensor`` inherits. Loading this file loads
neither the engine (``autograd``) nor the ops: they import it.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, Callable, Iterator, overload

import numpy as np

from . import dtypes
from . import backend
from .backend import as_array
from .capture.state import TRACING as _TRACING, refuse as _refuse_capture
from .errors import DTypeError, GraphError, format_shape
from .layout import check_memory_format, contiguous_format, preserve_format
from .tensor_inplace import InPlaceMethods
from .tensor_methods import TensorMethods
from .tensor_methods_families import FamilyMethods

if TYPE_CHECKING:
    from .autograd.graph import Node


class VersionCounter:
    """Counts in-place changes of a tensor's storage; shared between a tensor and its views."""

    __slots__ = ("value", "last_op")

    def __init__(self) -> None:
        self.value = 0
        self.last_op = ""

    def bump(self, op: str) -> None:
        self.value += 1
        self.last_op = op


class InferenceVersion(VersionCounter):
    """The one "counter" every inference tensor holds (made in ``bp.inference_mode``): it
    counts nothing, as PyTorch's inference tensors keep no version, and its ``bump`` refuses a
    write outside inference mode. Marking tensors through the counter they already carry keeps
    the check off the hot path: ``t._version is INFERENCE``."""

    __slots__ = ()

    def bump(self, op: str) -> None:
        if _fresh_version is None:  # inference mode is off
            raise RuntimeError(f"{op}: Inplace update to inference tensor outside InferenceMode "
                               "is not allowed. You can make a clone to get a normal tensor "
                               "before doing inplace update.")


INFERENCE = InferenceVersion()

# The version a new tensor starts with: None, or INFERENCE inside ``bp.inference_mode`` (a
# module global read by ``_wrap`` costs next to nothing).
_fresh_version: VersionCounter | None = None


def make_inference_tensors(on: bool) -> None:
    """Make new tensors inference tensors (``on``) or normal ones: ``inference_mode``'s switch."""
    global _fresh_version
    _fresh_version = INFERENCE if on else None


class Tensor(TensorMethods, FamilyMethods, InPlaceMethods):
    """An n-dimensional array that can record the operations applied to it.

    >>> import backprop as bp
    >>> x = bp.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.], dtype=float32)
    """

    # ``_view``: for a view, how it was made from its base (``autograd.graph.View``), else None.
    # ``_post_accumulate_hooks`` is set only by the method that registers one (read with a
    # default), so making a tensor, the hot path, does not pay for it.
    __slots__ = ("_data", "grad", "_requires_grad", "_grad_fn", "_output_nr", "_version", "_hooks",
                 "_view", "_post_accumulate_hooks", "__weakref__")

    # NumPy must hand mixed expressions (``array * tensor``) back to Tensor's reflected operators.
    __array_ufunc__ = None
    __array_function__ = None

    def __init__(self, *data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        from .legacy_types import legacy_construct  # noqa: PLC0415 - it imports Tensor

        # torch.Tensor(data) is always the default float dtype, unlike torch.tensor(data), and
        # torch.Tensor(2, 3) is an uninitialised 2x3 tensor.
        made = legacy_construct(data, dtypes.get_default_dtype() if dtype is None else dtype,
                                "Tensor")
        self._init_leaf(made._data, requires_grad)

    def _init_leaf(self, array: Any, requires_grad: bool) -> None:
        """Fill the slots of a new leaf (for constructors; ops use ``_wrap``/``_from_node``)."""
        self._data = array
        self.grad: Tensor | None = None
        self._grad_fn: Node | None = None
        self._output_nr = 0
        self._version: VersionCounter | None = _fresh_version
        self._hooks: list[Callable] | None = None
        self._view: Any = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    # -- internal construction (the hot path: no validation) ------------------------------------

    @classmethod
    def _wrap(cls, array: Any) -> Tensor:
        t = object.__new__(Tensor)
        t._data = array
        t.grad = None
        t._requires_grad = False
        t._grad_fn = None
        t._output_nr = 0
        t._version = _fresh_version
        t._hooks = None
        t._view = None
        return t

    @classmethod
    def _from_node(cls, array: Any, node: Node) -> Tensor:
        """The output of a node with one output."""
        t = object.__new__(Tensor)
        t._data = array
        t.grad = None
        t._requires_grad = True
        t._grad_fn = node
        t._output_nr = 0
        t._version = node.out_version
        t._hooks = None
        t._view = None
        return t

    @classmethod
    def _from_output(cls, array: Any, node: Node, output: int) -> Tensor:
        """Output ``output`` of a node with several outputs (or of one that has one)."""
        if node.n_outputs == 1:
            return cls._from_node(array, node)
        t = cls._from_node(array, node)
        t._output_nr = output
        counters = node.out_version
        t._version = None if counters is None else counters[output]
        return t

    # -- attributes ------------------------------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        if self._view is not None:
            self._refresh_view()
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and not dtypes.is_floating(self._data.dtype):
            raise DTypeError(
                f"requires_grad: only floating-point tensors can require gradients, "
                f"got dtype {self._data.dtype}; convert with .float() first"
            )
        if value and self._version is INFERENCE and _fresh_version is None:
            raise RuntimeError("requires_grad: Setting requires_grad=True on inference tensor "
                               "outside InferenceMode is not allowed; use .clone() to get a "
                               "normal tensor")
        if not value and self.grad_fn is not None:
            raise GraphError("requires_grad: cannot turn off gradients of a non-leaf tensor; "
                             "use .detach() to get a tensor outside the graph")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return ``self``.

        >>> import backprop as bp
        >>> bp.zeros(2).requires_grad_().requires_grad
        True
        """
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self) -> Node | None:
        """The node that made this tensor (None for a leaf).

        A view's history follows its base's: after a write through the base or any of its
        views, the view's node is made anew from the base's (PyTorch regenerates it the same way).
        """
        if self._view is not None:
            self._refresh_view()
        return self._grad_fn

    def _refresh_view(self) -> None:
        """Bring a view's history up to date with its base's (see ``autograd.graph.View``)."""
        view = self._view
        # (a view always shares its base's version counter)
        if view.version != self._version.value:  # type: ignore[union-attr]
            view.refresh(self)

    @property
    def _base(self) -> Tensor | None:
        """The tensor whose storage this view shares (None unless this is a view)."""
        return None if self._view is None else self._view.base

    def is_inference(self) -> bool:
        """Whether this tensor was made inside ``bp.inference_mode`` (or is a view of one).

        >>> import backprop as bp
        >>> with bp.inference_mode():
        ...     x = bp.ones(2)
        >>> x.is_inference(), bp.ones(2).is_inference()
        (True, False)
        """
        return self._version is INFERENCE

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op: their ``.grad`` is filled by backward."""
        return self.grad_fn is None

    @property
    def data(self) -> Tensor:
        """The same storage as a tensor outside the graph (PyTorch's ``.data``)."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value: Tensor | np.ndarray) -> None:
        self._data = value._data if isinstance(value, Tensor) else as_array(value)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def device(self) -> backend.device:
        """Where the values live: ``device(type='cpu')``, ``device(type='cuda', index=0)``.

        >>> import backprop as bp
        >>> bp.zeros(2).device
        device(type='cpu')
        """
        return backend.device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def _version_value(self) -> int:
        return 0 if self._version is None else self._version.value

    @overload
    def size(self, dim: None = None) -> tuple[int, ...]: ...
    @overload
    def size(self, dim: int) -> int: ...

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the length of one dimension.

        >>> import backprop as bp
        >>> bp.zeros(2, 3).size(), bp.zeros(2, 3).size(-1)
        ((2, 3), 3)
        """
        if dim is None:
            return self._data.shape
        from .errors import check_dim  # noqa: PLC0415

        return self._data.shape[check_dim("size", dim, self._data.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel  # PyTorch's older names, kept as aliases there too
    ndimension = dim

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        """(b)float16, float32 or float64 (not complex, as in PyTorch)."""
        return self._data.dtype.kind in "fV"  # V: bfloat16, the one such dtype backprop has

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_signed(self) -> bool:
        """Whether the dtype holds negative numbers (everything but uint8 and bool)."""
        return self._data.dtype.kind not in "bu"

    def is_nonzero(self) -> bool:
        """The truth of a one-element tensor (PyTorch refuses more or fewer elements)."""
        if self._data.size != 1:
            raise RuntimeError(f"is_nonzero: the tensor has {self._data.size} elements; only a "
                               "one-element tensor has a truth value")
        return bool(self._data.reshape(()))

    def is_same_size(self, other: Tensor) -> bool:
        return self._data.shape == other.shape

    # Conjugate and negative bits: PyTorch's lazy forms, which we never make (conj and neg
    # compute at once).
    def is_conj(self) -> bool:
        return False

    def is_neg(self) -> bool:
        return False

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def stride(self, dim: int | None = None) -> Any:
        """Steps between neighbours in each dimension, in elements (PyTorch's unit; NumPy's
        strides are in bytes). A broadcast dimension's stride is 0.

        >>> import backprop as bp
        >>> bp.zeros(2, 3).stride(), bp.zeros(2, 3).t().stride(0)
        ((3, 1), 1)
        """
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        if dim is None:
            return strides
        from .errors import check_dim  # noqa: PLC0415

        return strides[check_dim("stride", dim, self._data.ndim)]

    def data_ptr(self) -> int:
        """The address of the first element (tensors that share memory may share it)."""
        return int(backend.data_address(self._data))

    const_data_ptr = data_ptr

    def share_memory_(self) -> Tensor:
        """Move this tensor's memory into shared memory, values, strides and graph unchanged,
        so processes forked afterwards write into the same memory (Hogwild training; see
        ``backprop.multiprocessing``). A no-op on a GPU, and on memory already shared.

        >>> import backprop as bp
        >>> w = bp.ones(2, requires_grad=True)
        >>> w.share_memory_() is w, w.is_shared(), w.requires_grad
        (True, True, True)
        """
        if backend.device_of(self._data).type == "cpu" and not self.is_shared():
            from ._shared_memory import to_shared  # loaded on first use

            self._data = to_shared(self._data)
        return self

    def is_shared(self) -> bool:
        """Whether this tensor's memory is shared with other processes (after
        ``share_memory_``, or a view of such memory); GPU tensors are, as in PyTorch.

        >>> import backprop as bp
        >>> bp.zeros(2).is_shared()
        False
        """
        if backend.device_of(self._data).type != "cpu":
            return True
        from ._shared_memory import is_shared  # loaded on first use

        return is_shared(self._data)

    def dim_order(self) -> tuple[int, ...]:
        """The dims from the outermost in memory to the innermost (by stride, largest first).

        >>> import backprop as bp
        >>> bp.zeros(2, 3, 4).permute(2, 0, 1).dim_order()
        (1, 2, 0)
        """
        strides = self.stride()
        return tuple(sorted(range(self.ndim), key=lambda d: -strides[d]))

    def to_dense(self, dtype: Any = None) -> Tensor:
        """Itself (every backprop tensor is dense), or a copy in ``dtype``."""
        return self if dtype is None else self.to(dtype)

    def get_device(self) -> int:
        """The GPU's index for a tensor on a GPU, -1 on the CPU (as PyTorch)."""
        index = self.device.index
        return -1 if index is None else index

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    # Devices and layouts backprop does not have: every tensor answers no.
    is_meta = is_mps = is_xla = is_xpu = is_ipu = is_vulkan = is_maia = is_mtia = property(
        lambda self: False)
    is_sparse = is_sparse_csr = is_quantized = is_nested = is_mkldnn = property(
        lambda self: False)

    def is_pinned(self) -> bool:
        """Host memory is never page-locked here (CuPy copies need no pinning to work)."""
        return False

    def pin_memory(self) -> Tensor:
        """Itself: see ``is_pinned`` (``DataLoader(pin_memory=True)`` works unchanged)."""
        return self

    def storage_offset(self) -> int:
        """Where this tensor's first element sits in the memory it shares with its base, in
        elements (0 for a tensor that owns its memory).

        >>> import backprop as bp
        >>> bp.arange(6.0).reshape(2, 3)[1, 1:].storage_offset()
        4
        """
        owner = self._data
        while getattr(owner, "base", None) is not None:
            owner = owner.base
        offset = backend.data_address(self._data) - backend.data_address(owner)
        return offset // self._data.itemsize

    def apply_(self, callable: Callable[[Any], Any]) -> Tensor:
        """Replace each element ``x`` with ``callable(x)``, in place (a Python call an element:
        slow, for small tensors on the CPU, as in PyTorch; not recorded by autograd)."""
        self._map_in_place("apply_", lambda values: [callable(v) for v in values])
        return self

    def map_(self, tensor: Tensor, callable: Callable[[Any, Any], Any]) -> Tensor:
        """Replace each ``x`` with ``callable(x, y)``, ``y`` from ``tensor`` broadcast."""
        other = np.broadcast_to(as_array(tensor), self.shape).reshape(-1).tolist()
        self._map_in_place("map_", lambda values: [callable(*p) for p in zip(values, other)])
        return self

    def _map_in_place(self, op: str, function: Callable[[list], list]) -> None:
        if self.requires_grad:
            raise GraphError(f"{op}: a tensor that requires grad cannot be changed element by "
                             "element by a Python function (autograd could not follow); use "
                             ".detach() or no_grad")
        if self.device.type != "cpu":
            raise RuntimeError(f"{op}: works on CPU tensors only, as in PyTorch")
        values = function(self._data.reshape(-1).tolist())
        self._data[...] = np.asarray(values, dtype=self._data.dtype).reshape(self.shape)
        if self._version is None:
            self._version = VersionCounter()
        self._version.bump(op)

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor in ``other``'s dtype (itself if it already has it)."""
        dtype = other.dtype
        if dtype is self._data.dtype:
            return self
        return self.to(dtype)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    # -- conversion ------------------------------------------------------------------------------

    def item(self) -> Any:
        """The single value of a one-element tensor as a Python number.

        >>> import backprop as bp
        >>> bp.tensor([2.5]).item()
        2.5
        """
        if self._data.size != 1:
            raise ValueError(f"item: a tensor with {self._data.size} elements (shape "
                             f"{format_shape(self._data.shape)}) cannot be converted to a Python "
                             "number; index one element first or reduce it (e.g. .sum())")
        if _TRACING.tracer is not None:
            _refuse_capture("reads a tensor's value in Python (item)")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        if _TRACING.tracer is not None:
            _refuse_capture("reads a tensor's values in Python (tolist)")
        return self._data.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as a NumPy array sharing memory (refused while the tensor requires grad).

        >>> import backprop as bp
        >>> bp.ones(2).numpy()
        array([1., 1.], dtype=float32)
        """
        if self._requires_grad and not force:
            raise GraphError("numpy: can't call numpy() on a tensor that requires grad; "
                             "use tensor.detach().numpy()")
        if _TRACING.tracer is not None:
            _refuse_capture("reads a tensor's values as a NumPy array (numpy)")
        if type(self._data) is not np.ndarray and self.device.type != "cpu":
            if not force:
                raise TypeError(f"numpy: can't convert a tensor on {self.device} to a NumPy "
                                "array; copy it to the host first with .cpu()")
            return backend.to_host(self._data)
        return self._data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if type(self._data) is not np.ndarray and self.device.type != "cpu":
            raise TypeError(f"can't convert a tensor on {self.device} to a NumPy array; copy it "
                            "to the host first with .cpu()")
        if _TRACING.tracer is not None:
            _refuse_capture("reads a tensor's values as a NumPy array (__array__)")
        array = self._data
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(f"bool: the truth value of a tensor with {self._data.size} elements "
                             "is ambiguous; use .any() or .all()")
        if _TRACING.tracer is not None:
            _refuse_capture("branches on a tensor's value (bool)")
        return bool(self._data.reshape(()))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, got {self._data.dtype}")
        return int(self.item())

    def detach(self) -> Tensor:
        """A tensor sharing this one's storage, outside the graph.

        >>> import backprop as bp
        >>> bp.ones(2, requires_grad=True).detach().requires_grad
        False
        """
        t = Tensor._wrap(self._data)
        if self._version is None:
            self._version = VersionCounter()
        t._version = self._version
        return t

    def detach_(self) -> Tensor:
        """Detach in place: this tensor becomes a leaf that does not require grad."""
        if self._view is not None:
            raise GraphError("detach_: can't detach a view in place (its history follows its "
                             "base's); use .detach() instead")
        self._grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        return self

    def contiguous(self, memory_format: Any = contiguous_format) -> Tensor:
        """Itself when already C-contiguous; otherwise a contiguous copy (differentiable)."""
        check_memory_format("contiguous", memory_format)
        if self._data.flags.c_contiguous:
            return self
        return self.clone()

    def is_contiguous(self, memory_format: Any = contiguous_format) -> bool:
        """Whether the data is stored in row-major order (the only format backprop has)."""
        check_memory_format("is_contiguous", memory_format)
        return bool(self._data.flags.c_contiguous)

    def _converted(self, op: str, dtype: np.dtype, memory_format: Any) -> Tensor:
        """``self.to(dtype)`` for the methods named after dtypes (``float``, ``long``, ...)."""
        if self._data.dtype is dtype and memory_format is preserve_format:
            return self  # the common call, ``x.float()`` on a float32 tensor: nothing to check
        check_memory_format(op, memory_format)
        return self.to(dtype)

    def float(self, memory_format: Any = preserve_format) -> Tensor:
        return self._converted("float", dtypes.float32, memory_format)

    def double(self, memory_format: Any = preserve_format) -> Tensor:
        return self._converted("double", dtypes.float64, memory_format)

    def half(self, memory_format: Any = preserve_format) -> Tensor:
        return self._converted("half", dtypes.float16, memory_format)

    def bfloat16(self, memory_format: Any = preserve_format) -> Tensor:
        """This tensor in bfloat16 (needs ml_dtypes: ``pip install 'backprop[bf16]'``)."""
        return self._converted("bfloat16", dtypes.bfloat16_dtype("Tensor.bfloat16"),
                               memory_format)

    def long(self, memory_format: Any = preserve_format) -> Tensor:
        return self._converted("long", dtypes.int64, memory_format)

    def int(self, memory_format: Any = preserve_format) -> Tensor:
        return self._converted("int", dtypes.int32, memory_format)

    def bool(self, memory_format: Any = preserve_format) -> Tensor:
        return self._converted("bool", dtypes.bool, memory_format)

    def byte(self, memory_format: Any = preserve_format) -> Tensor:
        return self._converted("byte", dtypes.uint8, memory_format)

    def char(self, memory_format: Any = preserve_format) -> Tensor:
        return self._converted("char", dtypes.int8, memory_format)

    def short(self, memory_format: Any = preserve_format) -> Tensor:
        return self._converted("short", dtypes.int16, memory_format)

    def cfloat(self, memory_format: Any = preserve_format) -> Tensor:
        return self._converted("cfloat", dtypes.complex64, memory_format)

    def cdouble(self, memory_format: Any = preserve_format) -> Tensor:
        return self._converted("cdouble", dtypes.complex128, memory_format)

    def type(self, dtype: Any = None, non_blocking: builtins.bool = False) -> Any:
        """PyTorch's type name (``'torch.FloatTensor'``), or this tensor converted to ``dtype``
        (a dtype, a legacy type such as ``bp.LongTensor``, or its name).

        >>> import backprop as bp
        >>> bp.ones(2).type(), bp.ones(2).type("torch.LongTensor").dtype == bp.int64
        ('torch.FloatTensor', True)
        """
        from . import legacy_types  # noqa: PLC0415 - it imports Tensor

        if dtype is None:
            return legacy_types.type_name(self)
        return self.to(legacy_types.dtype_of_type(dtype), non_blocking=non_blocking)

    def cpu(self) -> Tensor:
        """This tensor on the host (itself if already there; differentiable).

        >>> import backprop as bp
        >>> bp.ones(2).cpu().device
        device(type='cpu')
        """
        return self.to("cpu")

    def cuda(self, device: Any = None) -> Tensor:
        """This tensor on a GPU: ``cuda:0`` unless ``device`` (an index or a name) says which."""
        return self.to(backend.cuda_device(device))

    # -- autograd --------------------------------------------------------------------------------
    # From here on ``builtins.bool``/``builtins.int``: for a type checker, the methods ``bool()``
    # and ``int()`` above shadow the types.

    def backward(self, gradient: Any = None, retain_graph: builtins.bool | None = None,
                 create_graph: builtins.bool = False, inputs: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        >>> import backprop as bp
        >>> w = bp.tensor([1.0, -2.0], requires_grad=True)
        >>> (w ** 2).sum().backward()
        >>> w.grad.tolist()
        [2.0, -4.0]
        """
        _backward([self], None if gradient is None else [gradient], retain_graph=retain_graph,
                  create_graph=create_graph, inputs=inputs)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _HookHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient.

        >>> import backprop as bp
        >>> x = bp.ones(2, requires_grad=True)
        >>> handle = x.register_hook(lambda g: g * 2)
        >>> x.sum().backward(); x.grad.tolist()
        [2.0, 2.0]
        """
        if not self._requires_grad:
            raise GraphError("register_hook: cannot register a hook on a tensor that doesn't "
                             "require gradient")
        if self.grad_fn is not None:
            entry = self.grad_fn.register_hook(hook, self._output_nr)
            return _HookHandle(self.grad_fn.hooks, entry)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> _HookHandle:
        """Call ``hook(self)`` after backward has added into this leaf's ``.grad`` (to step an
        optimizer per parameter during backward, as PyTorch's tutorial does).

        >>> import backprop as bp
        >>> w = bp.ones(2, requires_grad=True)
        >>> handle = w.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(10))
        >>> (w * 3).sum().backward(); w.grad.tolist()
        [30.0, 30.0]
        """
        if not self._requires_grad or self.grad_fn is not None:
            raise GraphError("register_post_accumulate_grad_hook: only a leaf tensor that "
                             "requires grad accumulates a gradient")
        hooks: list[Callable[[Tensor], None]] | None = getattr(self, "_post_accumulate_hooks",
                                                               None)
        if hooks is None:
            hooks = []
            self._post_accumulate_hooks = hooks
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward."""
        if not self._requires_grad:
            raise GraphError("retain_grad: can't retain_grad on a tensor that doesn't require "
                             "gradients")
        if self.grad_fn is not None and not self.retains_grad:
            self.grad_fn.retain(self, self._output_nr)

    @property
    def retains_grad(self) -> builtins.bool:
        retained = None if self.grad_fn is None else self.grad_fn.retained
        return retained is not None and any(ref() is self for _, ref in retained)

    @property
    def output_nr(self) -> builtins.int:
        """Which output of ``grad_fn`` this tensor is (0 unless its op has several)."""
        return self._output_nr

    # -- printing --------------------------------------------------------------------------------

    def __repr__(self) -> str:
        host = backend.to_host(self._data)
        if host.dtype.kind == "V":  # bfloat16: ml_dtypes' printing ignores precision=
            host = host.astype(np.float32)
        body = np.array2string(host, separator=", ", prefix="tensor(",
                               precision=4, threshold=1000, edgeitems=3)
        extras = [f"dtype={self._data.dtype}"]
        if type(self._data) is not np.ndarray:
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}, {', '.join(extras)})"

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return repr(self)



def _backward(*args: Any, **kwargs: Any) -> None:
    """``autograd.functional.backward``, which imports this module: bound on the first call,
    so later calls pay no import statement."""
    global _backward
    from .autograd.functional import backward  # noqa: PLC0415

    _backward = backward
    backward(*args, **kwargs)

class _HookHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list | None, hook: Any) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hooks is not None and self._hook in self._hooks:
            self._hooks.remove(self._hook)


_TO_KEYWORDS = ("device", "dtype", "non_blocking", "copy", "memory_format")


def requested_conversion(op: str, args: tuple,
                         kwargs: dict[str, Any]) -> tuple[Any, backend.device | None, bool]:
    """The dtype, device (None: unchanged) and copy flag a ``.to(...)`` call asks for, in any of
    PyTorch's forms: ``to(dtype, non_blocking, copy)``, ``to(device, dtype, non_blocking,
    copy)``, ``to(other, non_blocking, copy)``, and the same as keywords, with a keyword-only
    ``memory_format``. ``non_blocking`` changes nothing here: every copy is synchronous."""
    unknown = [name for name in kwargs if name not in _TO_KEYWORDS]
    if unknown:
        raise TypeError(f"{op}: unexpected keyword argument {unknown[0]!r} (expected "
                        f"{', '.join(_TO_KEYWORDS)})")
    check_memory_format(op, kwargs.get("memory_format"))
    dtype = kwargs.get("dtype")
    device = backend.as_device(kwargs.get("device"), op)
    flags = []  # non_blocking, then copy, after the dtype, device or tensor
    for arg in args:
        if isinstance(arg, bool):
            flags.append(arg)
        elif flags:
            raise TypeError(f"{op}: {arg!r} comes after the flags non_blocking and copy; give "
                            "the device and dtype first")
        elif isinstance(arg, Tensor):
            dtype, device = arg.dtype, arg.device
        elif isinstance(arg, (str, backend.device)):
            device = backend.as_device(arg, op)
        elif isinstance(arg, int):
            device = backend.as_device(arg, op)
        elif arg is not None:
            dtype = arg
    if len(flags) > 2:
        raise TypeError(f"{op}: got {len(flags)} flags {flags}; at most two follow the dtype "
                        "or device: non_blocking and copy")
    for name, _ in zip(("non_blocking", "copy"), flags):
        if name in kwargs:
            raise TypeError(f"{op}: {name} is given both by position and as a keyword")
    copy = flags[1] if len(flags) == 2 else kwargs.get("copy", False)
    return dtype, device, copy
