"""Primitives: an array-level forward beside its vector-Jacobian products, and one registry.

A primitive is called like a function. Given no Tensor it computes on raw arrays and returns an
array: that is how VJPs run during a plain backward pass, building no graph. Given Tensors it
returns a Tensor and, when grad is enabled and an input requires it, records a ``Node``. Because
VJPs are written with primitives and operators, the same VJP code runs on Tensors under
``create_graph=True``, which gives gradients of gradients without a second set of rules.

>>> import numpy as np
>>> import backprop as bp
>>> bp.exp(np.zeros(2))           # raw arrays in, array out
array([1., 1.])
>>> bp.exp(bp.zeros(2, requires_grad=True)).grad_fn
<ExpBackward>
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from ..autograd import grad_mode
from ..autograd.graph import Meta, Node, VersionCounter
from ..backend import as_array, check_same_device
from ..errors import DimError, DTypeError, ShapeError, format_shape
from ..tensor import Tensor

# Every primitive by name; the op-table tests check that each differentiable one is exercised.
PRIMITIVES: dict[str, Primitive] = {}

_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)


class Primitive:
    """An op's forward on arrays plus one VJP per positional input (see ``defvjp``)."""

    __slots__ = ("name", "forward", "vjps", "varargs_vjp", "save", "save_out", "saves_values",
                 "view", "differentiable", "explain", "backward_name", "__wrapped__", "__dict__")

    def __init__(self, name: str, forward: Callable, *, save: tuple[int, ...], save_out: bool,
                 view: bool, differentiable: bool, explain: Callable | None) -> None:
        self.name = name
        self.forward = forward
        self.vjps: tuple[Callable, ...] = ()
        self.varargs_vjp: Callable | None = None
        self.save = save
        self.save_out = save_out
        self.saves_values = bool(save) or save_out
        self.view = view
        self.differentiable = differentiable
        self.explain = explain
        self.backward_name = "".join(part.capitalize() for part in name.split("_")) + "Backward"
        self.__doc__ = forward.__doc__
        self.__wrapped__ = forward

    def defvjp(self, *vjps: Callable) -> None:
        """Give one VJP per positional input: ``vjp(g, out, *inputs, **params) -> grad``."""
        self.vjps = vjps

    def defvjp_varargs(self, vjp: Callable) -> None:
        """Give one VJP for ops over a variable number of inputs: ``vjp(i, g, out, *inputs)``."""
        self.varargs_vjp = vjp

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def __call__(self, *args: Any, **params: Any) -> Any:
        raw = list(args)
        requires_grad = on_device = False
        first_type = None  # of the first tensor's array; None: no tensor among the arguments
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                data = raw[i] = a._data
                if a._requires_grad:
                    requires_grad = True
                if type(data) is not first_type:
                    if first_type is None:
                        first_type = type(data)
                    else:
                        on_device = True
                elif first_type is not np.ndarray:
                    on_device = True
            elif isinstance(a, np.generic):
                # NumPy scalars promote like arrays (float32 * np.float64 -> float64); PyTorch
                # treats them as Python numbers.
                raw[i] = a.item()
        if first_type is None:
            return self.forward(*args, **params)
        if on_device:  # two tensors, at least one not on the CPU: they must share a device
            check_same_device(self.name, [a._data for a in args if isinstance(a, Tensor)])
        try:
            out = self.forward(*raw, **params)
        except (ValueError, TypeError, IndexError) as err:
            raise self._clear_error(err, raw, params) from None
        if type(out) is not np.ndarray:
            out = as_array(out)
        if out.dtype is _F64 and not _any_float64(raw):
            # NumPy turns int / int and exp(int) into float64; PyTorch gives the default float32.
            out = out.astype(_F32)
        if (requires_grad and grad_mode.state.enabled and self.differentiable
                and out.dtype.kind in "fc"):
            result = Tensor._from_node(out, self._record(args, out, params))
        else:
            result = Tensor._wrap(out)
        if self.view:
            _share_version(result, args[0])
        return result

    def _record(self, args: tuple, out: Any, params: dict) -> Node:
        edges = []
        inputs = []
        if not self.saves_values:  # most ops: shapes and dtypes only, no version bookkeeping
            for a in args:
                if isinstance(a, Tensor):
                    edges.append((a.grad_fn or a) if a._requires_grad else None)
                    data = a._data
                    inputs.append(Meta(data.shape, data.dtype))
                else:
                    edges.append(None)
                    inputs.append(a)
            return Node(self, tuple(edges), tuple(inputs), None, None, None, params)
        versions: list[int | None] = []
        save = self.save
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                edges.append((a.grad_fn or a) if a._requires_grad else None)
                if i in save:
                    inputs.append(a)
                    if a._version is None:
                        a._version = VersionCounter()
                    versions.append(a._version.value)
                else:
                    data = a._data
                    inputs.append(Meta(data.shape, data.dtype))
                    versions.append(None)
            else:
                edges.append(None)
                inputs.append(a)
                versions.append(None)
        out_version = None
        if self.save_out:
            out_version = VersionCounter()
            versions.append(0)
        return Node(self, tuple(edges), tuple(inputs), tuple(versions),
                    out if self.save_out else None, out_version, params)

    def _clear_error(self, err: Exception, raw: list, params: dict) -> Exception:
        """Turn NumPy's message into one naming this op, its arguments and their shapes."""
        if isinstance(err, (ShapeError, DimError, DTypeError)):
            return err  # raised by our own forward: already clear
        if self.explain is not None:
            explained = self.explain(err, *raw, **params)
            if explained is not None:
                return explained
        shapes = [np.shape(a) for a in raw if hasattr(a, "shape")]
        if isinstance(err, np.exceptions.AxisError):
            dim = params.get("dim", params.get("axis", getattr(err, "axis", None)))
            ndim = max((len(s) for s in shapes), default=0)
            return DimError(f"{self.name}: dim {dim} is out of range for a tensor with {ndim} "
                            f"dimensions (expected a value in [{-max(ndim, 1)}, {max(ndim, 1) - 1}])")
        if len(shapes) > 1:
            try:
                np.broadcast_shapes(*shapes)
            except ValueError:
                listed = " and ".join(format_shape(s) for s in shapes)
                return ShapeError(f"{self.name}: cannot broadcast shapes {listed}: each dimension "
                                  "must be equal or 1 (counting from the right)")
        described = ", ".join(f"{format_shape(np.shape(a))} {getattr(a, 'dtype', type(a).__name__)}"
                              for a in raw if hasattr(a, "shape"))
        return type(err)(f"{self.name}: {err} (inputs: {described})")


class _AllInputs:
    """``save=("*",)``: ops over a variable number of inputs that keep every one."""

    def __contains__(self, index: int) -> bool:
        return True

    def __bool__(self) -> bool:
        return True


_ALL = _AllInputs()


def _any_float64(raw: list) -> bool:
    for a in raw:
        if a is _F64 or getattr(a, "dtype", None) is _F64:  # a float64 array, or a cast to it
            return True
        if isinstance(a, (list, tuple)) and _any_float64(list(a)):
            return True
    return False


def _share_version(view: Tensor, base: Any) -> None:
    """A view and its base share one version counter, so writing through either is noticed."""
    if isinstance(base, Tensor):
        if base._version is None:
            base._version = VersionCounter()
        view._version = base._version
        view._base = base if base._base is None else base._base


def primitive(name: str | None = None, *, save: tuple[str, ...] = (), save_out: bool = False,
              view: bool = False, differentiable: bool = True,
              explain: Callable | None = None) -> Callable[[Callable], Primitive]:
    """Declare a primitive from its array-level forward.

    ``save`` names the inputs whose values the VJPs read (others are kept as shape and dtype only;
    ``("*",)`` keeps all inputs of a variadic op);
    ``save_out`` keeps the result; ``view`` marks ops whose result may share memory with the first
    input; ``explain(err, *args, **params)`` may return a clearer exception for a NumPy error.
    """

    def wrap(forward: Callable) -> Primitive:
        op_name = name or forward.__name__.strip("_")
        names = list(inspect.signature(forward).parameters)
        indices = _ALL if save == ("*",) else tuple(names.index(s) for s in save)
        if view and save_out:
            raise ValueError(f"{op_name}: a view op cannot save its output (the view shares its "
                             "base's version counter)")
        op = Primitive(op_name, forward, save=indices, save_out=save_out, view=view,
                       differentiable=differentiable, explain=explain)
        existing = PRIMITIVES.get(op_name)
        # The same file imported twice (pytest's importlib mode does that) is not a clash.
        if existing is not None and (existing.forward.__code__.co_filename
                                     != forward.__code__.co_filename):
            raise ValueError(f"primitive {op_name!r} is defined twice")
        PRIMITIVES[op_name] = op
        return op

    return wrap
