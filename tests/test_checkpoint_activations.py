"""Activation checkpointing (``bp.utils.checkpoint``): same gradients as the plain run (and as
PyTorch's), one recomputation, the random stream replayed, and fewer saved bytes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F
from backprop.diagnostics.memory import memory_report
from backprop.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential


def _mlp(lib: Any, dropout: float = 0.0) -> Any:
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(dropout), nn.Linear(8, 8),
                         nn.ReLU(), nn.Linear(8, 3)).double()


def _copy_weights(ours: Any, theirs: Any) -> None:
    ours.load_state_dict({k: bp.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


def _grads(model: Any, x: Any) -> list[np.ndarray]:
    return [np.asarray(x.grad.numpy())] + [np.asarray(p.grad.numpy()) for p in model.parameters()]


def _blocks(lib: Any) -> Any:
    nn = lib.nn
    layers = []
    for i in range(6):
        layers.append(nn.Sequential(nn.Linear(5, 5), nn.Tanh()) if i % 2 == 0
                      else nn.Sequential(nn.Linear(5, 5), nn.Sigmoid()))
    return nn.Sequential(*layers).double()


def test_mlp_with_dropout_same_gradients_as_plain_run() -> None:
    bp.manual_seed(0)
    model = _mlp(bp, dropout=0.5)
    x = bp.randn(6, 4, dtype=bp.float64, requires_grad=True)

    bp.manual_seed(1)
    model(x).pow(2).sum().backward()
    plain = _grads(model, x)
    after_plain = bp.rand(3).tolist()

    model.zero_grad()
    x.grad = None
    bp.manual_seed(1)
    checkpoint(model, x, use_reentrant=False).pow(2).sum().backward()
    for a, b in zip(plain, _grads(model, x)):
        np.testing.assert_array_equal(a, b)  # same dropout mask: bit-identical
    # The recomputation replays the stream and puts it back where it was.
    assert bp.rand(3).tolist() == after_plain


def test_without_preserve_rng_state_the_mask_differs() -> None:
    bp.manual_seed(0)
    x = bp.ones(200, dtype=bp.float64, requires_grad=True)
    out = checkpoint(lambda t: F.dropout(t, 0.5), x, use_reentrant=False,
                     preserve_rng_state=False)
    out.sum().backward()
    # The gradient follows the second mask, not the first run's.
    assert not np.array_equal(out.detach().numpy() != 0, x.grad.numpy() != 0)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_mlp_matches_torch(torch: Any, use_reentrant: bool) -> None:
    torch.manual_seed(0)
    theirs = _mlp(torch)
    ours = _mlp(bp)
    _copy_weights(ours, theirs)
    xt = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    xo = bp.tensor(xt.detach().numpy(), requires_grad=True)
    torch.utils.checkpoint.checkpoint(theirs, xt, use_reentrant=use_reentrant).pow(2).sum() \
        .backward()
    checkpoint(ours, xo, use_reentrant=use_reentrant).pow(2).sum().backward()
    for a, b in zip(_grads(theirs, xt), _grads(ours, xo)):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("segments", [2, 3])
def test_checkpoint_sequential_matches_plain_and_torch(torch: Any, segments: int) -> None:
    torch.manual_seed(1)
    theirs = _blocks(torch)
    ours = _blocks(bp)
    _copy_weights(ours, theirs)
    xt = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    xo = bp.tensor(xt.detach().numpy(), requires_grad=True)

    ours(xo).sum().backward()
    plain = _grads(ours, xo)
    ours.zero_grad()
    xo.grad = None
    checkpoint_sequential(ours, segments, xo, use_reentrant=False).sum().backward()
    for a, b in zip(plain, _grads(ours, xo)):
        np.testing.assert_array_equal(a, b)

    torch.utils.checkpoint.checkpoint_sequential(theirs, segments, xt, use_reentrant=False) \
        .sum().backward()
    for a, b in zip(_grads(theirs, xt), _grads(ours, xo)):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_function_runs_exactly_twice() -> None:
    calls = []
    lin = bp.nn.Linear(3, 3)

    def f(t: Any) -> Any:
        calls.append(1)
        return lin(t).tanh()

    x = bp.randn(2, 3, requires_grad=True)
    y = checkpoint(f, x, use_reentrant=False)
    assert len(calls) == 1
    y.sum().backward()
    assert len(calls) == 2
    assert lin.weight.grad is not None


def test_keyword_arguments_pass_through() -> None:
    x = bp.tensor([1.0, 2.0], dtype=bp.float64, requires_grad=True)
    y = checkpoint(lambda t, scale=1.0, power=1: (t ** power * scale).sum(), x,
                   use_reentrant=False, scale=3.0, power=2)
    y.backward()
    assert y.item() == 15.0
    assert x.grad.tolist() == [6.0, 12.0]
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(lambda t, scale=1.0: t * scale, x, use_reentrant=True, scale=3.0)


def test_tensor_keyword_argument_gets_its_gradient() -> None:
    x = bp.tensor([1.0, 2.0], dtype=bp.float64, requires_grad=True)
    w = bp.tensor([5.0, 7.0], dtype=bp.float64, requires_grad=True)
    checkpoint(lambda t, weight: (t * weight).sum(), x, use_reentrant=False, weight=w).backward()
    assert x.grad.tolist() == [5.0, 7.0]
    assert w.grad.tolist() == [1.0, 2.0]


def test_tuple_outputs() -> None:
    bp.manual_seed(2)
    lin = bp.nn.Linear(3, 4).double()
    x = bp.randn(2, 3, dtype=bp.float64, requires_grad=True)

    def f(t: Any) -> tuple:
        h = lin(t)
        return h.tanh(), h.sigmoid(), 7

    a, b, seven = f(x)
    (a * 2 + b * 3).sum().backward()
    plain = _grads(lin, x)
    lin.zero_grad()
    x.grad = None
    a, b, seven = checkpoint(f, x, use_reentrant=False)
    assert seven == 7
    (a * 2 + b * 3).sum().backward()
    for p, q in zip(plain, _grads(lin, x)):
        np.testing.assert_array_equal(p, q)


def test_only_one_output_used() -> None:
    x = bp.tensor([1.0, 2.0], dtype=bp.float64, requires_grad=True)
    a, _ = checkpoint(lambda t: (t * 2, t * 3), x, use_reentrant=False)
    a.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_input_without_grad() -> None:
    lin = bp.nn.Linear(3, 1).double()
    x = bp.ones(2, 3, dtype=bp.float64)  # requires no grad
    y = bp.tensor([[2.0], [3.0]], dtype=bp.float64, requires_grad=True)
    checkpoint(lambda a, b: lin(a) * b, x, y, use_reentrant=False).sum().backward()
    assert x.grad is None
    np.testing.assert_allclose(y.grad.numpy(), lin(x).detach().numpy(), rtol=1e-14)
    assert lin.weight.grad.tolist() == [[5.0, 5.0, 5.0]]
    assert lin.bias.grad.tolist() == [5.0]


def test_no_input_requires_grad(torch: Any) -> None:
    lin = bp.nn.Linear(3, 1).double()
    x = bp.ones(2, 3, dtype=bp.float64)
    # Non-reentrant (as PyTorch's): parameters inside still get their gradients.
    checkpoint(lin, x, use_reentrant=False).sum().backward()
    assert lin.weight.grad.tolist() == [[2.0, 2.0, 2.0]]
    # Reentrant: PyTorch warns and records nothing; so do we.
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = checkpoint(lin, x, use_reentrant=True)
    assert not out.requires_grad
    tlin = torch.nn.Linear(3, 1).double()
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        assert not torch.utils.checkpoint.checkpoint(tlin, torch.ones(2, 3),
                                                     use_reentrant=True).requires_grad


def test_use_reentrant_none_warns_like_torch() -> None:
    x = bp.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed"):
        y = checkpoint(lambda t: t * 2, x)
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed"):
        checkpoint_sequential([bp.nn.Tanh()], 1, x)


def test_bad_arguments() -> None:
    x = bp.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="determinism_check"):
        checkpoint(lambda t: t, x, use_reentrant=False, determinism_check="bogus")
    with pytest.raises(ValueError, match="context_fn"):
        checkpoint(lambda t: t, x, use_reentrant=True, debug=True)
    with pytest.raises(ValueError, match="segments"):
        checkpoint_sequential([bp.nn.Tanh()], 0, x, use_reentrant=False)
    with pytest.raises(ValueError, match=r"segments \(3\) is more than the 2 functions"):
        checkpoint_sequential([bp.nn.Tanh(), bp.nn.Tanh()], 3, x, use_reentrant=False)


def test_recomputation_that_differs_is_an_error() -> None:
    calls = []

    def f(t: Any) -> Any:
        calls.append(1)
        return t * 2 if len(calls) == 1 else (t * 2).sum()

    x = bp.ones(3, requires_grad=True)
    y = checkpoint(f, x, use_reentrant=False)
    with pytest.raises(CheckpointError, match="recomputation"):
        y.sum().backward()


def test_autograd_grad_reaches_parameters() -> None:
    lin = bp.nn.Linear(2, 1).double()
    x = bp.tensor([[1.0, 2.0]], dtype=bp.float64, requires_grad=True)
    out = checkpoint(lin, x, use_reentrant=False).sum()
    gw, gx = bp.autograd.grad(out, [lin.weight, x])
    assert gw.tolist() == [[1.0, 2.0]]
    np.testing.assert_array_equal(gx.numpy(), lin.weight.detach().numpy())
    assert lin.weight.grad is None  # autograd.grad does not accumulate


def test_gradient_of_gradient() -> None:
    x = bp.tensor([1.0, 2.0], dtype=bp.float64, requires_grad=True)
    y = checkpoint(lambda t: (t ** 3).sum(), x, use_reentrant=False)
    (g,) = bp.autograd.grad(y, x, create_graph=True)
    assert g.tolist() == [3.0, 12.0]
    (gg,) = bp.autograd.grad(g.sum(), x)
    assert gg.tolist() == [6.0, 12.0]


def test_captured_tensor_with_history() -> None:
    w = bp.tensor([1.0, 2.0], dtype=bp.float64, requires_grad=True)
    scale = w * 3  # not a leaf: its history must survive the inner pass
    x = bp.tensor([4.0, 5.0], dtype=bp.float64, requires_grad=True)
    checkpoint(lambda t: (t * scale).sum(), x, use_reentrant=False).backward()
    assert x.grad.tolist() == [3.0, 6.0]
    assert w.grad.tolist() == [12.0, 15.0]


def test_saves_less_memory() -> None:
    bp.manual_seed(3)
    model = bp.nn.Sequential(*[bp.nn.Sequential(bp.nn.Linear(32, 32), bp.nn.Tanh())
                               for _ in range(6)])
    x = bp.randn(64, 32, requires_grad=True)
    plain = memory_report(model(x).sum()).activation_bytes
    saved = memory_report(checkpoint_sequential(model, 3, x, use_reentrant=False).sum())
    one = 64 * 32 * 4  # one layer's activation in bytes
    # Plain keeps each tanh's output (the next linear's input too); checkpointed keeps the two
    # checkpointed segments' outputs and the last (plain) segment's two tanh outputs.
    assert plain == 6 * one
    assert saved.activation_bytes == 4 * one


def test_no_grad_mode_just_runs() -> None:
    calls = []
    x = bp.ones(2, requires_grad=True)
    with bp.no_grad():
        y = checkpoint(lambda t: calls.append(1) or t * 2, x, use_reentrant=False)
    assert calls == [1] and not y.requires_grad


def test_served_as_torch_utils_checkpoint() -> None:
    from backprop._torch_modules import torch_served

    with torch_served():
        import torch.utils.checkpoint as served  # type: ignore[import-not-found]
        assert served.checkpoint is checkpoint
        assert served.checkpoint_sequential is checkpoint_sequential
    assert bp.utils.checkpoint.checkpoint is checkpoint  # an attribute, as torch.utils.checkpoint


def test_small_helpers_match_torch(torch: Any) -> None:
    from backprop.utils import checkpoint as ours

    x = bp.ones(2, requires_grad=True) * 2
    d, n = ours.detach_variable((x, None))
    assert d.grad_fn is None and d.requires_grad and n is None
    assert np.shares_memory(d.detach().numpy(), x.detach().numpy())
    with pytest.raises(RuntimeError, match="Only tuple of tensors is supported"):
        ours.detach_variable([x])
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        ours.check_backward_validity([bp.ones(1), 3])
    with ours.set_checkpoint_early_stop(False), ours.set_checkpoint_debug_enabled(None):
        y = checkpoint(lambda t: t * 3, x, use_reentrant=False)
    y.sum().backward()
    for name in ours.__all__:
        assert hasattr(torch.utils.checkpoint, name), name


def test_hooks_of_parameters_and_captured_tensors_fire_once() -> None:
    lin = bp.nn.Linear(2, 2).double()
    w = bp.tensor([1.0, 2.0], dtype=bp.float64, requires_grad=True)
    scale = w * 3
    seen: list[str] = []
    lin.weight.register_hook(lambda g: seen.append("weight"))
    scale.register_hook(lambda g: seen.append("scale"))
    w.register_hook(lambda g: seen.append("w"))
    x = bp.ones(1, 2, dtype=bp.float64, requires_grad=True)
    checkpoint(lambda t: lin(t) * scale, x, use_reentrant=False).sum().backward()
    assert sorted(seen) == ["scale", "w", "weight"]
    assert scale.grad_fn is not None  # given its place in the graph back


def test_input_modified_in_place_is_refused() -> None:
    z = bp.tensor([1.0, 2.0], requires_grad=True) * 1
    y = checkpoint(lambda t: t * t, z, use_reentrant=False)
    z.add_(1)
    with pytest.raises(bp.errors.GraphError, match="modified in place"):
        y.sum().backward()


def test_nested_checkpoints() -> None:
    lin = bp.nn.Linear(2, 2).double()
    x = bp.tensor([[1.0, -2.0]], dtype=bp.float64, requires_grad=True)

    def outer(t: Any) -> Any:
        return checkpoint(lambda u: lin(u).tanh(), t * 2, use_reentrant=False).sum()

    outer(x).backward()
    plain = _grads(lin, x)
    lin.zero_grad()
    x.grad = None
    checkpoint(outer, x, use_reentrant=False).backward()
    for a, b in zip(plain, _grads(lin, x)):
        np.testing.assert_allclose(b, a, rtol=1e-14)
