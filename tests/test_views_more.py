"""The views of ``ops/views_more.py`` are views: they share memory with their base, see its
in-place changes and pass their own writes (with their gradients) back to it, as PyTorch's do;
``as_strided`` counts in the base's storage; ``resize_`` keeps the leading elements."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import backprop as bp


def _aten_slice(lib: Any, x: Any, *args: Any) -> Any:
    return bp.slice(x, *args) if lib is bp else lib.ops.aten.slice(x, *args)


VIEWS: dict[str, Callable[[Any, Any], Any]] = {
    "diagonal": lambda lib, y: y.diagonal(),
    "diagonal-below": lambda lib, y: y.diagonal(-1),
    "diagonal-of-transpose": lambda lib, y: y.t().diagonal(1),
    "linalg.diagonal": lambda lib, y: lib.linalg.diagonal(y),
    "slice": lambda lib, y: _aten_slice(lib, y, 1, 1, None, 2),
    "as_strided": lambda lib, y: y.as_strided((2, 2), (4, 1), 1),
    "as_strided-of-a-view": lambda lib, y: y[1:].as_strided((2, 2), (4, 1)),
    "unfold": lambda lib, y: y.unfold(1, 2, 2),
    "mH": lambda lib, y: y.mH,
    "H": lambda lib, y: y.H,
}


@pytest.mark.parametrize("name", VIEWS)
def test_a_write_through_the_view_reaches_the_base_and_its_gradient(name: str,
                                                                    torch: Any) -> None:
    results = []
    for lib in (bp, torch):
        base = lib.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
        y = base * 1.0
        VIEWS[name](lib, y).mul_(3.0)
        (grad,) = lib.autograd.grad((y * y).sum(), base)
        results.append((y.detach().numpy().copy(), grad.numpy().copy()))
    (ours, ours_grad), (theirs, theirs_grad) = results
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(ours_grad, theirs_grad)


@pytest.mark.parametrize("name", VIEWS)
def test_the_view_shares_memory_and_version(name: str) -> None:
    base = bp.zeros(3, 4)
    view = VIEWS[name](bp, base)
    assert view._base is base and view._version is base._version
    base.add_(2.0)
    assert (view.numpy() == 2.0).all()


def test_as_strided_counts_in_the_storage_of_a_view(torch: Any) -> None:
    ours, theirs = bp.arange(10.0)[2:], torch.arange(10.0)[2:]
    for args in [((2,), (1,)), ((2,), (1,), 0), ((3,), (3,), 1)]:
        np.testing.assert_array_equal(ours.as_strided(*args).numpy(),
                                      theirs.as_strided(*args).numpy())


def test_as_strided_refuses_what_lies_outside_the_storage() -> None:
    with pytest.raises(bp.ShapeError, match=r"reach element 4, out of bounds for a storage of 4"):
        bp.ones(4).as_strided((2,), (4,))
    with pytest.raises(ValueError, match="negative strides"):
        bp.ones(4).as_strided((2,), (-1,), 3)
    assert bp.ones(4).as_strided((0,), (1,), 9).shape == (0,)  # nothing read: PyTorch's too


def test_gradients_take_a_broadcast_upstream() -> None:
    """``sum``'s gradient is a stride-0 array; the scatters read it in C order."""
    x = bp.zeros(2, 3, requires_grad=True)
    src = bp.ones(3, dtype=bp.float64, requires_grad=True)
    bp.select_scatter(x * 1, src, 0, 1).sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    assert src.grad.dtype == bp.float64 and src.grad.tolist() == [1.0, 1.0, 1.0]


def test_overlapping_windows_sum_their_gradients(torch: Any) -> None:
    ours = bp.arange(5.0, requires_grad=True)
    theirs = torch.arange(5.0, requires_grad=True)
    ours.unfold(0, 3, 1).sum().backward()
    theirs.unfold(0, 3, 1).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_resize_keeps_the_leading_elements() -> None:
    x = bp.arange(6.0)
    assert x.resize_(2, 2).tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert x.resize_as_(bp.zeros(4)).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert x.resize_(3, 3).shape == (3, 3)
    with pytest.raises(bp.GraphError, match="cannot resize a tensor that requires grad"):
        bp.zeros(2, requires_grad=True).resize_(3)
