"""Primitives: one row per op, holding its forward, the values it saves and its gradient rule.

A row is declared once, with the forward it decorates::

    @primitive(save=("input", "other"), grads={
        "input": lambda g, out, input, other: g * other,
        "other": lambda g, out, input, other: g * input})
    def mul(input, other):
        return input * other

``save`` names what the rule reads, inputs and outputs alike (an op's single output is named
``out``); every other input is kept as its shape and dtype only. ``grads`` gives one rule per
differentiable input, ``rule(g, out, *inputs, **params)``, or one rule for all inputs at once,
``rule(g, out, *inputs, needs, **params)`` returning a gradient per input (``needs[i]`` tells
whether input ``i`` wants one: PyTorch's ``grad_input_mask``). An op with several ``outputs``
returns a tuple; its rules get ``g`` and ``out`` as tuples, with None for an output that got no
gradient (or is not saved).

A primitive is called like a function. Given no Tensor it computes on raw arrays and returns an
array: that is how rules run during a plain backward pass, building no graph. Given Tensors it
returns Tensors and, when grad is enabled and an input requires it, records a ``Node``. Because
rules are written with primitives and operators, the same rule runs on Tensors under
``create_graph=True``, which gives gradients of gradients without a second set of rules.

The forward is the op's definition, written with NumPy's functions so that it also runs on
CuPy arrays. Faster versions for one array type register under the op's name
(``backprop.kernels``, or ``op.kernel(np.ndarray)`` beside the row) and are tried first, by the
type of the first array argument. A ``composite`` op's forward is written with our
differentiable ops instead: when the call is recorded it runs on the tensors and records the
ops it is made of, so it needs no rule of its own. That is the shape of a fused backward (a
norm's or a GELU's): a rule calls it, a kernel makes it fast, the composition differentiates it.

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

from .. import dtypes
from .. import kernels as _kernels
from ..autograd import grad_mode
from ..autograd import observers as _observers
from ..autograd import saved_tensors as _saved_tensors
from ..autograd.graph import Meta, Node, VersionCounter, View
from ..backend import as_array, check_same_device, is_view_of
from ..dtypes import operand_key, result_of_keys
from ..errors import DimError, DTypeError, GraphError, ShapeError, format_shape, reworded
from ..tensor import INFERENCE as _INFERENCE
from ..tensor import Tensor

# Every primitive by name; the op-table tests check that each differentiable one is exercised.
PRIMITIVES: dict[str, Primitive] = {}

_OBSERVED = _observers.REGISTRY  # the engine's one test for observers
_SAVED_HOOKS = _saved_tensors.STATE  # and for saved_tensors_hooks, when a node saves values
_wrap, _from_node = Tensor._wrap, Tensor._from_node  # bound once: the hot path's last call
_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)
_F16 = np.dtype(np.float16)
# bfloat16 once ml_dtypes is loaded (dtypes.on_bfloat16); until then a dtype no array has.
_BF16: Any = np.dtype([("no bfloat16 yet", np.uint8)])


_BF16_ON = False  # whether ml_dtypes is loaded: until then no array can be bfloat16


def _bfloat16_loaded(dtype: np.dtype) -> None:
    global _BF16, _BF16_ON
    _BF16, _BF16_ON = dtype, True


dtypes.on_bfloat16(_bfloat16_loaded)
_I64 = np.dtype(np.int64)
_BOOL = np.dtype(np.bool_)
_C64 = np.dtype(np.complex64)
_C128 = np.dtype(np.complex128)


_NUMBERS_IN_FLOAT32 = frozenset({"mul", "div"})
# Ops whose result's dtype is their parameter's or their input's, whatever the operands': they
# move bfloat16 values as they are (NumPy copies and casts ml_dtypes' arrays itself).
_BF16_AS_IS = frozenset({"to_dtype", "to_device", "copy"})


class Primitive:
    """An op's row: its NumPy forward, what it saves, its gradient rule and its kernels."""

    __slots__ = ("name", "forward", "rules", "rule", "composite", "kernels", "plain",
                 "n_outputs", "output_names", "save", "save_outputs", "saves_values", "view",
                 "differentiable", "explain", "backward_name", "promote", "refuse", "plans",
                 "numbers", "bf16_in_float32", "__wrapped__", "__dict__")

    def __init__(self, name: str, forward: Callable, *, rules: tuple | None,
                 rule: Callable | None, save: Any, save_outputs: tuple[int, ...],
                 output_names: tuple[str, ...], composite: bool, view: bool,
                 differentiable: bool, explain: Callable | None,
                 promote: tuple[int, ...] | None = None, refuse: tuple[str, ...] = (),
                 numbers: bool = False) -> None:
        self.name = name
        self.forward = forward
        self.rules = rules
        self.rule = rule
        self.composite = composite
        self.kernels = _kernels.table(name)
        self.output_names = output_names
        # ("*",): as many outputs as the forward returns (split_with_sizes_copy); 0 stands for it
        self.n_outputs = 0 if output_names == ("*",) else len(output_names)
        self.save = save
        self.save_outputs = save_outputs
        self.saves_values = bool(save) or bool(save_outputs)
        self.view = view
        self.differentiable = differentiable
        self.explain = explain
        self.promote = promote
        self.refuse = refuse
        self.numbers = numbers
        # bfloat16 operands computed in float32 (see _bfloat16_in_float32) by an op that does
        # not promote; views only move bytes, and the _BF16_AS_IS ops move values as they are.
        self.bf16_in_float32 = not view and name not in _BF16_AS_IS
        self.plans: dict[tuple, Any] = {}  # by the operands' dtypes: see _promoted
        dtypes.PROMOTION_CACHES.append(self.plans)
        self.backward_name = "".join(part.capitalize() for part in name.split("_")) + "Backward"
        self.__doc__ = forward.__doc__
        self.__wrapped__ = forward
        self._kernels_changed()
        _kernels.watch(name, self._kernels_changed)

    def _kernels_changed(self) -> None:
        # Most ops: one output, no kernel, not composite; their calls take the shortest path.
        self.plain = self.n_outputs == 1 and not self.composite and not self.kernels

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def kernel(self, array_type: type, *, compiled: bool = False) -> Callable[[Callable], Callable]:
        """Register the decorated function as this op's kernel for ``array_type`` (it takes the
        forward's arguments and returns None to decline)."""
        return lambda function: _kernels.register(self.name, array_type, function,
                                                  compiled=compiled)

    def __call__(self, *args: Any, **params: Any) -> Any:
        raw = list(args)
        requires_grad = on_device = odd_number = False
        first_type = None  # of the first tensor's array; None: no tensor among the arguments
        second = None  # the second tensor's array; ``raw`` when there are more
        for i, a in enumerate(args):
            kind = type(a)
            if kind is int or kind is tuple or kind is float or a is None:
                continue  # the usual constants (dims, shapes, numbers): nothing to look at
            if kind is Tensor or isinstance(a, Tensor):
                data = raw[i] = a._data
                if a._view is not None:
                    a._refresh_view()  # its base may have been written since: a new history
                if a._requires_grad:
                    requires_grad = True
                if type(data) is not first_type:
                    if first_type is None:
                        first_type = type(data)
                        first = data
                    else:
                        on_device = True
                elif first_type is not np.ndarray:
                    on_device = True
                else:
                    second = data if second is None else raw
            elif isinstance(a, np.generic):
                # NumPy scalars promote like arrays (float32 * np.float64 -> float64); PyTorch
                # treats them as Python numbers.
                raw[i] = a.item()
                if type(raw[i]) is bool or type(raw[i]) is complex:
                    odd_number = True
            elif kind is bool or kind is complex:
                odd_number = True  # promotes (or is refused) unlike in NumPy: see below
        promote = self.promote
        if first_type is None:  # arrays and numbers: a rule inside a plain backward
            if (self.numbers and type(args[0]) in (bool, int, float)
                    and type(args[-1]) in (bool, int, float)):  # bp.add(2, 3.0)
                return self._on_numbers(args, params)
            # A rule's first operand is mostly the incoming gradient: (b)float16 is computed in
            # float32 (as Node.apply does for rules' operators); NumPy's promotion otherwise.
            if promote is not None and len(args) > promote[0]:
                dtype = getattr(args[promote[0]], "dtype", None)
                if dtype is _F16 or dtype is _BF16:
                    return self._promoted(list(args), params, type(args[0]))
            if not self.plain:
                for kernel in self.kernels.get(type(args[0]), ()):
                    out = kernel(*args, **params)
                    if out is not None:
                        return out
            return self.forward(*args, **params)
        if _OBSERVED.count:
            observed = _observers.observe_op(self, args, params)
            if observed is not _observers.UNOBSERVED:
                return observed
        if on_device:  # two tensors, at least one not on the CPU: they must share a device
            check_same_device(self.name, [a._data for a in args if isinstance(a, Tensor)])
        recording = requires_grad and grad_mode.state.enabled and self.differentiable
        convert = self._converts(raw, first, second, on_device, odd_number)
        if self.plain and not convert:
            try:
                out = self.forward(*raw, **params)
            except (ValueError, TypeError, IndexError) as err:
                raise self._clear_error(err, raw, params) from None
            except OverflowError as err:
                out = self.forward(*_wrap_python_ints(self.name, err, raw), **params)
        else:
            if recording and self.composite:
                return self.forward(*args, **params)
            if convert:
                out = (self._promoted(raw, params, first_type) if promote is not None
                       else self._bfloat16_in_float32(raw, params))
            else:
                out = self._run_kernels(raw, params, first_type)
            if self.n_outputs != 1:
                return self._several_outputs(args, raw, out, params, recording)
        if type(out) is not np.ndarray:
            # a reduction's NumPy scalar (the common case) at once; device arrays as they are
            out = np.asarray(out) if isinstance(out, np.generic) else as_array(out)
        if out.dtype is _F64 and not _any_float64(raw):
            # NumPy turns int / int and exp(int) into float64; PyTorch gives the default dtype.
            out = out.astype(dtypes.get_default_dtype(), copy=False)
        if recording and out.dtype.kind in "fcV":
            result = _from_node(out, self._record(args, raw, out, params))
        else:
            result = _wrap(out)
        if self.view:
            record_view(result, self, args, params)
        return result

    def _converts(self, raw: list, first: Any, second: Any, on_device: bool,
                  odd_number: bool) -> bool:
        """Whether the operands must first be converted to their common dtype (PyTorch's
        promotion, not NumPy's), or bfloat16 computed in float32. Rarely: tensors of one float
        dtype, beside numbers, promote alike in both."""
        promote = self.promote
        if promote is None:
            return _BF16_ON and self.bf16_in_float32 and first.dtype is _BF16
        dtype = first.dtype
        return (on_device or (dtype is not _F32 and dtype is not _F64)
                or (second is not None and (second is raw or second.dtype is not dtype))
                or (odd_number and _odd_operand(raw, promote))
                ) and not _numpy_agrees(raw, promote)

    def array_function(self, args: tuple, params: dict) -> Callable[..., Any]:
        """What calling this op on ``args`` computes, as a function of the arguments with each
        tensor replaced by its array: the same kernels, promotion and result dtypes as
        ``__call__`` for operands of these types, dtypes and devices, without the graph. Step
        capture (``backprop.capture``) replays a traced call with it.

        >>> import numpy as np
        >>> import backprop as bp
        >>> x = bp.tensor([1.0, 2.0])
        >>> bp.exp.array_function((x,), {})(np.zeros(2, np.float32))
        array([1., 1.], dtype=float32)
        """
        raw = [a._data if isinstance(a, Tensor) else a.item() if isinstance(a, np.generic)
               else a for a in args]
        # __call__'s scan of the operands (its hot loop, kept inline there)
        first_type: Any = None
        first = second = None
        on_device = False
        for a in args:
            if not isinstance(a, Tensor):
                continue
            if type(a._data) is not first_type:
                if first_type is None:
                    first_type, first = type(a._data), a._data
                else:
                    on_device = True
            elif first_type is not np.ndarray:
                on_device = True
            else:
                second = a._data if second is None else raw
        odd_number = any(type(a) is bool or type(a) is complex for a in raw)
        convert = self._converts(raw, first, second, on_device, odd_number)
        narrow = not _any_float64(raw)  # results NumPy made float64 from narrower operands
        default = dtypes.get_default_dtype()
        several = self.n_outputs != 1

        def compute(*operands: Any) -> Any:
            if convert:
                out = (self._promoted(list(operands), params, first_type)
                       if self.promote is not None
                       else self._bfloat16_in_float32(list(operands), params))
            elif self.plain:
                out = self.forward(*operands, **params)
            else:
                out = self._run_kernels(list(operands), params, first_type)
            if several:
                outs = tuple(None if o is None else as_array(o) for o in out)
                return tuple(o.astype(_F32) if narrow and o is not None and o.dtype is _F64
                             else o for o in outs) if narrow else outs
            return finish_result(out, narrow, default)

        if self.plain and not convert:
            # What a replay calls instead, saving compute's call and tests: the forward with
            # its parameters, then finish_result only where the result is not a NumPy array,
            # or is float64 (narrow: made from narrower operands).
            compute.direct = (self.forward, params, narrow, default)  # type: ignore[attr-defined]
        return compute

    def _on_numbers(self, args: tuple, params: dict) -> Tensor:
        """A binary op on two Python numbers, as PyTorch computes it: on the 0-d tensors it
        makes of them (int64, float32, bool)."""
        from ..creation import tensor  # creation imports the ops

        return self(*[tensor(a) for a in args], **params)

    def _run_kernels(self, raw: list, params: dict, first_type: type) -> Any:
        """The first kernel for ``first_type`` that takes the call, else the forward."""
        try:
            for kernel in self.kernels.get(first_type, ()):
                out = kernel(*raw, **params)
                if out is not None:
                    return out
            return self.forward(*raw, **params)
        except (ValueError, TypeError, IndexError) as err:
            raise self._clear_error(err, raw, params) from None
        except OverflowError as err:
            return self._run_kernels(_wrap_python_ints(self.name, err, raw), params, first_type)

    def _promoted(self, raw: list, params: dict, first_type: type) -> Any:
        """Run with the operands in PyTorch's common dtype, (b)float16 computed in float32 and
        its results rounded back, as PyTorch's CPU kernels do."""
        key = tuple([operand_key(raw[i]) for i in self.promote])
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = self._plan(key)
        casts, half, numbers = plan
        if casts or numbers:
            raw = list(raw)
            for i, dtype in casts:
                raw[i] = raw[i].astype(dtype) if hasattr(raw[i], "dtype") else dtype.type(raw[i])
            for i in numbers:  # PyTorch converts them to the tensors' (b)float16 first
                raw[i] = float(half.type(raw[i]))
        if half is None:
            return self._run_kernels(raw, params, first_type)
        # (b)float16 runs the NumPy forward on float32 copies: kernels see only dtypes users gave
        return _to_half(self._run_kernels(raw, params, None), half)

    def _bfloat16_in_float32(self, raw: list, params: dict) -> Any:
        """The forward on float32 copies of the bfloat16 arrays, float32 results rounded to
        bfloat16 (unless a float32 or float64 operand was given: then they are its results)."""
        wider = False
        copies = list(raw)
        for i, a in enumerate(raw):
            dtype = getattr(a, "dtype", None)
            if dtype is _BF16:
                copies[i] = a.astype(_F32)
            elif dtype is _F32 or dtype is _F64:
                wider = True
        out = self._run_kernels(copies, params, None)
        return out if wider else _to_half(out, _BF16)

    def _plan(self, key: tuple) -> tuple[tuple[tuple[int, np.dtype], ...], np.dtype | None,
                                         tuple[int, ...]]:
        """For operands whose ``operand_key`` are ``key``: which to cast to what, the
        (b)float16 the results round to (None: none) and which Python numbers round to it
        first. Raises where PyTorch has no kernel for their dtypes."""
        try:
            result = result_of_keys(key)
        except DTypeError:  # complex32, which backprop lacks
            if self.differentiable:
                raise
            result = _C64  # a comparison: float16 values compare alike in complex64
        if result is None:
            return (), None, ()
        for category in self.refuse:
            if category == "bool operand":
                refused = any(k is bool or k in (_BOOL, (_BOOL,)) for k in key)
            elif category == "bool tensors":  # a Python bool exponent is allowed
                refused = result is _BOOL and key[-1] is not bool
            else:
                refused = result.kind in _CATEGORY_KINDS[category]
            if refused:
                raise DTypeError(f"{self.name}: {_REFUSALS[category]} (operands: "
                                 f"{', '.join(_describe(k) for k in key if k is not None)})")
        half = result if result is _F16 or result is _BF16 else None
        compute = _F32 if half is not None else result
        # Arrays of another dtype are cast: NumPy would widen some further (int32 with float32
        # gives float64, bool with a Python complex complex128). Numbers alone (``where``'s two
        # values) become NumPy scalars of the result's dtype, as NumPy reads numbers alone as
        # float64 or complex128.
        arrays = [i for i, k in zip(self.promote, key)
                  if type(k) is tuple or isinstance(k, np.dtype)]
        casts = tuple((i, compute) for i, k in zip(self.promote, key)
                      if k is not None and (not arrays or i in arrays)
                      and (k[0] if type(k) is tuple else k) != compute)
        # PyTorch's CPU kernels convert a Python number beside (b)float16 tensors to their dtype,
        # except mul's and div's, which keep it in float32 (x - 0.3 subtracts 0.30078125 in
        # bfloat16, x * 0.3 multiplies by float32's 0.3).
        numbers = () if half is None or self.name in _NUMBERS_IN_FLOAT32 else tuple(
            i for i, k in zip(self.promote, key) if k is int or k is float)
        return casts, half, numbers

    def _several_outputs(self, args: tuple, raw: list, outs: tuple, params: dict,
                         recording: bool) -> tuple:
        outs = tuple(None if o is None else as_array(o) for o in outs)
        if not _any_float64(raw):
            outs = tuple(o.astype(_F32) if o is not None and o.dtype is _F64 else o
                         for o in outs)
        if not (recording and any(o is not None and o.dtype.kind in "fcV" for o in outs)):
            return tuple(None if o is None else Tensor._wrap(o) for o in outs)
        node = self._record(args, raw, outs, params)
        return tuple(None if o is None else Tensor._from_output(o, node, k)
                     if o.dtype.kind in "fcV" else Tensor._wrap(o) for k, o in enumerate(outs))

    def record(self, args: tuple, **params: Any) -> Node:
        """The node of a call whose result was computed elsewhere (an in-place write, which
        wrote it into storage itself); the op must save no values."""
        return self._record(args, [a._data if isinstance(a, Tensor) else a for a in args], None,
                            params)

    def _record(self, args: tuple, raw: list, out: Any, params: dict) -> Node:
        edges = []
        inputs = []
        slots = None
        save = self.save
        if save:
            versions: list[int | None] | None = []
        else:  # most ops: shapes and dtypes only, no version bookkeeping for inputs
            versions = [] if self.save_outputs else None
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                if a._requires_grad:
                    fn = a._grad_fn
                    if fn is None:
                        edges.append(a)
                    else:
                        edges.append(fn)
                        if fn.n_outputs != 1:  # which of its outputs: the engine routes by it
                            if slots is None:
                                slots = [0] * len(args)
                            slots[i] = a._output_nr
                else:
                    edges.append(None)
                if i in save:
                    inputs.append(a)
                    counter = a._version
                    if counter is None:
                        counter = a._version = VersionCounter()
                    elif counter is _INFERENCE:
                        raise _inference_saved(self.name)
                    versions.append(counter.value)
                    continue
                data = raw[i]
                raw[i] = meta = Meta(data.shape, data.dtype)
                inputs.append(meta)
            else:
                edges.append(None)
                inputs.append(a)
            if versions is not None:
                versions.append(None)
        keep = self.save_outputs
        if not keep:  # each saved output's in-place changes are counted from 0
            saved = counters = None
        elif self.n_outputs == 1:
            saved, counters = out, VersionCounter()
        else:
            saved = tuple(o if k in keep else None for k, o in enumerate(out))
            counters = tuple(VersionCounter() if k in keep else None for k in range(len(out)))
        node = Node(self, tuple(edges), tuple(inputs),
                    None if versions is None else tuple(versions), saved, counters, params,
                    self.n_outputs or len(out), None if slots is None else tuple(slots),
                    tuple(raw) if save else None)
        if _SAVED_HOOKS.top is not None and self.saves_values:
            _saved_tensors.pack(node)
        return node

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
        return reworded(err, f"{self.name}: {err} (inputs: {described})")


class ViewPrimitive(Primitive):
    """The row of a view op (``view=True``). Views are O(1), so the call is all there is to
    them: the common call, a plain tensor of NumPy's first and constants after it (dims,
    shapes), takes a shorter path than ``Primitive.__call__`` with the same outcome; every other
    call goes there."""

    __slots__ = ()

    def __call__(self, *args: Any, **params: Any) -> Any:
        input = args[0] if args else None
        if type(input) is not Tensor or not self.plain or _OBSERVED.count:
            return Primitive.__call__(self, *args, **params)
        data = input._data
        if type(data) is not np.ndarray:
            return Primitive.__call__(self, *args, **params)
        constants = args[1:]
        for a in constants:
            kind = type(a)
            if not (kind is int or kind is tuple or a is None):  # a tensor, a NumPy scalar ...
                return Primitive.__call__(self, *args, **params)
        if input._view is not None:
            input._refresh_view()  # its base may have been written since: a new history
        try:
            out = self.forward(data, *constants, **params)
        except (ValueError, TypeError, IndexError) as err:
            raise self._clear_error(err, [data, *constants], params) from None
        except OverflowError:  # a number too large for the dtype: the general path's handling
            return Primitive.__call__(self, *args, **params)
        if type(out) is not np.ndarray:
            out = as_array(out)
        if out.dtype is _F64 and data.dtype is not _F64 and data.dtype is not _C128:
            out = out.astype(dtypes.get_default_dtype(), copy=False)  # as Primitive.__call__
        enabled = grad_mode.state.enabled
        if (input._requires_grad and enabled and self.differentiable
                and out.dtype.kind in "fcV"):
            fn = input._grad_fn
            if self.save or (fn is not None and fn.n_outputs != 1):
                node = self._record(args, [data, *constants], out, params)
            else:  # _record's node for one tensor that keeps only its shape, and constants
                node = Node(self, (input if fn is None else fn,) + (None,) * len(constants),
                            (Meta(data.shape, data.dtype),) + constants, None, None, None,
                            params, 1)
            result = _from_node(out, node)
        else:
            result = _wrap(out)
        # record_view with its is_view_of inlined for NumPy arrays (NumPy points a view's base
        # at the array owning the memory)
        owner = data.base
        if out is not data and out.base is not (owner if type(owner) is np.ndarray else data):
            return result  # a reshape that had to copy: a tensor of its own
        _link_view(result, input, self, constants, params)
        return result


class _AllInputs:
    """``save=("*",)``: ops over a variable number of inputs that keep every one."""

    def __contains__(self, index: int) -> bool:
        return True

    def __bool__(self) -> bool:
        return True


_ALL = _AllInputs()


def _numpy_agrees(raw: Any, promote: tuple[int, ...]) -> bool:
    """Whether NumPy's own promotion gives PyTorch's dtype and values (the common case, tested
    first): the arrays among the operands share one dtype, float32, float64 or int64, beside
    Python ints (and floats, with float arrays)."""
    try:
        if len(promote) == 2:
            return _pair_agrees(raw[promote[0]], raw[promote[1]])
        operands = [raw[i] for i in promote]
    except IndexError:  # an operand given by keyword: NumPy's promotion, as the engine unwraps
        return True     # no tensor given by keyword either
    arrays = [a for a in operands if type(a) is np.ndarray]
    if not arrays:
        return False
    return all(_pair_agrees(arrays[0], a) for a in operands if a is not None)


def _odd_operand(raw: list, promote: tuple[int, ...]) -> bool:
    """Whether a Python bool or complex is among the promoted operands (not, say, keepdim)."""
    for i in promote:
        if i < len(raw) and (type(raw[i]) is bool or type(raw[i]) is complex):
            return True
    return False


def _pair_agrees(x: Any, y: Any) -> bool:
    if type(x) is not np.ndarray:
        if type(y) is not np.ndarray:
            return False
        x, y = y, x
    dtype = x.dtype
    kind = type(y)
    if kind is np.ndarray:
        return y.dtype is dtype and (dtype is _F32 or dtype is _F64 or dtype is _I64)
    if kind is int:
        return dtype is _F32 or dtype is _F64 or dtype is _I64
    return kind is float and (dtype is _F32 or dtype is _F64)


def _to_half(out: Any, half: np.dtype) -> Any:
    """float32 results (one, or a tuple) rounded to ``half``; other results as they are."""
    if type(out) is tuple:
        return tuple(_to_half(o, half) for o in out)
    if getattr(out, "dtype", None) is not _F32:
        return out
    with np.errstate(over="ignore"):  # beyond float16's range: inf, as in PyTorch
        return out.astype(half)


def _describe(key: Any) -> str:
    """An operand described from its ``operand_key``."""
    if type(key) is tuple:
        return f"0-d {key[0]} tensor"
    return f"{key} tensor" if isinstance(key, np.dtype) else f"Python {key.__name__}"


# Categories of the common dtype an op may refuse (``refuse=``), as PyTorch has no kernel there.
_CATEGORY_KINDS = {"bool": "b", "complex": "c", "float": "fc"}
_REFUSALS = {
    "bool": "not implemented for bool tensors, as in PyTorch; convert with .int() first",
    "bool tensors": "not implemented for bool tensors, as in PyTorch; convert with .int() first",
    "bool operand": "subtraction with a bool tensor is not supported, as in PyTorch; to invert "
                    "a mask use ~ or logical_not(), to subtract convert with .int() first",
    "complex": "not implemented for complex tensors, as in PyTorch",
    "float": "needs integer or bool tensors, as in PyTorch",
}


def _inference_saved(op: str) -> RuntimeError:
    """PyTorch's refusal to save an inference tensor: with no version counter, a later write
    to it inside inference mode could not be noticed, and backward would use the new values."""
    return RuntimeError(f"{op}: Inference tensors cannot be saved for backward. To work around "
                        "you can make a clone to get a normal tensor and use it in autograd, "
                        "or use bp.no_grad() instead of bp.inference_mode()")


def _any_float64(raw: list) -> bool:
    for a in raw:
        # a float64 or complex128 array (abs of complex128 is float64), or a cast to float64
        dtype = getattr(a, "dtype", None)  # by identity: np.dtype(None) is float64
        if a is _F64 or dtype is _F64 or dtype is _C128:
            return True
        if isinstance(a, (list, tuple)) and _any_float64(list(a)):
            return True
    return False


def _wrap_python_ints(op: str, err: OverflowError, raw: list) -> list:
    """``raw`` with each Python int reduced modulo 2**bits into the integer dtype of the arrays
    beside it, as PyTorch converts a number to a tensor's dtype (``uint8 + (-3)`` adds 253, and
    ``int8 * 1000`` multiplies by -24), where NumPy 2 raises OverflowError; ``err`` again when
    no Python int is out of range (an overflow of another kind)."""
    arrays = [a.dtype for a in raw if hasattr(a, "dtype")]
    dtype = np.result_type(*arrays) if arrays else None
    if type(err) is not OverflowError or dtype is None or dtype.kind not in "iu":
        raise err
    info = np.iinfo(dtype)
    wrapped = list(raw)
    for i, a in enumerate(raw):
        if type(a) is int and not info.min <= a <= info.max:
            if not -(2**63) <= a < 2**64:  # PyTorch refuses these too
                raise OverflowError(f"{op}: the integer {a} is too large (PyTorch takes -2**63 to "
                                    "2**64 - 1)") from None
            wrapped[i] = dtypes.wrap_integer(a, dtype)
    if all(w is a for w, a in zip(wrapped, raw)):
        raise err
    return wrapped


def record_view(out: Tensor, op: Primitive, args: tuple, params: dict) -> None:
    """``out = op(*args, **params)`` by a view op: if it shares its input's memory, make it a
    view of the input's base, sharing its version counter (so writing through either is
    noticed) and remembering the steps that make it from the base (so its history can follow
    the base's; ``autograd.graph.View``)."""
    input = args[0]
    if not isinstance(input, Tensor):
        return
    data, source = out._data, input._data
    if data is not source:
        if type(data) is np.ndarray and type(source) is np.ndarray:
            # is_view_of, inlined: this runs on every view op
            if data.base is not (source.base if type(source.base) is np.ndarray else source):
                return  # a reshape that had to copy: a tensor of its own
        elif not is_view_of(data, source):
            return
    _link_view(out, input, op, args[1:], params)


def _link_view(out: Tensor, input: Tensor, op: Primitive, constants: tuple,
               params: dict) -> None:
    """Make ``out``, a view of ``input``'s memory made by ``op``, share its version counter and
    remember the steps from the base."""
    counter = input._version
    if counter is None:
        counter = input._version = VersionCounter()
    out._version = counter
    parent = input._view
    if parent is None:
        base, steps = input, ()
    else:
        base, steps = parent.base, parent.steps
    if steps is None or not grad_mode.state.enabled:  # made under no_grad: no history to follow
        out._view = View(base, None, counter.value)
        return
    if op.name == "view":
        # Replayed on a gradient, whose layout may differ from the base's, ``view`` would refuse
        # where ``reshape`` copies; both select the same values.
        op = PRIMITIVES["reshape"]
    out._view = View(base, steps + ((op, constants, params),), counter.value)


def primitive(name: str | None = None, *, save: tuple[str, ...] = (),
              grads: dict[str, Callable] | Callable | None = None,
              outputs: tuple[str, ...] = ("out",), composite: bool = False,
              view: bool = False, differentiable: bool = True,
              explain: Callable | None = None, promote: tuple[str, ...] = (),
              refuse: tuple[str, ...] = (), numbers: bool = False
              ) -> Callable[[Callable], Primitive]:
    """Declare an op's row from its NumPy forward (see the module's docstring).

    ``save`` names the inputs and outputs whose values the rules read (``("*",)`` keeps every
    input of a variadic op); ``grads`` maps input names to their rules, or is one rule for all
    inputs; ``outputs`` names the forward's results when it returns several (``("*",)``: a
    tuple of any length, none saved); ``composite`` says
    the forward is written with differentiable ops (and records them when the call is recorded,
    so no rule is needed); ``view`` marks ops whose result may share memory with the first
    input; ``explain(err, *args, **params)`` may return a clearer exception for a NumPy error.
    ``promote`` names the inputs PyTorch's type promotion combines (``bp.result_type``): they
    are computed in their common dtype, float16 in float32 with the results rounded to float16;
    ``refuse`` lists the categories of that dtype the op has no kernel for, as in PyTorch
    (``"bool"``, ``"complex"``, ``"float"``: floats and complex; ``"bool operand"``: any bool;
    ``"bool tensors"``: bool, unless the last operand is a Python bool); ``numbers`` says that
    the binary op called on two Python numbers returns a 0-d tensor, as PyTorch's does
    (``torch.add(2, 3.0)``; a rule's call on arrays and numbers returns an array).
    """

    def wrap(forward: Callable) -> Primitive:
        op_name = name or forward.__name__.strip("_")
        parameters = list(inspect.signature(forward).parameters.values())
        names = [p.name for p in parameters
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)]
        unknown = [s for s in save if s != "*" and s not in names and s not in outputs]
        if unknown:
            raise ValueError(f"{op_name}: save names {unknown}, which are neither inputs "
                             f"{names} nor outputs {list(outputs)}")
        indices = _ALL if save == ("*",) else tuple(names.index(s) for s in save if s in names)
        save_outputs = tuple(k for k, o in enumerate(outputs) if o in save)
        if view and save_outputs:
            raise ValueError(f"{op_name}: a view op cannot save its output (the view shares its "
                             "base's version counter)")
        rules, rule = _rules(op_name, grads, names, differentiable and not composite)
        unknown_refusals = set(refuse) - set(_REFUSALS)
        if unknown_refusals or (refuse and not promote):
            raise ValueError(f"{op_name}: refuse takes {sorted(_REFUSALS)}, with promote=")
        row = ViewPrimitive if view else Primitive
        op = row(op_name, forward, rules=rules, rule=rule, save=indices,
                 save_outputs=save_outputs, output_names=tuple(outputs),
                 composite=composite, view=view, differentiable=differentiable,
                 explain=explain,
                 promote=tuple(names.index(p) for p in promote) if promote else None,
                 refuse=refuse, numbers=numbers)
        existing = PRIMITIVES.get(op_name)
        # The same file imported twice (pytest's importlib mode does that) is not a clash.
        if existing is not None and (existing.forward.__code__.co_filename
                                     != forward.__code__.co_filename):
            raise ValueError(f"primitive {op_name!r} is defined twice")
        PRIMITIVES[op_name] = op
        return op

    return wrap


def _rules(op: str, grads: Any, names: list[str],
           needs_rule: bool) -> tuple[tuple | None, Callable | None]:
    """``(rules per input, None)`` from a dict of rules by input name, ``(None, rule)`` from one
    rule for all inputs."""
    if callable(grads):
        return None, grads
    if grads is None:
        if needs_rule:
            raise ValueError(f"{op}: a differentiable op needs grads= (or composite=True, or "
                             "differentiable=False)")
        return (), None
    unknown = set(grads) - set(names)
    if unknown:
        raise ValueError(f"{op}: grads names {sorted(unknown)}, which are not inputs {names}")
    return tuple(grads.get(n) or _no_rule(op, i, n) for i, n in enumerate(names)), None


def _no_rule(op: str, index: int, name: str) -> Callable:
    """The rule of an input that has none: an input no gradient can flow to."""

    def refuse(*args: Any, **params: Any) -> Any:
        raise GraphError(f"{op}: no gradient is defined for input {index} ({name!r}), which "
                         "requires grad; detach it or pass a constant")

    return refuse


def each_input(rule: Callable) -> Callable:
    """A rule for all inputs at once from ``rule(i, g, out, *inputs, **params)``, the gradient
    of input ``i``: the form variadic ops (``cat``, ``stack``, ``einsum``) write theirs in."""

    def rule_for_all(g: Any, out: Any, *inputs: Any, needs: tuple[bool, ...],
                     **params: Any) -> list[Any]:
        return [rule(i, g, out, *inputs, **params) if need else None
                for i, need in enumerate(needs)]

    return rule_for_all


def finish_result(out: Any, narrow: bool, default: np.dtype) -> np.ndarray:
    """One result as ``__call__`` leaves it: an array, made ``default`` (the default dtype) where
    NumPy made float64 from operands none of which was float64 (``narrow``)."""
    if type(out) is not np.ndarray:
        out = np.asarray(out) if isinstance(out, np.generic) else as_array(out)
    if narrow and out.dtype is _F64:
        out = out.astype(default, copy=False)
    return out
