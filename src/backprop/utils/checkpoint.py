"""Activation checkpointing (``torch.utils.checkpoint``): trade compute for memory.

``checkpoint(fn, *args)`` runs ``fn`` without recording its graph, so none of its intermediate
activations are kept; only its inputs are. When backward reaches its outputs, ``fn`` is run
again with grad enabled (on the same random stream, so dropout draws the same mask) and the
gradient flows through that recomputation to the inputs and to every tensor ``fn`` used that
requires grad (a module's parameters), whose ``.grad`` accumulates during the outer backward.

>>> import backprop as bp
>>> from backprop.utils.checkpoint import checkpoint
>>> lin = bp.nn.Linear(3, 2)
>>> x = bp.ones(4, 3, requires_grad=True)
>>> checkpoint(lin, x, use_reentrant=False).sum().backward()
>>> lin.weight.grad.tolist()
[[4.0, 4.0, 4.0], [4.0, 4.0, 4.0]]

How the parameters are found: the first (no-grad) run is watched by an engine observer that
notes every tensor requiring grad handed to an op; those tensors become inputs of the one
graph node that stands for the whole call, so ``autograd.grad`` reaches them too.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from .. import autograd
from ..autograd.function import Function, FunctionCtx
from ..autograd.observers import Observer, observing
from ..random import default_generator
from ..tensor import Tensor

__all__ = ["CheckpointError", "check_backward_validity", "checkpoint", "checkpoint_sequential",
           "detach_variable", "noop_context_fn", "set_checkpoint_debug_enabled",
           "set_checkpoint_early_stop"]


class CheckpointError(RuntimeError):
    """The recomputation in backward did not match the first run (shapes or dtypes)."""


def noop_context_fn() -> tuple[contextlib.AbstractContextManager, contextlib.AbstractContextManager]:
    """The default ``context_fn``: no context around either run.

    >>> first, again = noop_context_fn()
    >>> with first, again:
    ...     pass
    """
    return contextlib.nullcontext(), contextlib.nullcontext()


_DETERMINISM_CHECKS = ("default", "none")


def detach_variable(inputs: tuple) -> tuple:
    """Each tensor of ``inputs`` detached, keeping its ``requires_grad``; others as they are.

    >>> import backprop as bp
    >>> x = bp.ones(2, requires_grad=True) * 2
    >>> d, k = detach_variable((x, 3))
    >>> d.grad_fn is None, d.requires_grad, k
    (True, True, 3)
    """
    if not isinstance(inputs, tuple):
        raise RuntimeError(  # noqa: TRY004 - PyTorch raises RuntimeError here
            "detach_variable: Only tuple of tensors is supported. Got Unsupported "
            f"input type: {type(inputs).__name__}")
    return tuple(t.detach().requires_grad_(t.requires_grad) if isinstance(t, Tensor) else t
                 for t in inputs)


def check_backward_validity(inputs: Iterable[Any]) -> None:
    """Warn, as PyTorch does, when no tensor among ``inputs`` requires grad.

    >>> import backprop as bp
    >>> check_backward_validity([bp.ones(1, requires_grad=True)])  # silent
    """
    if not any(t.requires_grad for t in inputs if isinstance(t, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=2)


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool) -> Iterator[None]:
    """Accepted for PyTorch's programs: our recomputation always runs the whole function (it
    has no early stop to turn off), so this changes nothing.

    >>> with set_checkpoint_early_stop(False):
    ...     pass
    """
    yield


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None) -> Iterator[None]:
    """Accepted for PyTorch's programs; ``debug`` adds nothing here (a mismatch between the two
    runs is reported by shape and dtype either way).

    >>> with set_checkpoint_debug_enabled(True):
    ...     pass
    """
    yield


def checkpoint(function: Callable[..., Any], *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable[[], tuple[Any, Any]] = noop_context_fn,
               determinism_check: str = "default", debug: bool = False,
               early_stop: bool = True, **kwargs: Any) -> Any:
    """Run ``function(*args, **kwargs)`` keeping no activations; recompute them in backward.

    ``preserve_rng_state=True`` (a keyword) replays the random stream in the recomputation.
    ``use_reentrant`` should be given: left as None it warns and means True, as in PyTorch,
    and the reentrant variant refuses extra keyword arguments, ``context_fn`` and ``debug``.
    ``early_stop`` is accepted for compatibility (the recomputation always runs to the end).

    >>> import backprop as bp
    >>> x = bp.tensor([1.0, 2.0], requires_grad=True)
    >>> y = checkpoint(lambda t: (t * t).sum(), x, use_reentrant=False)
    >>> y.backward(); x.grad.tolist()
    [2.0, 4.0]
    """
    if use_reentrant is None:
        warnings.warn(
            "backprop.utils.checkpoint: the use_reentrant parameter should be passed "
            "explicitly (as in PyTorch); use_reentrant=False is recommended. Using "
            "use_reentrant=True.", stacklevel=2)
        use_reentrant = True
    preserve = bool(kwargs.pop("preserve_rng_state", True))
    if use_reentrant:
        if kwargs:
            raise ValueError("checkpoint: Unexpected keyword arguments: " + ",".join(kwargs)
                             + " (keyword arguments for the function need use_reentrant=False)")
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("checkpoint: Passing `context_fn` or `debug` is only supported "
                             "when use_reentrant=False.")
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"checkpoint: determinism_check should be one of "
                         f"{list(_DETERMINISM_CHECKS)}, but got {determinism_check!r}")
    if not autograd.is_grad_enabled():
        return function(*args, **kwargs)  # nothing will be recorded: no graph to save memory on
    if use_reentrant and not any(isinstance(a, Tensor) and a.requires_grad for a in args):
        # The reentrant variant records nothing then: parameters inside get no gradient.
        warnings.warn("checkpoint: None of the inputs have requires_grad=True. Gradients will "
                      "be None (with use_reentrant=False the parameters inside would get theirs)",
                      stacklevel=2)
        with autograd.no_grad():
            return function(*args, **kwargs)

    first_context, again_context = context_fn()
    rng_state = default_generator.get_state() if preserve else None
    watcher = _UsedTensors({id(a) for a in args if isinstance(a, Tensor)})
    with autograd.no_grad(), first_context, observing(watcher):
        outputs = function(*args, **kwargs)
    run = _Run(function, args, kwargs, rng_state, again_context,
               determinism_check == "default", outputs, list(watcher.found))
    return _Checkpoint.apply(run, *args, *watcher.found)


def checkpoint_sequential(functions: Any, segments: int, input: Any,
                          use_reentrant: bool | None = None, **kwargs: Any) -> Any:
    """Run a sequence of modules (or an ``nn.Sequential``) in ``segments`` chunks, each but the
    last checkpointed; the last runs normally, as in PyTorch.

    >>> import backprop as bp
    >>> net = bp.nn.Sequential(bp.nn.Linear(2, 2), bp.nn.Tanh(), bp.nn.Linear(2, 1))
    >>> out = checkpoint_sequential(net, 2, bp.ones(3, 2), use_reentrant=False)
    >>> tuple(out.shape)
    (3, 1)
    """
    if use_reentrant is None:
        warnings.warn(
            "backprop.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter "
            "should be passed explicitly (as in PyTorch); use_reentrant=False is recommended. "
            "Using use_reentrant=True.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("checkpoint_sequential: Unexpected keyword arguments: "
                         + ",".join(kwargs))
    from ..nn import Sequential  # nn sits beside utils; imported late to keep imports acyclic

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    functions = list(functions)
    if not isinstance(segments, int) or segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be a positive int, "
                         f"got {segments!r}")
    if segments > max(len(functions), 1):
        raise ValueError(f"checkpoint_sequential: segments ({segments}) is more than the "
                         f"{len(functions)} functions to run")
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(_chain(functions[start:end + 1]), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return _chain(functions[end + 1:])(input)


def _chain(functions: Sequence[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def forward(x: Any) -> Any:
        for f in functions:
            x = f(x)
        return x
    return forward


class _UsedTensors(Observer):
    """Collects the tensors requiring grad that ops receive, other than the call's inputs."""

    def __init__(self, inputs: set[int]) -> None:
        self.skip = set(inputs)
        self.found: list[Tensor] = []

    def op(self, op: Any, args: tuple, params: dict, proceed: Callable[[], Any]) -> Any:
        self._note(args)
        self._note(params.values())
        return proceed()

    def _note(self, values: Iterable[Any]) -> None:
        for v in values:
            if isinstance(v, Tensor):
                if v.requires_grad and id(v) not in self.skip:
                    self.skip.add(id(v))
                    self.found.append(v)
            elif isinstance(v, (tuple, list)):  # cat/stack take a list of tensors
                self._note(v)


class _Run:
    """What the recomputation needs: the function, its arguments and the random state.
    It holds only the outputs' shapes and dtypes, not their values."""

    def __init__(self, function: Callable[..., Any], args: tuple, kwargs: dict,
                 rng_state: Any, context: Any, check: bool, outputs: Any,
                 used: list[Tensor]) -> None:
        self.function = function
        self.args = tuple(None if isinstance(a, Tensor) else a for a in args)
        self.kwargs = kwargs
        self.rng_state = rng_state
        self.context = context
        self.check = check
        self.outputs = outputs  # handed to the node once, then dropped
        self.metas = [(tuple(o.shape), o.dtype) if isinstance(o, Tensor) else None
                      for o in (outputs if isinstance(outputs, tuple) else (outputs,))]
        self.n_args = len(args)
        # The recomputation closes over these very tensors, so backward differentiates with
        # respect to them, not to what saved_tensors_hooks may give back for them.
        self.used = used


class _Checkpoint(Function):
    @staticmethod
    def forward(ctx: FunctionCtx, run: _Run, *tensors: Any) -> Any:
        ctx.run = run
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(*(t if isinstance(t, Tensor) else None for t in tensors))
        outputs, run.outputs = run.outputs, None
        return outputs

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Any) -> Any:
        run: _Run = ctx.run
        everything = ctx.saved_tensors
        saved, used = everything[:run.n_args], list(run.used)
        node_inputs = ctx.needs_input_grad[1:run.n_args + 1]
        create_graph = autograd.is_grad_enabled()
        detached = [None if t is None else _fresh(t, need and _float(t), create_graph)
                    for t, need in zip(saved, node_inputs)]
        args = [d if d is not None else a for d, a in zip(detached, run.args)]
        # The inner pass must stop at the used tensors and leave their hooks to the outer
        # backward: for its length each is a leaf without hooks. Under create_graph one with a
        # history stays joined to it (gradients of gradients must reach that history), and the
        # inner pass walks it without freeing it.
        cut = [t for t in used if t.grad_fn is None or not create_graph]
        with _as_leaves(cut):
            outs = _recompute(run, args)
            outs = outs if isinstance(outs, tuple) else (outs,)
            if run.check:
                _check_same(run, outs)
            pairs = [(o, g) for o, g in zip(outs, grads)
                     if g is not None and isinstance(o, Tensor) and o.requires_grad]
            targets = [d for d in detached if d is not None and d.requires_grad] + used
            if not pairs or not targets:
                return (None,) * (1 + len(everything))
            found = autograd.grad([o for o, _ in pairs], targets, [g for _, g in pairs],
                                  retain_graph=create_graph, create_graph=create_graph,
                                  allow_unused=True)
        found = list(found)
        result: list[Any] = [None]
        for d in detached:
            result.append(found.pop(0) if d is not None and d.requires_grad else None)
        result.extend(found)
        return tuple(result)


@contextlib.contextmanager
def _as_leaves(tensors: list[Tensor]) -> Iterator[None]:
    """For the block, each tensor is a leaf with no hooks; then it is given its place back."""
    kept = [(t, t._grad_fn, t._output_nr, t._hooks) for t in tensors]
    for t in tensors:
        t._grad_fn, t._output_nr, t._hooks = None, 0, None
    try:
        yield
    finally:
        for t, grad_fn, output_nr, hooks in kept:
            t._grad_fn, t._output_nr, t._hooks = grad_fn, output_nr, hooks


def _fresh(t: Tensor, needs_grad: bool, create_graph: bool) -> Tensor:
    """The input the recomputation runs on: cut from its history, so the inner pass stops at
    it; under ``create_graph`` a view still joined to it, so gradients of gradients reach it."""
    if needs_grad and create_graph:
        return t.view_as(t)
    return t.detach().requires_grad_(needs_grad)


def _float(t: Tensor) -> bool:
    return t._data.dtype.kind in "fc"


def _recompute(run: _Run, args: list[Any]) -> Any:
    """Run the function again with grad enabled, on the random stream of the first run."""
    if run.rng_state is None:
        with autograd.enable_grad(), run.context:
            return run.function(*args, **run.kwargs)
    now = default_generator.get_state()
    default_generator.set_state(run.rng_state)
    try:
        with autograd.enable_grad(), run.context:
            return run.function(*args, **run.kwargs)
    finally:
        default_generator.set_state(now)


def _check_same(run: _Run, outs: tuple) -> None:
    again = [(tuple(o.shape), o.dtype) if isinstance(o, Tensor) else None for o in outs]
    if again != run.metas:
        raise CheckpointError(
            "checkpoint: the recomputation in backward gave outputs "
            f"{again} but the first run gave {run.metas} (shape, dtype); the function must "
            "compute the same thing both times (pass determinism_check='none' to skip this)")
