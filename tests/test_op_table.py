"""Tests generated from the op table (tests/optable): one row per public op.

For every row and sample: the forward value against NumPy, the full Jacobian against central
differences in float64, a random-direction derivative, second derivatives for smooth ops, float32
against float64, the Tensor method against the function, and (when PyTorch is installed) values
and gradients against PyTorch's. A public op or a primitive with no row fails the suite.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F
from backprop.ops import PRIMITIVES, PUBLIC_OPS
from optable import ROWS
from optable.spec import OpSpec, Sample

CASES = [(row, sample) for row in ROWS for sample in row.samples(np.random.default_rng(0))]
GRAD_CASES = [(r, s) for r, s in CASES if r.grad and s.differentiable()]
GRADGRAD_CASES = [(r, s) for r, s in GRAD_CASES if r.gradgrad]


def cases(selected: list) -> Any:
    """Parametrize over (row, sample) pairs, each named after its op and sample."""
    return pytest.mark.parametrize("row,sample", selected, ids=[
        f"{r.name}-{s.name or i}" for i, (r, s) in enumerate(selected)])


def to_bp(sample: Sample, dtype: Any = np.float64, requires_grad: bool = True) -> list[Any]:
    """The sample's args as backprop tensors; float arrays in ``dtype``, requiring grad."""
    differentiable = sample.differentiable()
    args = []
    for i, a in enumerate(sample.args):
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "f":
                t = bp.tensor(a.astype(dtype))
                if requires_grad and i in differentiable:
                    t.requires_grad_()
                args.append(t)
            else:
                args.append(bp.tensor(a))
        else:
            args.append(a)
    return args


def outputs(result: Any) -> list[Any]:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def float_outputs(result: Any) -> list[Any]:
    return [o for o in outputs(result) if isinstance(o, bp.Tensor) and o.dtype.kind == "f"]


def upstream(result: Any, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(o.shape) for o in float_outputs(result)]


@cases(CASES)
def test_forward_matches_numpy(row: OpSpec, sample: Sample) -> None:
    result = outputs(row.op(*to_bp(sample, requires_grad=False), **sample.kwargs))
    expected = outputs(row.ref(*sample.args, **sample.kwargs))
    assert len(result) == len(expected)
    for ours, ref in zip(result, expected):
        ref = np.asarray(ref)
        assert ours.shape == ref.shape, f"{row.name}: shape {ours.shape} != {ref.shape}"
        np.testing.assert_allclose(ours.detach().numpy(), ref, rtol=1e-12, atol=1e-12)


@cases(GRAD_CASES)
def test_jacobian_matches_finite_differences(row: OpSpec, sample: Sample) -> None:
    args = to_bp(sample)
    assert bp.autograd.gradcheck(lambda *a: row.op(*a, **sample.kwargs), args,
                                 skip_kinks=row.kinks, eps=row.eps)


DIRECTION_CASES = [(r, s) for r, s in GRAD_CASES if not s.on_kink]


@cases(DIRECTION_CASES)
def test_random_direction_derivative(row: OpSpec, sample: Sample) -> None:
    """JAX-style: <grad L, v> equals the directional difference of L = <u, f(x)> along v."""
    args = to_bp(sample)
    result = row.op(*args, **sample.kwargs)
    us = upstream(result)
    loss = sum((o * bp.tensor(u)).sum() for o, u in zip(float_outputs(result), us))
    positions = [i for i, a in enumerate(args) if isinstance(a, bp.Tensor) and a.requires_grad]
    leaves = [args[i] for i in positions]
    grads = bp.autograd.grad(loss, leaves, allow_unused=True)
    rng = np.random.default_rng(2)
    directions = [rng.standard_normal(t.shape) for t in leaves]
    analytic = sum(float((g.numpy() * v).sum()) for g, v in zip(grads, directions)
                   if g is not None)
    eps = row.eps

    def loss_at(step: float) -> float:
        moved = list(args)
        for i, v in zip(positions, directions):
            moved[i] = bp.tensor(args[i].detach().numpy() + step * v)
        with bp.no_grad():
            out = row.op(*moved, **sample.kwargs)
        return sum(float((o.detach().numpy() * u).sum()) for o, u in zip(float_outputs(out), us))

    numeric = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
    assert abs(numeric - analytic) <= 1e-5 + 1e-3 * abs(numeric)


@cases(GRADGRAD_CASES)
def test_second_derivatives(row: OpSpec, sample: Sample) -> None:
    args = to_bp(sample)
    assert bp.autograd.gradgradcheck(lambda *a: row.op(*a, **sample.kwargs), args, eps=row.eps)


@cases([(r, s) for r, s in CASES if r.float32])
def test_float32_stays_float32_and_close(row: OpSpec, sample: Sample) -> None:
    args64 = to_bp(sample)
    args32 = to_bp(sample, dtype=np.float32)
    out64 = row.op(*args64, **sample.kwargs)
    out32 = row.op(*args32, **sample.kwargs)
    for a, b in zip(outputs(out32), outputs(out64)):
        if b.dtype == np.float64:
            assert a.dtype == np.float32, f"{row.name} promoted float32 to {a.dtype}"
        # float32 carries ~7 digits; a few ops (exp, pow, reductions) lose one or two more.
        np.testing.assert_allclose(a.detach().numpy().astype(np.float64), b.detach().numpy(),
                                   rtol=2e-4, atol=2e-5)
    if row.grad and float_outputs(out32) and any(t.requires_grad for t in float_outputs(out32)):
        us = upstream(out64)
        for out, dtype in ((out32, np.float32), (out64, np.float64)):
            loss = sum((o * bp.tensor(u.astype(dtype))).sum()
                       for o, u in zip(float_outputs(out), us))
            loss.backward()
        for a32, a64 in zip(args32, args64):
            if isinstance(a32, bp.Tensor) and a32.grad is not None:
                assert a32.grad.dtype == np.float32
                # A VJP compounds the forward's float32 rounding with its own: 10x the forward's.
                np.testing.assert_allclose(a32.grad.numpy(), a64.grad.numpy(), rtol=2e-3,
                                           atol=2e-4)


# Methods called on another argument than the function's first: ``x.where(condition, y)`` is
# ``bp.where(condition, x, y)``.
METHOD_SELF = {"where": 1}

METHOD_CASES = [(r, s) for r, s in CASES if r.name in PUBLIC_OPS and hasattr(bp.Tensor, r.name)
                and len(s.args) > METHOD_SELF.get(r.name, 0)
                and isinstance(s.args[METHOD_SELF.get(r.name, 0)], np.ndarray)]


@cases(METHOD_CASES)
def test_method_matches_function(row: OpSpec, sample: Sample) -> None:
    args = to_bp(sample, requires_grad=False)
    state = bp.default_generator.get_state()  # a random op (multinomial) draws the same twice
    at = METHOD_SELF.get(row.name, 0)
    by_method = getattr(args[at], row.name)(*args[:at], *args[at + 1:], **sample.kwargs)
    bp.default_generator.set_state(state)
    by_function = PUBLIC_OPS[row.name](*args, **sample.kwargs)
    for a, b in zip(outputs(by_method), outputs(by_function)):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def _to_torch(torch: Any, sample: Sample) -> list[Any]:
    differentiable = sample.differentiable()
    result = []
    for i, a in enumerate(sample.args):
        if isinstance(a, np.ndarray):
            t = torch.tensor(a)
            if i in differentiable and a.dtype.kind == "f":
                t.requires_grad_()
            result.append(t)
        else:
            result.append(a)
    return result


def test_rows_without_a_pytorch_spelling_say_why() -> None:
    unexplained = [row.name for row in ROWS if row.torch is None and not row.torch_reason]
    assert not unexplained, f"rows with neither torch= nor torch_reason=: {unexplained}"


@cases([(r, s) for r, s in CASES if r.torch is not None])
def test_matches_pytorch(row: OpSpec, sample: Sample, torch: Any) -> None:
    ours_args = to_bp(sample, requires_grad=row.grad)
    theirs_args = _to_torch(torch, sample) if row.grad else [
        torch.tensor(a) if isinstance(a, np.ndarray) else a for a in sample.args]
    ours = row.op(*ours_args, **sample.kwargs)
    theirs = row.torch(torch, *theirs_args, **sample.kwargs)
    ours_out, theirs_out = outputs(ours), outputs(theirs)
    assert len(ours_out) == len(theirs_out)
    for a, b in zip(ours_out, theirs_out):
        expected = b.detach().numpy()
        assert a.shape == expected.shape
        np.testing.assert_allclose(a.detach().numpy(), expected, rtol=1e-10, atol=1e-12)
    if not row.grad or not float_outputs(ours) or not any(
            t.requires_grad for t in float_outputs(ours)):
        return
    us = upstream(ours)
    loss = sum((o * bp.tensor(u)).sum() for o, u in zip(float_outputs(ours), us))
    loss.backward()
    theirs_float = [o for o in theirs_out if o.dtype.is_floating_point]
    torch_loss = sum((o * torch.tensor(u)).sum() for o, u in zip(theirs_float, us))
    if torch_loss.requires_grad:  # False where PyTorch defines no derivative (floor_divide)
        torch_loss.backward()
    for a, b in zip(ours_args, theirs_args):
        if isinstance(a, bp.Tensor) and a.requires_grad:
            # force: PyTorch's gradient of a constant (sgn's) may be a "ZeroTensor".
            expected = np.zeros(a.shape) if b.grad is None else b.grad.numpy(force=True)
            got = np.zeros(a.shape) if a.grad is None else a.grad.numpy()
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


ERROR_CASES = [(row, case) for row in ROWS for case in row.error_inputs()]


@pytest.mark.parametrize("row,case", ERROR_CASES,
                         ids=[f"{r.name}-{i}" for i, (r, _) in enumerate(ERROR_CASES)])
def test_error_inputs_raise_clear_errors(row: OpSpec, case: Any) -> None:
    with pytest.raises(case.error, match=case.match):
        case.call()


def _graph_ops(result: Any) -> set[str]:
    names: set[str] = set()
    stack = [o.grad_fn for o in outputs(result) if isinstance(o, bp.Tensor) and o.grad_fn]
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen or not isinstance(node, bp.autograd.Node):
            continue
        seen.add(node)
        names.add(node.op.name)
        stack.extend(f for f, _ in node.next_functions if f is not None)
    return names


def test_every_public_op_has_a_row() -> None:
    covered = {row.name for row in ROWS} | {a for row in ROWS for a in row.aliases}
    missing = sorted(set(PUBLIC_OPS) - covered)
    assert not missing, f"public ops without a row in the op table: {missing}"


# PyTorch's namespaces beside the top level (torch.linalg, torch.special ...).
NAMESPACES = ("linalg", "special", "fft", "masked", "signal.windows")


def test_every_namespaced_op_has_a_row() -> None:
    """``bp.linalg.inv`` needs a row named ``linalg.inv``; a name that is the very function of a
    top-level op (``bp.special.expit`` is ``bp.sigmoid``) is covered by that op's row."""
    covered = {row.name for row in ROWS} | {a for row in ROWS for a in row.aliases}
    top_level = {id(PUBLIC_OPS[name]) for name in covered if name in PUBLIC_OPS}
    missing = []
    for namespace in NAMESPACES:
        module = bp
        for part in namespace.split("."):
            module = getattr(module, part)
        missing += [f"{namespace}.{name}" for name in module.__all__
                    if f"{namespace}.{name}" not in covered
                    and id(getattr(module, name)) not in top_level]
    assert not missing, f"namespaced ops without a row in the op table: {sorted(missing)}"


def test_every_functional_op_has_a_row() -> None:
    """bp.nn.functional's own functions; those it re-exports from bp are covered above."""
    covered = {row.name for row in ROWS} | {a for row in ROWS for a in row.aliases}
    own = {name for name in F.__all__ if PUBLIC_OPS.get(name) is not getattr(F, name)}
    missing = sorted(own - covered)
    assert not missing, f"bp.nn.functional ops without a row in the op table: {missing}"


class _CallLog(bp.autograd.Observer):
    """Every primitive called on tensors, with its arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, tuple, dict]] = []

    def op(self, op: Any, args: tuple, params: dict, proceed: Any) -> Any:
        self.calls.append((op, args, params))
        return proceed()


def _rule_calls() -> list[tuple[Any, tuple, dict]]:
    """The primitives the rules of every gradient case call, seen under create_graph (a plain
    backward calls them on raw arrays, which observers do not see)."""
    log = _CallLog()
    with bp.autograd.observing(log):
        for row, sample in GRAD_CASES:
            args = to_bp(sample)
            result = [o for o in float_outputs(row.op(*args, **sample.kwargs)) if o.requires_grad]
            inputs = [a for a in args if isinstance(a, bp.Tensor) and a.requires_grad]
            if not result or not inputs:
                continue
            loss = sum((o * bp.tensor(u)).sum() for o, u in zip(result, upstream(result)))
            bp.autograd.grad(loss, inputs, create_graph=True, allow_unused=True)
    return log.calls


RULE_CALLS = _rule_calls()


def test_every_primitive_is_exercised_by_the_table() -> None:
    exercised = {row.name for row in ROWS} | {a for row in ROWS for a in row.aliases}
    for row, sample in CASES:
        if row.grad:
            exercised |= _graph_ops(row.op(*to_bp(sample), **sample.kwargs))
    exercised |= {op.name for op, _, _ in RULE_CALLS}
    missing = sorted(set(PRIMITIVES) - exercised)
    assert not missing, f"primitives no op-table row exercises: {missing}"


def test_kernels_agree_with_the_composite_definition() -> None:
    """A composite primitive (a fused backward) is defined by its composition of ops; the
    kernels registered for it (in-place NumPy, Numba) must compute the same, on every call the
    table's gradient rules make."""
    checked = set()
    for op, args, params in RULE_CALLS:
        if not op.composite or not op.kernels:
            continue
        arrays = [a._data if isinstance(a, bp.Tensor) else a for a in args]
        expected = outputs(op.forward(*arrays, **params))
        got = outputs(op(*arrays, **params))
        for e, g in zip(expected, got):
            if e is None:
                assert g is None, f"{op.name}: a kernel gave an output the definition does not"
            else:
                np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12, err_msg=op.name)
        checked.add(op.name)
    composite = {name for name, op in PRIMITIVES.items() if op.composite and op.kernels}
    assert checked == composite, f"composite primitives never called: {composite - checked}"


def _kernel_inputs() -> list[tuple[str, tuple, bool]]:
    """Calls for the NumPy kernels of rows that are not composite, beyond what the table's small
    samples reach (large arrays, special values), and whether the kernel takes each one."""
    rng = np.random.default_rng(3)
    big = rng.standard_normal(5000)
    big[:4] = [np.inf, -np.inf, np.nan, -0.0]
    mask = rng.random(5000) > 0.5
    rows = rng.standard_normal((4, 6))
    rows[1, 2] = rows[1, 4] = rows[1].max()  # a tie
    with_nan = rows.copy()
    with_nan[2, 3] = with_nan[2, 5] = np.nan
    return [("where", (mask, big, 0.0), True), ("where", (mask, 0.0, big), True),
            ("where", (mask, big, big[::-1].copy()), True),
            ("where", (mask, big.astype(np.float32), 1.5), True),
            ("where", (mask[:10], big[:10], 0.0), False),  # small: np.where is faster
            ("at_extreme", (rows, rows.max(axis=1, keepdims=True)), True),
            ("at_extreme", (with_nan, with_nan.max(axis=1, keepdims=True)), False),
            ("at_extreme", (with_nan, np.max(with_nan)), False)]


@pytest.mark.parametrize("name,args,taken", _kernel_inputs(),
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(_kernel_inputs())])
def test_kernels_agree_with_the_definition_bit_for_bit(name: str, args: tuple,
                                                       taken: bool) -> None:
    op = PRIMITIVES[name]
    kernel = op.kernels[np.ndarray][-1]  # the one beside the row (compiled ones come first)
    expected = np.asarray(op.forward(*args))
    got = kernel(*args)
    assert (got is not None) == taken
    got = op(*args)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    # Bits, not values: a select must keep NaN, inf and -0.0 exactly as np.where does.
    np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))
