"""Forward mode over the op table: for each differentiable row's first two samples, the tangent
``J t`` along a random direction (``autograd.forward_ad``) against central differences in
float64 and against PyTorch's forward AD on the row's ``torch`` spelling; and the fast rules
(explicit, linear, multilinear) against the rule derived from the VJP.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from optable import ROWS
from optable.spec import OpSpec, Sample

import backprop as bp
import backprop.autograd.forward_ad as fwAD
from backprop.autograd import jvp_rules
from backprop.ops import PRIMITIVES

SAMPLES_PER_ROW = 2  # CI's budget: the reverse-mode table checks every sample


def _cases() -> list[tuple[OpSpec, Sample]]:
    cases = []
    for row in ROWS:
        if not (row.grad and row.forward_ad):
            continue
        chosen = [s for s in row.samples(np.random.default_rng(0))
                  if s.differentiable() and not s.on_kink]
        cases += [(row, s) for s in chosen[:SAMPLES_PER_ROW]]
    return cases


CASES = _cases()


def cases(selected: list) -> Any:
    return pytest.mark.parametrize("row,sample", selected, ids=[
        f"{r.name}-{s.name or i}" for i, (r, s) in enumerate(selected)])


def _args(sample: Sample) -> list[Any]:
    return [bp.tensor(a) if isinstance(a, np.ndarray) else a for a in sample.args]


def _float_outputs(result: Any) -> list[Any]:
    outs = list(result) if isinstance(result, (tuple, list)) else [result]
    return [o for o in outs if isinstance(o, bp.Tensor) and o.dtype.kind == "f"]


def _directions(sample: Sample) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(3)
    return {i: rng.standard_normal(np.shape(sample.args[i])) for i in sample.differentiable()}


def forward_tangents(row: OpSpec, sample: Sample) -> list[np.ndarray]:
    """The tangents of the row's float outputs, by forward AD along ``_directions``."""
    args = _args(sample)
    bp.manual_seed(0)  # a random op (dropout) draws the same in every call
    with fwAD.dual_level():
        for i, v in _directions(sample).items():
            args[i] = fwAD.make_dual(args[i], bp.tensor(v))
        outs = _float_outputs(row.op(*args, **sample.kwargs))
        tangents = [fwAD.unpack_dual(o).tangent for o in outs]
        return [np.zeros(o.shape) if t is None else t.numpy().copy()
                for o, t in zip(outs, tangents)]


@cases(CASES)
def test_jvp_matches_finite_differences(row: OpSpec, sample: Sample) -> None:
    ours = forward_tangents(row, sample)
    directions = _directions(sample)

    def at(step: float) -> list[np.ndarray]:
        args = _args(sample)
        for i, v in directions.items():
            args[i] = bp.tensor(sample.args[i] + step * v)
        bp.manual_seed(0)
        return [o.detach().numpy() for o in _float_outputs(row.op(*args, **sample.kwargs))]

    plus, minus = at(row.eps), at(-row.eps)
    assert len(ours) == len(plus)
    for t, p, m in zip(ours, plus, minus):
        numeric = (p - m) / (2 * row.eps)
        # the random-direction test's tolerance: central differences carry O(eps**2) error
        np.testing.assert_allclose(t, numeric, rtol=1e-3, atol=1e-5)


# Rows whose PyTorch spelling has no forward-AD formula in PyTorch 2.13 (it raises
# NotImplementedError): ours is checked against finite differences alone there, and the test
# below asserts that PyTorch still refuses (so the list cannot go stale silently).
TORCH_WITHOUT_FORWARD_AD = {
    "multi_head_attention",  # its sdpa sample: _scaled_dot_product_flash_attention_for_cpu
    "grid_sample", "conv_tbc", "ctc_loss", "multi_margin_loss", "multilabel_margin_loss",
    "rrelu_", "pdist", "embedding_bag", "igamma", "igammac", "index_reduce", "index_reduce_",
    "cholesky", "ormqr", "cdist",
}
# Rows where PyTorch's forward AD disagrees with central differences and ours agrees (checked
# by the test above): the test below asserts that PyTorch still differs from ours.
TORCH_FORWARD_AD_DISAGREES = {
    ("scatter", "multiply"), ("scatter_", "multiply"),  # reduce="multiply"
    ("linear_cross_entropy", "mean-chunk2"),
    # a triangular input's tangent: PyTorch's formula reads the other triangle too
    ("triangular_solve", "upper"), ("triangular_solve", "lower"),
    ("cholesky_inverse", "lower"), ("cholesky_inverse", "upper"),
}


def _torch_tangents(torch: Any, row: OpSpec, sample: Sample) -> list[np.ndarray]:
    import torch.autograd.forward_ad as tfw

    args = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in sample.args]
    torch.manual_seed(0)
    with tfw.dual_level():
        for i, v in _directions(sample).items():
            args[i] = tfw.make_dual(args[i], torch.tensor(v))
        result = row.torch(torch, *args, **sample.kwargs)
        outs = list(result) if isinstance(result, (tuple, list)) else [result]
        outs = [o for o in outs if isinstance(o, torch.Tensor) and o.dtype.is_floating_point]
        found = []
        for o in outs:
            t = tfw.unpack_dual(o).tangent
            found.append(np.zeros(tuple(o.shape)) if t is None else t.numpy(force=True).copy())
        return found


def _torch_cases() -> list[tuple[OpSpec, Sample]]:
    """Each row's first sample (PyTorch's calls cost more than ours: CI's budget), and every
    case listed as disagreeing, so that the list is checked."""
    chosen, rows = [], set()
    for r, s in CASES:
        if r.torch is not None and (r.name not in rows
                                    or (r.name, s.name) in TORCH_FORWARD_AD_DISAGREES):
            chosen.append((r, s))
            rows.add(r.name)
    return chosen


TORCH_CASES = _torch_cases()


@cases(TORCH_CASES)
def test_jvp_matches_pytorch(row: OpSpec, sample: Sample, torch: Any) -> None:
    if row.name in TORCH_WITHOUT_FORWARD_AD:
        try:
            _torch_tangents(torch, row, sample)
        except NotImplementedError:
            return
        # some samples of a listed row avoid the unsupported kernel (sdpa's fallback)
    theirs = _torch_tangents(torch, row, sample)
    ours = forward_tangents(row, sample)
    assert len(ours) == len(theirs)
    if (row.name, sample.name) in TORCH_FORWARD_AD_DISAGREES:
        assert not all(np.allclose(a, b, rtol=1e-6, atol=1e-8) for a, b in zip(ours, theirs))
        return
    for a, b in zip(ours, theirs):
        # Our forward rules are not PyTorch's formulas (most transpose the VJP): the same
        # derivative evaluated another way agrees to ~1e-9 relative where cancellation
        # occurs (ldexp, cdist), not to the last bit.
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def _fast_kind_rows() -> list[tuple[OpSpec, Sample]]:
    fast = (jvp_rules.LINEAR | jvp_rules.AFFINE | jvp_rules.MULTILINEAR
            | set(jvp_rules.EXPLICIT_UNARY))
    return [(r, s) for r, s in CASES if ({r.name, *r.aliases} & fast)]


@cases(_fast_kind_rows())
def test_fast_rules_agree_with_the_derived_rule(row: OpSpec, sample: Sample,
                                                monkeypatch: Any) -> None:
    fast = forward_tangents(row, sample)
    monkeypatch.setattr(jvp_rules, "FAST", False)
    derived = forward_tangents(row, sample)
    for a, b in zip(fast, derived):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_every_differentiable_primitive_has_a_forward_rule() -> None:
    kinds = {name: jvp_rules.rule_kind(op) for name, op in PRIMITIVES.items()
             if op.differentiable and not op.composite}
    assert len(kinds) > 200
    fast = (jvp_rules.LINEAR | jvp_rules.AFFINE | jvp_rules.MULTILINEAR
            | set(jvp_rules.EXPLICIT_UNARY))
    unknown = sorted(n for n in fast if n not in kinds)
    assert not unknown, f"fast forward rules named for no differentiable primitive: {unknown}"
    # every op without a fast rule has a gradient rule to derive its forward rule from
    for name, kind in kinds.items():
        op = PRIMITIVES[name]
        assert kind != "derived" or op.rule is not None or op.rules, name


def test_listed_disagreements_are_cases() -> None:
    cases = {(r.name, s.name) for r, s in TORCH_CASES}
    assert TORCH_FORWARD_AD_DISAGREES <= cases, TORCH_FORWARD_AD_DISAGREES - cases
    assert TORCH_WITHOUT_FORWARD_AD <= {r.name for r, _ in TORCH_CASES}


def test_rows_left_out_of_forward_mode_say_why() -> None:
    unexplained = [r.name for r in ROWS if not r.forward_ad and not r.forward_ad_reason]
    assert not unexplained, f"rows with forward_ad=False and no forward_ad_reason: {unexplained}"


# -- forward over reverse ------------------------------------------------------------------------

def _hvp_cases() -> list[tuple[OpSpec, Sample]]:
    chosen, rows = [], set()
    for r, s in CASES:
        if r.gradgrad and r.name not in rows:
            chosen.append((r, s))
            rows.add(r.name)
    return chosen


# pow's exponent rule run on tensors with a Python-number base (2 ** x inside ldexp and
# logaddexp2) takes log(2) of a float32 0-d tensor (PyTorch's dtype for a number alone), which
# reverse over reverse differentiates in float64 where forward over reverse does not: the two
# agree to ~3e-9 relative there (a bug of that rule's, not of forward mode).
HVP_FLOAT32_LOG = {"ldexp", "logaddexp2"}
# Reverse over reverse gives NaN at the masked-out entries (the double backward differentiates
# through log(0)); forward over reverse gives 0 there. Compared where the former is finite.
HVP_REVERSE_NAN = {"masked.logaddexp"}


def _loss(row: OpSpec, sample: Sample, args: list[Any]) -> Any:
    bp.manual_seed(0)
    outs = _float_outputs(row.op(*args, **sample.kwargs))
    rng = np.random.default_rng(1)
    return sum((o * bp.tensor(rng.standard_normal(o.shape))).sum() for o in outs)


@cases(_hvp_cases())
def test_forward_over_reverse_matches_reverse_over_reverse(row: OpSpec, sample: Sample) -> None:
    """Hessian-vector products of ``<u, f(x)>``: the tangent of the gradient (forward over
    reverse, the rules run on dual tensors) against the gradient of ``<grad, v>``."""
    directions = _directions(sample)
    args = _args(sample)
    for i in directions:
        args[i].requires_grad_()
    leaves = [args[i] for i in directions]
    loss = _loss(row, sample, args)
    if not getattr(loss, "requires_grad", False):
        return  # no float output depends on the inputs (none in the table today)
    grads = bp.autograd.grad(loss, leaves, create_graph=True, allow_unused=True)
    used = [(g, leaf, v) for g, leaf, v in zip(grads, leaves, directions.values())
            if g is not None and g.requires_grad]
    expected = [np.zeros(leaf.shape) for leaf in leaves]
    if used:
        found = bp.autograd.grad([g for g, _, _ in used], leaves,
                                 grad_outputs=[bp.tensor(v) for _, _, v in used],
                                 allow_unused=True)
        expected = [np.zeros(leaf.shape) if h is None else h.numpy() for h, leaf in
                    zip(found, leaves)]
    with fwAD.dual_level():
        args = _args(sample)
        duals = []
        for i, v in directions.items():
            args[i] = fwAD.make_dual(args[i].requires_grad_(), bp.tensor(v))
            duals.append(args[i])
        grads = bp.autograd.grad(_loss(row, sample, args), duals, allow_unused=True)
        tangents = [None if g is None else fwAD.unpack_dual(g).tangent for g in grads]
        got = [np.zeros(d.shape) if t is None else t.numpy().copy()
               for t, d in zip(tangents, duals)]
    rtol = 1e-8 if row.name in HVP_FLOAT32_LOG else 1e-9
    for a, b in zip(got, expected):
        assert np.isfinite(a).all()
        if row.name in HVP_REVERSE_NAN:
            assert not np.isfinite(b).all()  # still NaN there: else drop the row from the set
            a, b = a[np.isfinite(b)], b[np.isfinite(b)]
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-11)
