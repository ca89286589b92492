"""``Module``: the base class of layers and models, as ``torch.nn.Module``.

Parameters, buffers and submodules assigned as attributes are registered in ordered dicts (so
``parameters()`` and ``state_dict()`` walk them in definition order) and also kept in the
instance ``__dict__``, so reading ``self.weight`` in ``forward`` is a plain attribute lookup.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, namedtuple
from typing import Any, Callable, Iterator

import numpy as np

from .. import dtypes
from ..autograd import observers
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..errors import ShapeError, format_shape
from .. import backend
from ..tensor import Tensor, requested_conversion
from .parameter import Buffer, Parameter


_OBSERVED = observers.REGISTRY  # the engine's one test for observers

class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find and those it did not use.

    >>> import backprop as bp
    >>> bp.nn.Linear(2, 1).load_state_dict({"weight": bp.zeros(1, 2)}, strict=False)
    _IncompatibleKeys(missing_keys=['bias'], unexpected_keys=[])
    """

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"  # PyTorch's text
        return super().__repr__()

    __str__ = __repr__


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks: dict[int, Any]) -> None:
        self._hooks = hooks
        self.id = next(self._ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class Module:
    """Base class for layers and models: subclass it, assign layers and ``Parameter``s in
    ``__init__`` and compute in ``forward``.

    >>> import backprop as bp
    >>> class Affine(bp.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = bp.nn.Parameter(bp.ones(3))
    ...     def forward(self, x):
    ...         return x * self.scale
    >>> model = Affine()
    >>> [name for name, _ in model.named_parameters()]
    ['scale']
    >>> model(bp.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    """

    training: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # PyTorch's signature: subclasses without their own __init__ (Tanh, Sigmoid) show it,
        # and an argument they do not take is refused here.
        if args:
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument but "
                            f"{len(args) + 1} were given")
        if kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword "
                            f"argument '{next(iter(kwargs))}'")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define it in the "
                                  "subclass")

    # -- calling -------------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or _OBSERVED.count):
            return self.forward(*args, **kwargs)
        if _OBSERVED.count:
            return observers.observe("module", (self, args, kwargs),
                                     lambda: self._call_with_hooks(args, kwargs))
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        for hook in list(self._forward_pre_hooks.values()):
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        if self._backward_hooks:
            args, state = _attach_input_hook(self, args)
        result = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            changed = hook(self, args, result)
            if changed is not None:
                result = changed
        if self._backward_hooks:
            result = _attach_output_hook(self, result, state)
        return result

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, args)`` before ``forward``; a returned value replaces ``args``."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after ``forward``; a returned value replaces the
        output.

        >>> import backprop as bp
        >>> layer, seen = bp.nn.Module(), []
        >>> layer.forward = lambda x: x * 2
        >>> handle = layer.register_forward_hook(lambda m, args, out: seen.append(out.tolist()))
        >>> _ = layer(bp.ones(2)); seen
        [[2.0, 2.0]]
        """
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_full_backward_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` once the gradients with respect to the
        module's tensor inputs are computed; a returned tuple replaces ``grad_input``."""
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle

    # -- registration --------------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() is called; "
                                 "call super().__init__() first in your module's __init__")
        if isinstance(value, Parameter):
            self._forget(name, keep=self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif isinstance(value, Buffer):  # nn.Buffer: registered as register_buffer would
            self.register_buffer(name, value, value.persistent)
            return
        elif name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                "(bp.nn.Parameter or None expected)")
            self._parameters[name] = None
        elif name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module {name!r} "
                                "(bp.nn.Module or None expected)")
            self._modules[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} "
                                "(a Tensor or None expected)")
            self._buffers[name] = value
        d[name] = value

    def __delattr__(self, name: str) -> None:
        self._forget(name)
        self.__dict__.pop(name, None)

    def _forget(self, name: str, keep: dict | None = None) -> None:
        """Unregister ``name`` from every store but ``keep``: a value reassigned to the store it
        is in keeps its place there (and so in ``state_dict``), as in PyTorch, where swapping a
        ResNet's ``fc`` must not move it after the other layers."""
        for store in (self._parameters, self._modules, self._buffers):
            if store is not keep:
                store.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` under ``name`` (None keeps a slot for an optional parameter)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a bp.nn.Parameter or None, "
                            f"got {type(param).__name__}")
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param
        self.__dict__[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (BatchNorm's running mean); it is
        saved in ``state_dict`` unless ``persistent=False``.

        >>> import backprop as bp
        >>> m = bp.nn.Module(); m.register_buffer("count", bp.zeros(1))
        >>> list(m.state_dict())
        ['count']
        """
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got "
                            f"{type(tensor).__name__}")
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)
        self.__dict__[name] = tensor

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got "
                            f"{type(module).__name__}")
        self._forget(name, keep=self._modules)
        self._modules[name] = module
        self.__dict__[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The submodule at a dotted path such as ``"layers.0.attn"``."""
        module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"get_submodule: {type(module).__name__} has no submodule "
                                     f"{part!r} (looking for {target!r})")
            module = child
        return module

    # -- traversal -----------------------------------------------------------------------------

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """Every module in the tree (this one first) with its dotted name."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                               remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and child not in seen:
                seen.add(child)
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, kind: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        seen = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for module_prefix, module in modules:
            for name, value in getattr(module, kind).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs; a parameter shared by two layers comes once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter in the tree, in registration order.

        >>> import backprop as bp
        >>> sum(p.numel() for p in bp.nn.Linear(3, 2).parameters())
        8
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # -- modes ---------------------------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm using batch statistics) recursively."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {mode!r}")
        for module in self.modules():
            module.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters (to None, or to zeros in place)."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad = param.grad.detach()
                param.grad._data[...] = 0

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children first) and on this module, as for
        custom initialisation."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- conversion ----------------------------------------------------------------------------

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move parameters and buffers to a device and/or cast the floating-point ones to a dtype,
        in place: ``model.to("cuda")``, ``model.to(bp.float64)``. Gradients move with them.

        >>> import backprop as bp
        >>> bp.nn.Linear(2, 1).to("strict:0").weight.device
        device(type='strict', index=0)
        """
        dtype, device, _ = requested_conversion("Module.to", args, kwargs)
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype, "Module.to")
            if not dtypes.is_floating(dtype):
                raise TypeError(f"Module.to: only floating-point dtypes can be given, got {dtype}")
        for module in self.modules():
            for store in (module._parameters, module._buffers):
                for value in store.values():
                    if value is not None:
                        _convert(value, dtype, device)
                        if value.grad is not None:
                            _convert(value.grad, dtype, device)
        return self

    def share_memory(self) -> Module:
        """Move every parameter, buffer and gradient into shared memory
        (``Tensor.share_memory_``), so processes forked afterwards train the same weights
        (Hogwild; see ``backprop.multiprocessing``). Returns the module.

        >>> import backprop as bp
        >>> bp.nn.Linear(2, 1).share_memory().weight.is_shared()
        True
        """
        for module in self.modules():
            for store in (module._parameters, module._buffers):
                for value in store.values():
                    if value is not None:
                        value.share_memory_()
                        if value.grad is not None:
                            value.grad.share_memory_()
        return self

    def float(self) -> Module:
        return self.to(dtypes.float32)

    def double(self) -> Module:
        return self.to(dtypes.float64)

    def half(self) -> Module:
        return self.to(dtypes.float16)

    def bfloat16(self) -> Module:
        """Cast floating-point parameters and buffers to bfloat16 (needs ml_dtypes)."""
        return self.to(dtypes.bfloat16_dtype("Module.bfloat16"))

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, device: Any = None) -> Module:
        """Move parameters and buffers to a GPU (``cuda:0`` unless ``device`` says which)."""
        return self.to(backend.cuda_device(device))

    # -- state ---------------------------------------------------------------------------------

    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """Parameters and persistent buffers by dotted name (detached, sharing storage).

        >>> import backprop as bp
        >>> list(bp.nn.Linear(2, 1).state_dict())
        ['weight', 'bias']
        """
        destination = OrderedDict() if destination is None else destination
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        With ``strict`` a missing or unexpected key is an error; a shape mismatch always is.
        Returns the named tuple ``(missing_keys, unexpected_keys)``, printed as PyTorch prints it.

        >>> import backprop as bp
        >>> layer = bp.nn.Linear(2, 1)
        >>> layer.load_state_dict(bp.nn.Linear(2, 1).state_dict())
        <All keys matched successfully>
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict: expected state_dict to be dict-like, got "
                            f"{type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            source = state_dict[key]
            array = source._data if isinstance(source, Tensor) else np.asarray(source)
            if array.shape != target.shape:
                problems.append(f"size mismatch for {key}: copying a param with shape "
                                f"{format_shape(array.shape)} from the checkpoint, the shape in "
                                f"the current model is {format_shape(target.shape)}")
        if strict and (missing or unexpected):
            if missing:
                problems.append("missing keys: " + ", ".join(repr(k) for k in missing))
            if unexpected:
                problems.append("unexpected keys: " + ", ".join(repr(k) for k in unexpected))
        if problems:
            raise ShapeError(f"load_state_dict: cannot load into {type(self).__name__}:\n  "
                             + "\n  ".join(problems))
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    source = state_dict[key]
                    array = source._data if isinstance(source, Tensor) else np.asarray(source)
                    # A checkpoint loads onto the model's device, wherever it was saved from.
                    array = backend.to_device(array, target.device)
                    if assign:
                        target._data = array
                    else:
                        target._data[...] = array
        return _IncompatibleKeys(missing, unexpected)

    # -- printing ------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (layers override it)."""
        return ""

    def __repr__(self) -> str:
        lines = [line for line in self.extra_repr().split("\n") if line]
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        if not lines:
            return f"{type(self).__name__}()"
        if len(lines) == 1 and not self._modules:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()))


# -- full backward hooks ---------------------------------------------------------------------------

class _HookState:
    """What the two halves of a full backward hook share for one call of the module."""

    def __init__(self, n_inputs: int) -> None:
        self.grad_output: tuple | None = None
        self.n_inputs = n_inputs


class _InputBoundary(Function):
    """Identity on the module's tensor inputs; its backward sees grad_input and runs the hooks."""

    @staticmethod
    def forward(ctx: Any, module: Module, state: _HookState, *inputs: Tensor) -> Any:
        ctx.module, ctx.state = module, state
        return inputs[0] if len(inputs) == 1 else inputs

    @staticmethod
    def backward(ctx: Any, *grad_input: Any) -> tuple:
        grads = tuple(grad_input)
        for hook in list(ctx.module._backward_hooks.values()):
            changed = hook(ctx.module, grads, ctx.state.grad_output)
            if changed is not None:
                grads = tuple(changed)
        return (None, None, *grads)


class _OutputBoundary(Function):
    """Identity on the module's outputs; its backward records grad_output."""

    @staticmethod
    def forward(ctx: Any, module: Module, state: _HookState, *outputs: Tensor) -> Any:
        ctx.module, ctx.state = module, state
        return outputs[0] if len(outputs) == 1 else outputs

    @staticmethod
    def backward(ctx: Any, *grad_output: Any) -> tuple:
        ctx.state.grad_output = tuple(grad_output)
        if ctx.state.n_inputs == 0:  # no input needs a gradient: PyTorch calls hooks here
            for hook in list(ctx.module._backward_hooks.values()):
                hook(ctx.module, (None,), ctx.state.grad_output)
        return (None, None, *grad_output)


def _attach_input_hook(module: Module, args: tuple) -> tuple[tuple, _HookState]:
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    state = _HookState(len(positions))
    if not positions:
        return args, state
    passed = _InputBoundary.apply(module, state, *(args[i] for i in positions))
    passed = passed if isinstance(passed, tuple) else (passed,)
    args = list(args)
    for i, tensor in zip(positions, passed):
        args[i] = tensor
    return tuple(args), state


def _attach_output_hook(module: Module, result: Any, state: _HookState) -> Any:
    outputs = result if isinstance(result, tuple) else (result,)
    if not any(isinstance(o, Tensor) and o.requires_grad for o in outputs):
        return result
    passed = _OutputBoundary.apply(module, state, *outputs)
    if isinstance(result, tuple):
        return passed if isinstance(passed, tuple) else (passed,)
    return passed


def _convert(tensor: Tensor, dtype: Any, device: backend.device | None) -> None:
    """Change ``tensor``'s storage in place: to ``device``, and to ``dtype`` if it is floating."""
    if device is not None:
        tensor._data = backend.to_device(tensor._data, device)
    # Same dtype: keep the array itself, as PyTorch keeps the storage (shared memory included).
    if dtype is not None and tensor.is_floating_point() and tensor._data.dtype != dtype:
        tensor._data = tensor._data.astype(dtype)
