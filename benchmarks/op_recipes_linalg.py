"""Recipes of ``benchmarks.op_recipes`` for products, linear algebra and signal processing
(316x316 matrices, about 1e5 elements like the plain table's inputs). Importing
``benchmarks.op_recipes`` registers them."""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.op_recipes import N, S, _array, _leaf, _no_grad, _shaped, _spd, calls, recipe

# ---------------------------------------------------------------------------------------------
# Products and linear algebra.

calls("dot vdot", "1e5 . 1e5", lambda lib, x, y: (_shaped(lib, x, (N,)), _shaped(lib, y, (N,))))


calls("outer ger", "316 x 316", lambda lib, x, y: (_shaped(lib, x, (S,)), _shaped(lib, y, (S,))))


@recipe("mv", "316x316 @ 316")
def _mv(lib, x, y):
    a, v = _shaped(lib, x, (S, S)), _shaped(lib, y, (S,))
    return lambda: lib.mv(a, v)


@recipe("addmv", "316 + 316x316 @ 316")
def _addmv(lib, x, y):
    c, a, v = _shaped(lib, y, (S,)), _shaped(lib, x, (S, S)), _shaped(lib, y, (S,))
    return lambda: lib.addmv(c, a, v)


@recipe("addr", "316x316 + 316 x 316")
def _addr(lib, x, y):
    c, a, b = _shaped(lib, y, (S, S)), _shaped(lib, x, (S,)), _shaped(lib, y, (S,))
    return lambda: lib.addr(c, a, b)


@recipe("addmm", "316x316 + 316x316 @ 316x316")
def _addmm(lib, x, y):
    c, a, b = _shaped(lib, y, (S, S)), _shaped(lib, x, (S, S)), _shaped(lib, y, (S, S))
    return lambda: lib.addmm(c, a, b)


calls("matmul:rect mm:rect", "(100,1000) @ (1000,100)",
      lambda lib, x, y: (x, _shaped(lib, y, (1000, 100))))


@recipe("bmm", "(10,100,100) @ (10,100,100)")
def _bmm(lib, x, y):
    a, b = _shaped(lib, x, (10, 100, 100)), _shaped(lib, y, (10, 100, 100))
    return lambda: lib.bmm(a, b)


@recipe("baddbmm", "(10,100,100) + bmm")
def _baddbmm(lib, x, y):
    c = _shaped(lib, y, (10, 100, 100))
    a, b = _shaped(lib, x, (10, 100, 100)), _shaped(lib, y, (10, 100, 100))
    return lambda: lib.baddbmm(c, a, b)


@recipe("addbmm", "(100,100) + sum of bmm")
def _addbmm(lib, x, y):
    c = _shaped(lib, y, (100, 100))
    a, b = _shaped(lib, x, (10, 100, 100)), _shaped(lib, y, (10, 100, 100))
    return lambda: lib.addbmm(c, a, b)


@recipe("einsum", "'ij,jk->ik' 316x316")
def _einsum(lib, x, y):
    a, b = _shaped(lib, x, (S, S)), _shaped(lib, y, (S, S))
    return lambda: lib.einsum("ij,jk->ik", a, b)


@recipe("einsum:batch", "'bij,bjk->bik' (10,100,100)")
def _einsum_batch(lib, x, y):
    a, b = _shaped(lib, x, (10, 100, 100)), _shaped(lib, y, (10, 100, 100))
    return lambda: lib.einsum("bij,bjk->bik", a, b)


@recipe("linalg.multi_dot", "3 x 316x316")
def _multi_dot(lib, x, y):
    a, b, c = _shaped(lib, x, (S, S)), _shaped(lib, y, (S, S)), _shaped(lib, x, (S, S))
    return lambda: lib.linalg.multi_dot([a, b, c])


calls("matrix_power linalg.matrix_power", "316x316 SPD ^ 3", lambda lib, x, y: (_spd(lib, x), 3))


@recipe("linalg.solve_triangular", "316x316 upper, 316x316")
def _solve_triangular(lib, x, y):
    a = _leaf(lib, x, np.triu(_array(_spd(lib, x))))
    b = _shaped(lib, y, (S, S))
    return lambda: lib.linalg.solve_triangular(a, b, upper=True)


def _lu_of(lib: Any, x: Any) -> tuple[Any, Any]:
    with lib.no_grad():
        lu, piv = lib.linalg.lu_factor(_spd(lib, x).detach())
    return _leaf(lib, x, _array(lu)), piv


@recipe("lu_solve", "316x316 LU, 316x316")
def _lu_solve_old(lib, x, y):
    lu, piv = _lu_of(lib, x)
    b = _shaped(lib, y, (S, S))
    return lambda: lib.lu_solve(b, lu, piv)


@recipe("linalg.lu_solve", "316x316 LU, 316x316")
def _lu_solve(lib, x, y):
    lu, piv = _lu_of(lib, x)
    b = _shaped(lib, y, (S, S))
    return lambda: lib.linalg.lu_solve(lu, piv, b)


@recipe("lu_unpack", "316x316 LU")
def _lu_unpack(lib, x, y):
    lu, piv = _lu_of(lib, x)
    return lambda: lib.lu_unpack(lu, piv)[1:]  # (L, U): the permutation has no gradient


@recipe("linalg.ldl_solve", "316x316 LDL, 316x316", backward=False)
def _ldl_solve(lib, x, y):
    with lib.no_grad():
        ld, piv = lib.linalg.ldl_factor(_spd(lib, x).detach())
    b = _no_grad(lib, np.resize(_array(y), (S, S)))
    return lambda: lib.linalg.ldl_solve(ld, piv, b)


def _qr_of(lib: Any, x: Any) -> tuple[Any, Any]:
    with lib.no_grad():
        a, tau = lib.geqrf(_shaped(lib, x, (S, S)).detach())
    return _leaf(lib, x, _array(a)), _leaf(lib, x, _array(tau))


calls("orgqr linalg.householder_product", "316x316 Householder",
      lambda lib, x, y: _qr_of(lib, x))


@recipe("ormqr", "316x316 Householder, 316x316")
def _ormqr(lib, x, y):
    a, tau = _qr_of(lib, x)
    c = _shaped(lib, y, (S, S))
    return lambda: lib.ormqr(a, tau, c)


@recipe("linalg.tensorinv", "316x316 SPD as (316,4,79), ind=1")
def _tensorinv(lib, x, y):
    a = _leaf(lib, x, _array(_spd(lib, x)).reshape(S, 4, 79))
    return lambda: lib.linalg.tensorinv(a, ind=1)


@recipe("linalg.tensorsolve", "(316,4,79) SPD, 316")
def _tensorsolve(lib, x, y):
    a = _leaf(lib, x, _array(_spd(lib, x)).reshape(S, 4, 79))
    b = _shaped(lib, y, (S,))
    return lambda: lib.linalg.tensorsolve(a, b)


# ---------------------------------------------------------------------------------------------
# Signal processing.

@recipe("stft", "1e5 samples, n_fft=256, hann window", backward=False)
def _stft(lib, x, y):
    s = _shaped(lib, x, (N,))
    w = lib.hann_window(256)
    return lambda: lib.stft(s, 256, window=w, return_complex=True)


@recipe("istft", "stft of 1e5 samples, n_fft=256", backward=False)
def _istft(lib, x, y):
    w = lib.hann_window(256)
    spec = lib.stft(_no_grad(lib, _array(x).ravel()), 256, window=w, return_complex=True)
    return lambda: lib.istft(spec, 256, window=w, length=N)
