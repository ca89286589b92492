"""Loss behaviour the op table does not reach: edge values, second derivatives against
PyTorch's, the all-ignored mean, broadcasting warnings, float32 on a real batch size."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F


def _hessian(fn, x: np.ndarray) -> np.ndarray:
    """d2 fn / dx2 assembled from gradients of gradient components (create_graph)."""
    xt = bp.tensor(x, requires_grad=True)
    (g,) = bp.autograd.grad(fn(xt), [xt], create_graph=True)
    if not g.requires_grad:  # the gradient does not depend on x
        return np.zeros((x.size, x.size))
    rows = []
    for i in range(x.size):
        (row,) = bp.autograd.grad(g.reshape(-1)[i], [xt], retain_graph=True, allow_unused=True)
        rows.append(np.zeros(x.size) if row is None else row.numpy().ravel())
    return np.stack(rows)


CE_OPTIONS = [
    {},
    {"label_smoothing": 0.3},
    {"weight": True, "ignore_index": 2},
    {"weight": True, "label_smoothing": 0.2, "reduction": "sum"},
]


@pytest.mark.parametrize("options", CE_OPTIONS, ids=[str(o) for o in CE_OPTIONS])
def test_cross_entropy_hessian_matches_pytorch(options: dict, torch) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    target = np.array([2, 0, 3])
    weight = rng.uniform(0.5, 2, 4)

    def kwargs(lib):
        kw = dict(options)
        if kw.pop("weight", False):
            kw["weight"] = lib.tensor(weight)
        return kw

    ours = _hessian(lambda t: F.cross_entropy(t, bp.tensor(target), **kwargs(bp)), x)
    theirs = torch.autograd.functional.hessian(
        lambda t: torch.nn.functional.cross_entropy(t, torch.tensor(target), **kwargs(torch)),
        torch.tensor(x)).reshape(x.size, x.size).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_binary_cross_entropy_hessians_match_pytorch(name: str, torch) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0.1, 0.9, (2, 3)) if name == "binary_cross_entropy" else rng.normal(size=(2, 3))
    target = rng.uniform(0, 1, (2, 3))
    weight = rng.uniform(0.5, 2, 3)
    ours = _hessian(lambda t: getattr(F, name)(t, bp.tensor(target), bp.tensor(weight)), x)
    theirs = torch.autograd.functional.hessian(
        lambda t: getattr(torch.nn.functional, name)(t, torch.tensor(target),
                                                    torch.tensor(weight)),
        torch.tensor(x)).reshape(x.size, x.size).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-12)


def test_nll_loss_is_linear_so_its_hessian_is_zero() -> None:
    x = np.random.default_rng(2).standard_normal((3, 4))
    hessian = _hessian(lambda t: F.nll_loss(t, bp.tensor([0, 3, 1])), x)
    np.testing.assert_array_equal(hessian, 0.0)


def test_all_targets_ignored_gives_nan_mean_and_zero_sum(torch) -> None:
    x = bp.randn(2, 3, dtype=bp.float64, requires_grad=True)
    target = bp.tensor([-100, -100])
    loss = F.cross_entropy(x, target)
    expected = torch.nn.functional.cross_entropy(torch.tensor(x.detach().numpy()),
                                                 torch.tensor(target.numpy()))
    assert np.isnan(loss.item()) and np.isnan(expected.item())
    total = F.cross_entropy(x, target, reduction="sum")
    assert total.item() == 0.0
    total.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_rows_of_very_different_scale(dtype, torch) -> None:
    """One row's logits far below another's: shifting by one global max would underflow the
    low row, so the forward must fall back to a max per row."""
    x = np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -999.5]], dtype=dtype)
    target = np.array([1, 2])
    xt = bp.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xt, bp.tensor(target), reduction="none")
    loss.sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(tx, torch.tensor(target), reduction="none")
    expected.sum().backward()
    assert loss.dtype == dtype and xt.grad.dtype == dtype
    np.testing.assert_allclose(loss.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_cross_entropy_float32_batch_is_close_to_float64() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((128, 10)) * 5
    target = bp.tensor(rng.integers(0, 10, 128))
    results = []
    for dtype in (bp.float32, bp.float64):
        xt = bp.tensor(x, dtype=dtype, requires_grad=True)
        loss = F.cross_entropy(xt, target, label_smoothing=0.1)
        loss.backward()
        assert loss.dtype == dtype and xt.grad.dtype == dtype
        results.append((loss.item(), xt.grad.numpy().astype(np.float64)))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-6)
    # float32 against float64 of the same formula: float32's resolution, not a loosened check.
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4, atol=1e-7)


def test_backward_twice_with_retained_graph_gives_the_same_gradient() -> None:
    x = bp.randn(4, 5, requires_grad=True)
    loss = F.cross_entropy(x, bp.tensor([0, 1, 2, 3]), label_smoothing=0.1)
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    x.grad = None
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), first)


def test_binary_cross_entropy_at_exact_zero_and_one_matches_pytorch(torch) -> None:
    """Each log is clamped at -100, so certain wrong predictions give 100, not inf."""
    x = np.array([0.0, 1.0, 0.0, 1.0])
    target = np.array([1.0, 0.0, 0.0, 1.0])
    ours = F.binary_cross_entropy(bp.tensor(x), bp.tensor(target), reduction="none")
    theirs = torch.nn.functional.binary_cross_entropy(torch.tensor(x), torch.tensor(target),
                                                      reduction="none")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_binary_cross_entropy_with_logits_is_stable_for_huge_logits(torch) -> None:
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0])
    target = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    xt = bp.tensor(x, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(xt, bp.tensor(target), reduction="none",
                                              pos_weight=bp.tensor([2.0] * 5))
    loss.sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        tx, torch.tensor(target), reduction="none", pos_weight=torch.tensor([2.0] * 5))
    expected.sum().backward()
    np.testing.assert_allclose(loss.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    assert np.isfinite(loss.detach().numpy()).all()


def test_mse_loss_broadcasts_a_different_target_with_a_warning_as_pytorch(torch) -> None:
    x, target = np.arange(6.0).reshape(2, 3), np.array([1.0, 0.0, 2.0])
    with pytest.warns(UserWarning, match=r"mse_loss: target shape \(3,\) differs from input "
                                         r"shape \(2, 3\)"):
        ours = F.mse_loss(bp.tensor(x), bp.tensor(target))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(target))
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)


def test_losses_accept_class_index_targets_as_arrays() -> None:
    """Class indices may be NumPy arrays as well as tensors."""
    x = bp.randn(3, 4)
    target = np.array([0, 1, 3])
    assert F.cross_entropy(x, target).item() == F.cross_entropy(x, bp.tensor(target)).item()
    assert F.nll_loss(x, target).item() == F.nll_loss(x, bp.tensor(target)).item()
