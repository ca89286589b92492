"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad``, ``step`` and state dicts.

The subclasses (``SGD``, ``Adam``, ...) only write the update rule, as a kernel over arrays.
Updates work on the raw NumPy arrays behind the parameters (``p._data``) with in-place ufuncs
(``out=``), so a step records no graph and, after the first, allocates nothing: temporaries come
from a few reusable work buffers (``_Scratch``). Large contiguous parameters are updated in
256 KiB slices (``Optimizer._chunked``) so the ~10 passes of an update hit the cache, not memory.
"""

from __future__ import annotations

import copy
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .. import backend
from ..autograd import grad_mode, observers
from ..backend import device_of
from ..tensor import Tensor

__all__ = ["Optimizer"]

# Updates of large parameters run slice by slice so their temporaries stay in the CPU's cache.
_CHUNK_BYTES = 1 << 18

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


class _RequiredParameter:
    """Marks a default that every parameter group must give (PyTorch's ``optim.optimizer.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class _HookHandle:
    """Returned by ``register_step_pre_hook``/``register_step_post_hook``; ``remove()`` unregisters."""

    _next_id = 0

    def __init__(self, hooks: dict[int, Callable]) -> None:
        self._hooks = hooks
        self.id = _HookHandle._next_id
        _HookHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


class _Scratch:
    """Work arrays for the update kernels, one flat buffer per (dtype, slot), grown to the largest
    slice seen (a chunk, or a whole small or non-contiguous parameter) and handed out as reshaped
    views: a step allocates nothing after the first.

    Each update uses at most three slots at once; a slot's view is only valid until the next
    ``get`` of the same slot.
    """

    __slots__ = ("_buffers",)

    def __init__(self) -> None:
        self._buffers: dict[tuple[np.dtype, int], np.ndarray] = {}

    def get(self, like: np.ndarray, slot: int) -> np.ndarray:
        # A device array's buffer lives on its device: one per device.
        key = ((like.dtype, slot) if type(like) is np.ndarray
               else (like.dtype, slot, device_of(like)))
        buffer = self._buffers.get(key)
        size = like.size
        if buffer is None or buffer.size < size:
            buffer = backend.empty(size, like.dtype, like)
            self._buffers[key] = buffer
        return buffer[:size].reshape(like.shape)


def _typename(value: Any) -> str:
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _wrap_step(step: Callable) -> Callable:
    """Run a subclass's ``step`` under ``no_grad`` between the optimizer's step hooks."""

    @functools.wraps(step)
    def wrapper(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
        if self._in_step:  # a subclass's step calling super().step(): hooks run once, outside
            return step(self, *args, **kwargs)
        if observers.REGISTRY.count:
            return observers.observe("optimizer", (self, "step"),
                                     lambda: _hooked_step(step, self, args, kwargs))
        return _hooked_step(step, self, args, kwargs)

    wrapper._hooked = True  # type: ignore[attr-defined]
    return wrapper


def _hooked_step(step: Callable, self: Optimizer, args: tuple, kwargs: dict) -> Any:
    """``step`` under ``no_grad``, between the pre- and post-step hooks."""
    for hook in tuple(self._step_pre_hooks.values()):
        result = hook(self, args, kwargs)
        if result is not None:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(f"{type(self).__name__}.step: a step pre-hook must return "
                                   f"None or a tuple (new_args, new_kwargs), got {result!r}")
            args, kwargs = result
    state = grad_mode.state
    previous = state.enabled
    state.enabled = False
    self._in_step = True
    try:
        out = step(self, *args, **kwargs)
    finally:
        state.enabled = previous
        self._in_step = False
    self._opt_called = True  # read by the LR schedulers' "scheduler stepped first" warning
    for hook in tuple(self._step_post_hooks.values()):
        hook(self, args, kwargs)
    return out


def _observed_zero_grad(zero_grad: Callable) -> Callable:
    """``zero_grad`` inside the engine observers' ``optimizer`` event."""

    @functools.wraps(zero_grad)
    def wrapper(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
        if observers.REGISTRY.count and not self._in_step:
            return observers.observe("optimizer", (self, "zero_grad"),
                                     lambda: zero_grad(self, *args, **kwargs))
        return zero_grad(self, *args, **kwargs)

    wrapper._hooked = True  # type: ignore[attr-defined]
    return wrapper


class Optimizer:
    """Base class of all optimizers: holds parameter groups and per-parameter state.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts (parameter
    groups) with a ``"params"`` entry and any per-group options; options a group leaves out are
    taken from ``defaults``. Subclasses implement ``step``, which runs under ``no_grad`` and
    skips parameters whose ``.grad`` is ``None``.

    >>> import backprop as bp
    >>> from backprop import optim
    >>> w, b = bp.ones(2, requires_grad=True), bp.zeros(1, requires_grad=True)
    >>> opt = optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
    >>> [group["lr"] for group in opt.param_groups]
    [0.1, 0.5]
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Wrapped once, where the class is defined: hooks and observers, no swapping later.
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_hooked", False):
            cls.step = _wrap_step(step)  # type: ignore[method-assign]
        zero_grad = cls.__dict__.get("zero_grad")
        if zero_grad is not None and not getattr(zero_grad, "_hooked", False):
            cls.zero_grad = _observed_zero_grad(zero_grad)  # type: ignore[method-assign]

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._step_pre_hooks: dict[int, Callable] = {}
        self._step_post_hooks: dict[int, Callable] = {}
        self._scratch = _Scratch()
        self._opt_called = False
        self._in_step = False
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params should be an iterable of Tensors or "
                            "dicts, but got a single Tensor; pass [tensor] or model.parameters()")
        if isinstance(params, dict):
            raise TypeError(f"{type(self).__name__}: params should be an iterable of Tensors or "
                            "dicts, but got one dict; wrap a parameter group in a list: [group]")
        if not hasattr(params, "__iter__"):
            hint = ("; pass model.parameters()" if callable(getattr(params, "parameters", None))
                    else "")
            raise TypeError(f"{type(self).__name__}: params should be an iterable of Tensors or "
                            f"dicts, but got {_typename(params)}{hint}")
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if len(groups) == 0:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- pickling / deepcopy: keep the data, rebuild the machinery --------------------------------

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_step_pre_hooks", {})
        self.__dict__.setdefault("_step_post_hooks", {})
        self.__dict__.setdefault("_opt_called", False)
        self._in_step = False
        self._scratch = _Scratch()

    def __repr__(self) -> str:
        text = f"{type(self).__name__} ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            text += "".join(f"    {key}: {group[key]}\n" for key in sorted(group) if key != "params")
        return text + ")"

    # -- parameter groups -------------------------------------------------------------------------

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. a new layer being unfrozen).

        >>> import backprop as bp
        >>> from backprop import optim
        >>> opt = optim.SGD([bp.ones(2, requires_grad=True)], lr=0.1, momentum=0.9)
        >>> opt.add_param_group({"params": [bp.zeros(3, requires_grad=True)], "lr": 0.01})
        >>> opt.param_groups[1]["lr"], opt.param_groups[1]["momentum"]
        (0.01, 0.9)
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: param_group must be a dict, "
                            f"got {_typename(param_group)}")
        if "params" not in param_group:
            raise ValueError(f"{name}.add_param_group: the parameter group has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: optimizer parameters need to be organized in ordered "
                            "collections, but the ordering of tensors in sets will change between "
                            "runs; use a list instead")
        else:
            params = list(params)
        tensors, names = [], []
        for param in params:
            if isinstance(param, tuple):
                if len(param) != 2:
                    raise TypeError(f"{name}: a named parameter must be a (name, tensor) pair, "
                                    f"got a tuple of length {len(param)}")
                names.append(param[0])
                param = param[1]
            tensors.append(param)
        if names and len(names) != len(tensors):
            raise ValueError(f"{name}: all optimizer params should be with/without names; some "
                             "param names are missing")
        for i, param in enumerate(tensors):
            if not isinstance(param, Tensor):
                raise TypeError(f"{name}: optimizer can only optimize Tensors, but params[{i}] is "
                                f"a {_typename(param)}")
            if param.grad_fn is not None and not param.retains_grad:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (params[{i}] of shape "
                                 f"{tuple(param.shape)} was computed by an op); optimize the leaf "
                                 "it came from, or use .detach().requires_grad_()")
        param_group["params"] = tensors
        if names:
            param_group["param_names"] = names
        for key, default in self.defaults.items():
            if default is required and key not in param_group:
                raise ValueError(f"{name}: parameter group didn't specify a value of required "
                                 f"optimization parameter {key}")
            param_group.setdefault(key, default)
        lr = param_group.get("lr")
        if isinstance(lr, (int, float)) and lr < 0:
            raise ValueError(f"{name}: invalid learning rate lr={lr} in a parameter group; it "
                             "must be >= 0")

        ids = [id(p) for p in tensors]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{name}: a parameter group contains the same parameter more than "
                             "once (it would be updated twice per step); remove the duplicates")
        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in group) != bool(names):
                which = "with names" if names else "without names"
                raise ValueError(f"{name}: all optimizer param groups should be with/without "
                                 f"names; cannot add a param group {which} to this optimizer")
        shared = [i for i, p in enumerate(tensors) if id(p) in seen]
        if shared:
            raise ValueError(f"{name}: some parameters appear in more than one parameter group "
                             f"(params[{shared[0]}] of the new group is already optimized); each "
                             "parameter must belong to exactly one group")
        self.param_groups.append(param_group)

    # -- gradients and steps ----------------------------------------------------------------------

    @_observed_zero_grad
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters.

        With ``set_to_none=True`` (the default) ``.grad`` becomes ``None``, which saves memory and
        lets ``step`` skip parameters that get no new gradient; with ``False`` each existing
        gradient is zeroed in place (detached from any graph first).

        >>> import backprop as bp
        >>> from backprop import optim
        >>> w = bp.ones(2, requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.zero_grad(set_to_none=False); w.grad.tolist()
        [0.0, 0.0]
        >>> opt.zero_grad(); w.grad is None
        True
        """
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad._requires_grad = False
                data = grad._data
                if backend.is_writeable(data):
                    data.fill(0)
                else:  # a read-only (broadcast) array: replace it rather than write into it
                    grad._data = np.zeros(data.shape, dtype=data.dtype)
                if grad._version is not None:
                    grad._version.bump("zero_grad")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update the parameters once; ``closure`` (optional) recomputes and returns the loss."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None) -> Any:
        """Call ``closure`` with grad recording on (``step`` itself runs under ``no_grad``)."""
        if closure is None:
            return None
        state = grad_mode.state
        previous = state.enabled
        state.enabled = True
        try:
            return closure()
        finally:
            state.enabled = previous

    def _effective_grad(self, data: np.ndarray, grad: np.ndarray, weight_decay: float,
                        maximize: bool) -> np.ndarray:
        """``(-grad if maximize else grad) + weight_decay * param``, in scratch slot 1 when it
        differs from ``grad`` (the gradient itself is never modified)."""
        if weight_decay != 0:
            out = self._scratch.get(data, 1)
            np.multiply(data, weight_decay, out=out)
            if maximize:
                np.subtract(out, grad, out=out)
            else:
                np.add(grad, out, out=out)
            return out
        if maximize:
            out = self._scratch.get(data, 1)
            np.negative(grad, out=out)
            return out
        return grad

    @staticmethod
    def _chunked(kernel: Callable[..., None], arrays: tuple[np.ndarray, ...], *args: Any) -> None:
        """Call ``kernel(*arrays, *args)`` on successive slices of (flattened) ``arrays``.

        An update is a chain of ~10 elementwise passes; over a large parameter each pass streams
        the whole array through memory. Slices of ``_CHUNK_BYTES`` keep the temporaries (and the
        slice being updated) in cache between passes, which makes large updates 2-4x faster.
        Small or non-contiguous arrays are updated in one call.
        """
        first = arrays[0]
        chunk = _CHUNK_BYTES // first.itemsize
        size = first.size
        # (On a device each pass is one kernel over the whole array: chunks would only add
        # launches.)
        if size <= chunk or type(first) is not np.ndarray or not all(
                a.flags.c_contiguous for a in arrays):
            kernel(*arrays, *args)
            return
        flats = [a.reshape(-1) for a in arrays]
        for start in range(0, size, chunk):
            stop = start + chunk
            kernel(*[flat[start:stop] for flat in flats], *args)

    def _stepped(self, group: dict[str, Any],
                 init: Callable[[Tensor], dict[str, Any]]) -> Iterator[tuple[Tensor, dict, int]]:
        """``(p, state, step)`` for each parameter of ``group`` that has a gradient: its state
        (``init(p)`` on first use, which starts ``step`` at 0) with ``step`` counted up; the
        parameter's version is bumped once the caller has updated it."""
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                state.update(init(p))
            state["step"] += 1
            yield p, state, state["step"]
            _bump_version(p)

    def _lerp_(self, target: np.ndarray, end: np.ndarray, weight: float) -> None:
        """``lerp_(target, end, weight, ...)`` with scratch slot 0 as its work array."""
        lerp_(target, end, weight, self._scratch.get(target, 0))

    # -- hooks ------------------------------------------------------------------------------------

    def register_step_pre_hook(self, hook: Callable) -> _HookHandle:
        """Call ``hook(optimizer, args, kwargs)`` before each ``step``; it may return a new
        ``(args, kwargs)``. Returns a handle whose ``remove()`` unregisters it."""
        handle = _HookHandle(self._step_pre_hooks)
        self._step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook: Callable) -> _HookHandle:
        """Call ``hook(optimizer, args, kwargs)`` after each ``step``. Returns a handle whose
        ``remove()`` unregisters it."""
        handle = _HookHandle(self._step_post_hooks)
        self._step_post_hooks[handle.id] = hook
        return handle

    # -- state dicts ------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout: parameters replaced by their index.

        ``{"state": {index: {"exp_avg": Tensor, "step": int, ...}}, "param_groups": [{"lr": ...,
        "params": [indices]}, ...]}``. Indices count through the groups in order. State tensors
        are returned by reference (as PyTorch does): copy the dict (or save it) before stepping on.

        >>> import backprop as bp
        >>> from backprop import optim
        >>> w = bp.ones(2, requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward(); opt.step()
        >>> sd = opt.state_dict()
        >>> sorted(sd["state"][0]), sd["param_groups"][0]["params"]
        (['momentum_buffer'], [0])
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index_of[id(key)] if isinstance(key, Tensor) else key): value
                 for key, value in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from ``state_dict()`` (this optimizer's or one of the same layout).

        Group options (``lr``, ``betas``, ...) are taken from the saved groups; the parameters stay
        this optimizer's. State tensors are copied and cast to their parameter's dtype, so the
        loaded optimizer never shares memory with the dict.

        >>> import backprop as bp
        >>> from backprop import optim
        >>> w = bp.ones(2, requires_grad=True)
        >>> opt = optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> fresh = optim.Adam([w], lr=0.5)
        >>> fresh.load_state_dict(opt.state_dict())
        >>> fresh.param_groups[0]["lr"], fresh.state[w]["step"]
        (0.1, 1)
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             "'param_groups' (from optimizer.state_dict())")
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        groups = self.param_groups
        if len(groups) != len(saved_groups):
            raise ValueError(f"{name}.load_state_dict: loaded state dict has a different number "
                             f"of parameter groups ({len(saved_groups)}) than this optimizer "
                             f"({len(groups)})")
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"{name}.load_state_dict: loaded state dict contains a parameter "
                                 f"group that doesn't match the size of optimizer's group: group "
                                 f"{i} has {len(saved['params'])} parameters saved, "
                                 f"{len(group['params'])} here")
        param_of = {index: p for saved, group in zip(saved_groups, groups)
                    for index, p in zip(saved["params"], group["params"])}
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict.get("state", {}).items():
            param = param_of.get(key)
            if param is None:
                state[key] = copy.deepcopy(value)
            else:
                state[param] = {k: _cast_state(param, k, v) for k, v in value.items()}
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups


def lerp_(target: np.ndarray, end: np.ndarray, weight: float, tmp: np.ndarray) -> None:
    """``target += weight * (end - target)`` in place (PyTorch's ``lerp_``, with its two
    formulas so the rounding matches), using ``tmp`` (shaped like ``target``) as work array."""
    np.subtract(end, target, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        target += tmp
    else:
        tmp *= 1.0 - weight
        np.subtract(end, tmp, out=target)


def _cast_state(param: Tensor, key: Any, value: Any) -> Any:
    """A loaded state entry as this optimizer keeps it: arrays copied into bp tensors of the
    parameter's dtype (float parameters) and ``step`` as a plain number."""
    if key == "step":
        number = value._data if isinstance(value, Tensor) else value
        if isinstance(number, backend.ARRAY_TYPES):
            number = backend.to_host(number)
        number = float(np.asarray(number))
        return int(number) if number.is_integer() else number
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Tensor):
        array = value._data
    elif isinstance(value, backend.ARRAY_TYPES):
        array = value
    elif hasattr(value, "__array__"):
        array = np.asarray(value)
    else:
        array = None
    if array is not None:
        # On the parameter's device, as PyTorch loads state.
        array = backend.to_device(array, backend.device_of(param._data))
        dtype = param.dtype if param.is_floating_point() else array.dtype
        return Tensor._wrap(array.astype(dtype, copy=True))
    if isinstance(value, dict):
        return {k: _cast_state(param, k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, None, v) for v in value)
    return value


def _check_nonnegative(optimizer: str, **values: float) -> None:
    """Raise ``ValueError`` naming the optimizer and argument for any negative hyper-parameter."""
    for key, value in values.items():
        if isinstance(value, Tensor):
            value = value.item()
        if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
            raise TypeError(f"{optimizer}: {key} must be a number, got {type(value).__name__} "
                            f"{value!r}")
        if value < 0:
            what = "learning rate" if key == "lr" else f"{key} value"
            raise ValueError(f"{optimizer}: invalid {what} {key}={value}; it must be >= 0")


def _check_unsupported(optimizer: str, differentiable: bool, foreach: bool | None = None,
                       fused: bool | None = None) -> None:
    """Refuse ``differentiable=True``, and ``foreach`` with ``fused`` (PyTorch refuses the pair).

    ``foreach`` and ``fused`` otherwise only choose among PyTorch's kernels for the same update;
    backprop has one update, a single vectorized pass per parameter (compiled where a kernel is
    registered), which is what ``fused`` asks for, so every value is honoured.
    """
    if differentiable:
        raise NotImplementedError(f"{optimizer}: differentiable=True is not supported; backprop's "
                                  "optimizers update parameters in place outside the graph")
    if fused and foreach:
        raise RuntimeError(f"{optimizer}: `fused` and `foreach` cannot be `True` together; pass "
                           "one of them (backprop's update is the same either way)")


def _zeros_like(array: np.ndarray) -> Tensor:
    return Tensor._wrap(np.zeros_like(array))


def _bump_version(param: Tensor) -> None:
    """Count the update as an in-place change, so a graph that saved the old values refuses to
    backward instead of using the new ones (PyTorch does the same)."""
    version = param._version
    if version is not None:
        version.bump("optimizer.step")

