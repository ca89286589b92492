"""The shorter paths of ops that were several times PyTorch's time (issue 20: no cliffs): each
gives PyTorch's numbers, layout and view semantics, and the general path's bits."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("fn,shape,kwargs", [
    ("fft2", (6, 8), {}), ("fft2", (5, 7), {"norm": "ortho"}), ("fftn", (3, 4, 5), {}),
    ("fftn", (3, 4, 6), {"dim": (2, 0)}), ("fftn", (1, 5), {}), ("ifft2", (4, 6), {}),
    ("ifftn", (3, 5, 4), {"norm": "forward"}), ("fft2", (5, 4), {"s": (3, 7)}),
])
def test_real_input_over_several_dims(fn: str, shape: tuple[int, ...], kwargs: dict) -> None:
    """Half a transform and its conjugate mirror: PyTorch's values and dtypes, and gradients."""
    rng = np.random.default_rng(0)
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-4)):
        a = rng.standard_normal(shape).astype(dtype)
        ours = getattr(bp.fft, fn)(bp.tensor(a), **kwargs).numpy()
        theirs = getattr(torch.fft, fn)(torch.tensor(a), **kwargs).numpy()
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, atol=tol * max(1.0, np.abs(theirs).max()))
    x = bp.tensor(a.astype(np.float64), requires_grad=True)
    tx = torch.tensor(a.astype(np.float64), requires_grad=True)
    w = rng.standard_normal(ours.shape)
    out, tout = getattr(bp.fft, fn)(x, **kwargs), getattr(torch.fft, fn)(tx, **kwargs)
    (out.real * bp.tensor(w) + out.imag * bp.tensor(w * w)).sum().backward()
    (tout.real * torch.tensor(w) + tout.imag * torch.tensor(w * w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("fn", ["fftfreq", "rfftfreq"])
@pytest.mark.parametrize("n,d", [(100_000, 1.0), (7, 0.3), (10, 1 / 3), (1001, 2.5), (0, 1.0)])
def test_frequencies_are_pytorchs_bits(fn: str, n: int, d: float) -> None:
    for dtype in (bp.float32, bp.float64):
        ours = getattr(bp.fft, fn)(n, d, dtype=dtype).numpy()
        theirs = getattr(torch.fft, fn)(n, d, dtype=getattr(torch, str(dtype).split(".")[-1]))
        np.testing.assert_array_equal(ours, theirs.numpy())
        assert ours.dtype == theirs.numpy().dtype


def test_as_strided_plain_call_is_a_view_like_pytorchs() -> None:
    a = np.arange(24.0)
    x, tx = bp.tensor(a), torch.tensor(a)
    for args in [((3, 4), (4, 1)), ((4, 3), (1, 4), 2), ((2, 2), (12, 1), 10), ((5,), (0,))]:
        np.testing.assert_array_equal(bp.as_strided(x, *args).numpy(),
                                      torch.as_strided(tx, *args).numpy())
    view = bp.as_strided(x, (3, 4), (4, 1))
    x.add_(1)  # a write through the base reaches the view, whose version counter it shares
    assert view.numpy()[0, 0] == 1.0 and view._version is x._version
    with pytest.raises(bp.errors.ShapeError, match="out of bounds"):
        bp.as_strided(x, (3, 9), (9, 1))
    y = bp.tensor(a, requires_grad=True)  # recorded: the primitive's path, same values
    bp.as_strided(y, (3, 4), (1, 3)).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), np.r_[np.ones(12), np.zeros(12)])


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_split_with_sizes_copy_gives_contiguous_copies(dim: int) -> None:
    a = np.random.default_rng(1).standard_normal((6, 6, 6))
    x = bp.tensor(a)
    pieces = bp.split_with_sizes_copy(x, [1, 3, 2], dim)
    expected = torch.split_with_sizes_copy(torch.tensor(a), [1, 3, 2], dim)
    for ours, theirs in zip(pieces, expected):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        if dim:  # PyTorch's pieces are contiguous (dim 0's are views of one copy, also so)
            assert ours.numpy().flags.c_contiguous
    pieces[1].add_(1)
    np.testing.assert_array_equal(x.numpy(), a)  # copies: the input is left alone


def test_split_pieces_are_views_sharing_the_version() -> None:
    x = bp.zeros(4, 6)
    pieces = bp.split_with_sizes(x, [2, 4], 1)
    pieces[1].add_(1)
    assert x.numpy()[:, 2:].sum() == 16 and pieces[0]._version is x._version


def test_unflatten_and_linalg_diagonal_take_any_int_sequence() -> None:
    x = bp.arange(24.0).reshape(2, 12)
    assert x.unflatten(1, [np.int64(3), 4]).shape == (2, 3, 4)
    assert bp.unflatten(x, -1, (3, -1)).shape == (2, 3, 4)
    m = bp.arange(9.0).reshape(3, 3)
    assert bp.linalg.diagonal(m, offset=np.int64(1)).tolist() == [1.0, 5.0]


@pytest.mark.parametrize("dims", [(1,), (0, 1), (1, 0), (0, 2), (2,)])
def test_the_full_real_transform_kernel_is_the_definition(dims: tuple[int, ...]) -> None:
    """The NumPy kernel (written into the result's first half) gives the forward's bits."""
    from backprop.ops.spectral import _fft_r2c

    a = np.random.default_rng(2).standard_normal((4, 5, 6)).astype(np.float32)
    for norm in ("backward", "forward", "ortho"):
        expected = _fft_r2c.forward(a, dims=dims, norm=norm, onesided=False)
        got = _fft_r2c(a, dims=dims, norm=norm, onesided=False)
        np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))
