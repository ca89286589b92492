"""``FamilyMethods``: the Tensor methods of the op families PyTorch keeps in its namespaces
and the ones added with them (linear algebra, special functions, views and scatters,
indexing and counting, Fourier transforms and complex numbers), each a one-line delegation as
in ``TensorMethods``, which this file continues.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .tensor_methods import OpsNotImported

if TYPE_CHECKING:
    from typing import TypeAlias

    import numpy as np
    from numpy.typing import DTypeLike

    from .tensor import Tensor

    Operand: TypeAlias = Tensor | np.ndarray | np.generic | float
    Dims: TypeAlias = int | Sequence[int]

_ops: Any = OpsNotImported(globals())


class FamilyMethods:
    """More methods of ``Tensor`` that delegate to ops (a mixin: no state of its own)."""

    __slots__ = ()

    # -- linalg_solve --

    def det(self) -> Tensor:
        """The determinant of each square matrix (``bp.det``)."""
        return _ops.linalg_solve.det(self)

    def inverse(self) -> Tensor:
        """The inverse of each square matrix (``bp.inverse``)."""
        return _ops.linalg_solve.inverse(self)

    def logdet(self) -> Tensor:
        """The log of each square matrix's determinant (``bp.logdet``)."""
        return _ops.linalg_solve.logdet(self)

    def slogdet(self) -> Any:
        """``(sign, logabsdet)`` of each square matrix's determinant (``bp.slogdet``)."""
        return _ops.linalg_solve.slogdet(self)

    def matrix_power(self, n: int) -> Tensor:
        """Each square matrix to the integer power ``n`` (``bp.matrix_power``)."""
        return _ops.linalg_solve.matrix_power(self, n)

    def matrix_exp(self) -> Tensor:
        """The exponential of each square matrix (``bp.matrix_exp``)."""
        return _ops.linalg_solve.matrix_exp(self)

    def cholesky(self, upper: bool = False) -> Tensor:
        """The Cholesky factor of each positive-definite matrix (``bp.cholesky``)."""
        return _ops.linalg_solve.cholesky(self, upper)

    def cholesky_inverse(self, upper: bool = False) -> Tensor:
        """The inverse of ``L L^T`` from the Cholesky factor L (``bp.cholesky_inverse``)."""
        return _ops.linalg_solve.cholesky_inverse(self, upper)

    def cholesky_solve(self, input2: Tensor, upper: bool = False) -> Tensor:
        """Solve ``A X = self`` from A's Cholesky factor ``input2`` (``bp.cholesky_solve``)."""
        return _ops.linalg_solve.cholesky_solve(self, input2, upper)

    def lu(self, pivot: bool = True, get_infos: bool = False) -> Any:
        """``(LU, pivots[, infos])``: the packed LU factorization (``bp.lu``)."""
        return _ops.linalg_solve.lu(self, pivot, get_infos)

    def lu_solve(self, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
        """Solve ``A X = self`` from A's LU factorization (``bp.lu_solve``)."""
        return _ops.linalg_solve.lu_solve(self, LU_data, LU_pivots)

    def triangular_solve(self, A: Tensor, upper: bool = True, transpose: bool = False,
                         unitriangular: bool = False) -> Any:
        """``(solution, cloned_coefficient)`` of ``A X = self`` (``bp.triangular_solve``)."""
        return _ops.linalg_solve.triangular_solve(self, A, upper, transpose, unitriangular)


    # -- linalg_decompositions --

    def svd(self, some: bool = True, compute_uv: bool = True) -> Any:
        """``(U, S, V)`` with ``self = U diag(S) V^T`` (``bp.svd``)."""
        return _ops.linalg_decompositions.svd(self, some, compute_uv)

    def qr(self, some: bool = True) -> Any:
        """``(Q, R)``, the QR decomposition (``bp.qr``)."""
        return _ops.linalg_decompositions.qr(self, some)

    def geqrf(self) -> Any:
        """LAPACK's geqrf: ``(a, tau)``, R and the Householder vectors (``bp.geqrf``)."""
        return _ops.linalg_decompositions.geqrf(self)

    def orgqr(self, input2: Tensor) -> Tensor:
        """Q from geqrf's ``(self, input2)`` (``bp.orgqr``, ``bp.linalg.householder_product``)."""
        return _ops.linalg_decompositions.householder_product(self, input2)

    def ormqr(self, input2: Tensor, input3: Tensor, left: bool = True,
              transpose: bool = False) -> Tensor:
        """``input3`` multiplied by geqrf's Q of ``(self, input2)`` (``bp.ormqr``)."""
        return _ops.linalg_decompositions.ormqr(self, input2, input3, left, transpose)

    def pinverse(self, rcond: float = 1e-15) -> Tensor:
        """The Moore-Penrose pseudo-inverse (``bp.pinverse``)."""
        return _ops.linalg_decompositions.pinverse(self, rcond)


    # -- linalg_products --

    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        """``beta * self + alpha * (mat1 @ mat2)`` (``bp.addmm``)."""
        return _ops.linalg_products.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmm_(self, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        """``addmm`` in place."""
        return _ops.linalg_products.addmm_(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmv(self, mat: Tensor, vec: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        """``beta * self + alpha * (mat @ vec)`` (``bp.addmv``)."""
        return _ops.linalg_products.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addmv_(self, mat: Tensor, vec: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        """``addmv`` in place."""
        return _ops.linalg_products.addmv_(self, mat, vec, beta=beta, alpha=alpha)

    def addr(self, vec1: Tensor, vec2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        """``beta * self + alpha * outer(vec1, vec2)`` (``bp.addr``)."""
        return _ops.linalg_products.addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def addr_(self, vec1: Tensor, vec2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        """``addr`` in place."""
        return _ops.linalg_products.addr_(self, vec1, vec2, beta=beta, alpha=alpha)

    def addbmm(self, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
               alpha: float = 1) -> Tensor:
        """``beta * self + alpha * sum_i batch1[i] @ batch2[i]`` (``bp.addbmm``)."""
        return _ops.linalg_products.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addbmm_(self, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
                alpha: float = 1) -> Tensor:
        """``addbmm`` in place."""
        return _ops.linalg_products.addbmm_(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
                alpha: float = 1) -> Tensor:
        """``beta * self + alpha * bmm(batch1, batch2)`` (``bp.baddbmm``)."""
        return _ops.linalg_products.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm_(self, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
                 alpha: float = 1) -> Tensor:
        """``baddbmm`` in place."""
        return _ops.linalg_products.baddbmm_(self, batch1, batch2, beta=beta, alpha=alpha)

    def kron(self, other: Tensor) -> Tensor:
        """The Kronecker product (``bp.kron``)."""
        return _ops.linalg_products.kron(self, other)

    def vdot(self, other: Tensor) -> Tensor:
        """The dot product of 1-D tensors (``bp.vdot``)."""
        return _ops.linalg_products.vdot(self, other)

    def cross(self, other: Tensor, dim: int | None = None) -> Tensor:
        """The cross product of 3-vectors along ``dim`` (``bp.cross``)."""
        return _ops.linalg_products.cross(self, other, dim)

    def dist(self, other: Tensor, p: float = 2) -> Tensor:
        """The ``p``-norm of ``self - other`` (``bp.dist``)."""
        return _ops.linalg_products.dist(self, other, p)

    def renorm(self, p: float, dim: int, maxnorm: float) -> Tensor:
        """Slices along ``dim`` scaled to ``p``-norm at most ``maxnorm`` (``bp.renorm``)."""
        return _ops.linalg_products.renorm(self, p, dim, maxnorm)

    def renorm_(self, p: float, dim: int, maxnorm: float) -> Tensor:
        """``renorm`` in place."""
        return _ops.linalg_products.renorm_(self, p, dim, maxnorm)

    def cov(self, *, correction: int = 1, fweights: Tensor | None = None,
            aweights: Tensor | None = None) -> Tensor:
        """The covariance matrix of the rows' variables (``bp.cov``)."""
        return _ops.linalg_products.cov(self, correction=correction, fweights=fweights,
                                        aweights=aweights)

    def corrcoef(self) -> Tensor:
        """Pearson's correlation coefficients of the rows' variables (``bp.corrcoef``)."""
        return _ops.linalg_products.corrcoef(self)


    # -- special_functions --

    def i0(self) -> Tensor:
        """The modified Bessel function ``I0`` (``bp.i0``)."""
        return _ops.special_functions.i0(self)

    def i0_(self) -> Tensor:
        """``i0`` in place."""
        return _ops.inplace.apply_inplace(self, "i0_", _ops.special_functions.i0)

    def erfinv(self) -> Tensor:
        """The inverse error function (``bp.erfinv``)."""
        return _ops.special_functions.erfinv(self)

    def erfinv_(self) -> Tensor:
        """``erfinv`` in place."""
        return _ops.inplace.apply_inplace(self, "erfinv_", _ops.special_functions.erfinv)

    def mvlgamma(self, p: int) -> Tensor:
        """The multivariate log-gamma function of dimension ``p`` (``bp.mvlgamma``)."""
        return _ops.special_functions.mvlgamma(self, p)

    def mvlgamma_(self, p: int) -> Tensor:
        """``mvlgamma`` in place."""
        return _ops.inplace.apply_inplace(self, "mvlgamma_",
                                          lambda old: _ops.special_functions.mvlgamma(old, p))

    def igamma(self, other: Operand) -> Tensor:
        """The regularised lower incomplete gamma function ``P(self, other)`` (``bp.igamma``)."""
        return _ops.special_functions.igamma(self, other)

    def igamma_(self, other: Operand) -> Tensor:
        """``igamma`` in place."""
        return _ops.inplace.apply_inplace(self, "igamma_",
                                          lambda old: _ops.special_functions.igamma(old, other))

    def igammac(self, other: Operand) -> Tensor:
        """The regularised upper incomplete gamma function ``Q(self, other)`` (``bp.igammac``)."""
        return _ops.special_functions.igammac(self, other)

    def igammac_(self, other: Operand) -> Tensor:
        """``igammac`` in place."""
        return _ops.inplace.apply_inplace(self, "igammac_",
                                          lambda old: _ops.special_functions.igammac(old, other))


    # -- special_polynomials and pointwise_tail --

    def sinh(self) -> Tensor:
        """The hyperbolic sine (``bp.sinh``)."""
        return _ops.pointwise_tail.sinh(self)

    def sinh_(self) -> Tensor:
        """The hyperbolic sine, in place."""
        return _ops.inplace.apply_inplace(self, "sinh_", _ops.pointwise_tail.sinh)

    def cosh(self) -> Tensor:
        """The hyperbolic cosine (``bp.cosh``)."""
        return _ops.pointwise_tail.cosh(self)

    def cosh_(self) -> Tensor:
        """The hyperbolic cosine, in place."""
        return _ops.inplace.apply_inplace(self, "cosh_", _ops.pointwise_tail.cosh)

    def fmax(self, other: Operand) -> Tensor:
        """The larger of each pair, ignoring nan (``bp.fmax``)."""
        return _ops.pointwise_tail.fmax(self, other)

    def fmin(self, other: Operand) -> Tensor:
        """The smaller of each pair, ignoring nan (``bp.fmin``)."""
        return _ops.pointwise_tail.fmin(self, other)

    def gcd(self, other: Operand) -> Tensor:
        """The greatest common divisor (``bp.gcd``)."""
        return _ops.pointwise_tail.gcd(self, other)

    def gcd_(self, other: Operand) -> Tensor:
        """The greatest common divisor, in place."""
        return _ops.inplace.apply_inplace(self, "gcd_",
                                          lambda old: _ops.pointwise_tail.gcd(old, other))

    def lcm(self, other: Operand) -> Tensor:
        """The least common multiple (``bp.lcm``)."""
        return _ops.pointwise_tail.lcm(self, other)

    def lcm_(self, other: Operand) -> Tensor:
        """The least common multiple, in place."""
        return _ops.inplace.apply_inplace(self, "lcm_",
                                          lambda old: _ops.pointwise_tail.lcm(old, other))

    def bitwise_left_shift(self, other: Operand) -> Tensor:
        """``self << other`` (``bp.bitwise_left_shift``)."""
        return _ops.pointwise_tail.bitwise_left_shift(self, other)

    def bitwise_left_shift_(self, other: Operand) -> Tensor:
        """``self <<= other``."""
        return _ops.inplace.apply_inplace(
            self, "bitwise_left_shift_",
            lambda old: _ops.pointwise_tail.bitwise_left_shift(old, other))

    def bitwise_right_shift(self, other: Operand) -> Tensor:
        """``self >> other`` (``bp.bitwise_right_shift``)."""
        return _ops.pointwise_tail.bitwise_right_shift(self, other)

    def bitwise_right_shift_(self, other: Operand) -> Tensor:
        """``self >>= other``."""
        return _ops.inplace.apply_inplace(
            self, "bitwise_right_shift_",
            lambda old: _ops.pointwise_tail.bitwise_right_shift(old, other))

    __lshift__ = bitwise_left_shift
    __rshift__ = bitwise_right_shift
    __ilshift__ = bitwise_left_shift_
    __irshift__ = bitwise_right_shift_

    def __rlshift__(self, other: Operand) -> Tensor:
        return _ops.pointwise_tail.bitwise_left_shift(other, self)

    def __rrshift__(self, other: Operand) -> Tensor:
        return _ops.pointwise_tail.bitwise_right_shift(other, self)

    def nextafter(self, other: Operand) -> Tensor:
        """The next float towards ``other`` (``bp.nextafter``)."""
        return _ops.pointwise_tail.nextafter(self, other)

    def nextafter_(self, other: Operand) -> Tensor:
        """The next float towards ``other``, in place."""
        return _ops.inplace.apply_inplace(
            self, "nextafter_", lambda old: _ops.pointwise_tail.nextafter(old, other))

    def frexp(self) -> tuple[Tensor, Tensor]:
        """``(mantissa, exponent)`` (``bp.frexp``)."""
        return _ops.pointwise_tail.frexp(self)



    # -- views_more --

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The diagonal of dims ``dim1`` and ``dim2``, a view (``bp.diagonal``)."""
        return _ops.views_more.diagonal(self, offset, dim1, dim2)

    def diag(self, diagonal: int = 0) -> Tensor:
        """A vector's diagonal matrix, or a matrix's diagonal (``bp.diag``)."""
        return _ops.views_more.diag(self, diagonal)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        """Matrices with the last dim on a diagonal (``bp.diag_embed``)."""
        return _ops.views_more.diag_embed(self, offset, dim1, dim2)

    def diagflat(self, offset: int = 0) -> Tensor:
        """The flattened tensor on a matrix's diagonal (``bp.diagflat``)."""
        return _ops.views_more.diagflat(self, offset)

    def diagonal_scatter(self, src: Tensor, offset: int = 0, dim1: int = 0,
                         dim2: int = 1) -> Tensor:
        """A copy with ``src`` on the diagonal (``bp.diagonal_scatter``)."""
        return _ops.views_more.diagonal_scatter(self, src, offset, dim1, dim2)

    def slice_scatter(self, src: Tensor, dim: int = 0, start: int | None = None,
                      end: int | None = None, step: int = 1) -> Tensor:
        """A copy with ``src`` in a slice (``bp.slice_scatter``)."""
        return _ops.views_more.slice_scatter(self, src, dim, start, end, step)

    def select_scatter(self, src: Tensor, dim: int, index: int) -> Tensor:
        """A copy with ``src`` at ``select(dim, index)`` (``bp.select_scatter``)."""
        return _ops.views_more.select_scatter(self, src, dim, index)

    def as_strided(self, size: Sequence[int], stride: Sequence[int],
                   storage_offset: int | None = None) -> Tensor:
        """A view of the storage with these sizes and strides (``bp.as_strided``)."""
        return _ops.views_more.as_strided(self, size, stride, storage_offset)

    def as_strided_scatter(self, src: Tensor, size: Sequence[int], stride: Sequence[int],
                           storage_offset: int | None = None) -> Tensor:
        """A copy with ``src`` where ``as_strided`` looks (``bp.as_strided_scatter``)."""
        return _ops.views_more.as_strided_scatter(self, src, size, stride, storage_offset)

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """Windows of ``size`` along ``dimension``, ``step`` apart, as a last dim (a view)."""
        return _ops.views_more.unfold(self, dimension, size, step)

    @property
    def mH(self) -> Tensor:
        """The last two dims swapped and conjugated (``mT`` for real tensors)."""
        return _ops.views_more._mH(self)

    @property
    def H(self) -> Tensor:
        """A matrix's conjugate transpose (``T`` for a real matrix)."""
        return _ops.views_more._H(self)

    def narrow_copy(self, dim: int, start: int, length: int) -> Tensor:
        """``narrow`` as a new tensor (``bp.narrow_copy``)."""
        return _ops.copies_more.narrow_copy(self, dim, start, length)

    def unsafe_chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """``chunk`` (``bp.unsafe_chunk``)."""
        return _ops.copies_more.unsafe_chunk(self, chunks, dim)

    def unsafe_split(self, split_size: int, dim: int = 0) -> tuple[Tensor, ...]:
        """``split`` into pieces of ``split_size`` (``bp.unsafe_split``)."""
        return _ops.copies_more.unsafe_split(self, split_size, dim)

    def split_with_sizes(self, split_sizes: Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        """Views split into pieces of the given sizes (``bp.split_with_sizes``)."""
        return _ops.copies_more.split_with_sizes(self, split_sizes, dim)

    unsafe_split_with_sizes = split_with_sizes  # PyTorch's unchecked twin: ours are the same

    def new_empty_strided(self, size: Sequence[int], stride: Sequence[int], *,
                          dtype: Any = None, device: Any = None,
                          requires_grad: bool = False) -> Tensor:
        """``empty_strided`` with this tensor's dtype and device unless given."""
        return _ops.copies_more.new_empty_strided(self, size, stride, dtype=dtype, device=device,
                                                  requires_grad=requires_grad)

    def resize_(self, *size: Any, memory_format: Any = None) -> Tensor:
        """This tensor given a new shape in place, its leading elements kept."""
        return _ops.copies_more.resize_(self, *size, memory_format=memory_format)

    def resize_as_(self, the_template: Tensor, *, memory_format: Any = None) -> Tensor:
        """``resize_(the_template.shape)``."""
        return _ops.copies_more.resize_as_(self, the_template, memory_format=memory_format)


    # -- indexing_more --

    def take(self, index: Tensor) -> Tensor:
        """The elements at flat positions ``index`` (``bp.take``)."""
        return _ops.indexing_more.take(self, index)

    def put(self, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
        """A copy with ``source`` written at flat positions ``index`` (``bp.put``)."""
        return _ops.indexing_more.put(self, index, source, accumulate)

    def put_(self, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
        """``put`` in place."""
        return _ops.indexing_more.put_(self, index, source, accumulate)

    def index_copy(self, dim: int, index: Tensor, source: Tensor) -> Tensor:
        """A copy with ``source``'s slices at ``index`` along ``dim`` (``bp.index_copy``)."""
        return _ops.indexing_more.index_copy(self, dim, index, source)

    def index_copy_(self, dim: int, index: Tensor, source: Tensor) -> Tensor:
        """``index_copy`` in place."""
        return _ops.indexing_more.index_copy_(self, dim, index, source)

    def index_fill(self, dim: int, index: Tensor, value: Any) -> Tensor:
        """A copy with ``value`` at ``index`` along ``dim`` (``bp.index_fill``)."""
        return _ops.indexing_more.index_fill(self, dim, index, value)

    def index_fill_(self, dim: int, index: Tensor, value: Any) -> Tensor:
        """``index_fill`` in place."""
        return _ops.indexing_more.index_fill_(self, dim, index, value)

    def index_put(self, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
        """A copy with ``values`` at ``self[indices]`` (``bp.index_put``)."""
        return _ops.indexing_more.index_put(self, indices, values, accumulate)

    def index_put_(self, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
        """``index_put`` in place."""
        return _ops.indexing_more.index_put_(self, indices, values, accumulate)

    def index_reduce(self, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                     include_self: bool = True) -> Tensor:
        """A copy with ``source`` reduced into the slices at ``index`` (``bp.index_reduce``)."""
        return _ops.indexing_more.index_reduce(self, dim, index, source, reduce,
                                               include_self=include_self)

    def index_reduce_(self, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                      include_self: bool = True) -> Tensor:
        """``index_reduce`` in place."""
        return _ops.indexing_more.index_reduce_(self, dim, index, source, reduce,
                                                include_self=include_self)

    def masked_select(self, mask: Tensor) -> Tensor:
        """The elements where ``mask`` is True, as 1-D (``bp.masked_select``)."""
        return _ops.indexing_more.masked_select(self, mask)

    def masked_scatter(self, mask: Tensor, source: Tensor) -> Tensor:
        """A copy with ``source``'s elements where ``mask`` is True (``bp.masked_scatter``)."""
        return _ops.indexing_more.masked_scatter(self, mask, source)

    def masked_scatter_(self, mask: Tensor, source: Tensor) -> Tensor:
        """``masked_scatter`` in place."""
        return _ops.indexing_more.masked_scatter_(self, mask, source)

    def nonzero_static(self, *, size: int, fill_value: int = -1) -> Tensor:
        """``nonzero()`` padded or cut to ``size`` rows (``bp.nonzero_static``)."""
        return _ops.indexing_more.nonzero_static(self, size=size, fill_value=fill_value)

    def argwhere(self) -> Tensor:
        """Positions of the non-zero elements (``bp.argwhere``)."""
        return _ops.indexing_more.argwhere(self)

    def unique(self, sorted: bool = True, return_inverse: bool = False,
               return_counts: bool = False, dim: int | None = None) -> Any:
        """The distinct values (``bp.unique``)."""
        return _ops.indexing_more.unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(self, return_inverse: bool = False, return_counts: bool = False,
                           dim: int | None = None) -> Any:
        """Runs of equal values kept once (``bp.unique_consecutive``)."""
        return _ops.indexing_more.unique_consecutive(self, return_inverse, return_counts, dim)

    def bincount(self, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
        """Counts of each non-negative integer value (``bp.bincount``)."""
        return _ops.indexing_more.bincount(self, weights, minlength)

    def histc(self, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
        """A histogram with equal bins (``bp.histc``)."""
        return _ops.indexing_more.histc(self, bins, min, max)

    def histogram(self, bins: Any = 100, *, range: Any = None, weight: Tensor | None = None,
                  density: bool = False) -> tuple[Tensor, Tensor]:
        """``(hist, bin_edges)`` (``bp.histogram``)."""
        return _ops.indexing_more.histogram(self, bins, range=range, weight=weight,
                                            density=density)

    def repeat_interleave(self, repeats: Any = None, dim: int | None = None, *,
                          output_size: int | None = None) -> Tensor:
        """Each element (or slice) repeated (``bp.repeat_interleave``)."""
        return _ops.indexing_more.repeat_interleave(self, repeats, dim, output_size=output_size)


    # -- spectral and complex_ops --

    @property
    def real(self) -> Tensor:
        """The real part (``bp.real``): a view; a real tensor itself."""
        return _ops.complex_ops.real(self)

    @property
    def imag(self) -> Tensor:
        """The imaginary part of a complex tensor (``bp.imag``): a view."""
        return _ops.complex_ops.imag(self)

    def conj(self) -> Tensor:
        """The complex conjugate (``bp.conj``)."""
        return _ops.complex_ops.conj(self)

    def conj_physical(self) -> Tensor:
        """The complex conjugate in new memory (``bp.conj_physical``)."""
        return _ops.complex_ops.conj_physical(self)

    def conj_physical_(self) -> Tensor:
        """Conjugate in place (``bp.conj_physical``); real tensors are unchanged."""
        return _ops.complex_ops.conj_physical_(self)

    def resolve_conj(self) -> Tensor:
        """The tensor itself: backprop conjugates at once (``bp.resolve_conj``)."""
        return _ops.complex_ops.resolve_conj(self)

    def resolve_neg(self) -> Tensor:
        """The tensor itself: backprop negates at once (``bp.resolve_neg``)."""
        return _ops.complex_ops.resolve_neg(self)

    # is_conj, is_neg and is_complex are Tensor's own (tensor.py), which wins over a mixin.

    def angle(self) -> Tensor:
        """The argument of each element (``bp.angle``)."""
        return _ops.complex_ops.angle(self)

    def stft(self, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
             window: Tensor | None = None, center: bool = True, pad_mode: str = "reflect",
             normalized: bool = False, onesided: bool | None = None,
             return_complex: bool | None = None) -> Tensor:
        """The short-time Fourier transform (``bp.stft``)."""
        return _ops.spectral.stft(self, n_fft, hop_length, win_length, window, center,
                                  pad_mode, normalized, onesided, return_complex)

    def istft(self, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
              window: Tensor | None = None, center: bool = True, normalized: bool = False,
              onesided: bool | None = None, length: int | None = None,
              return_complex: bool = False) -> Tensor:
        """The inverse short-time Fourier transform (``bp.istft``)."""
        return _ops.spectral.istft(self, n_fft, hop_length, win_length, window, center,
                                   normalized, onesided, length, return_complex)


    # -- masked_reductions --
