"""``TensorMethods``: the Tensor methods and operators that are ops, each a one-line delegation.

``Tensor`` inherits them, so ``help(bp.Tensor)``, an IDE's completion and mypy see every method
with PyTorch's signature; the op's function (``bp.softmax`` for ``x.softmax``) holds the long
docstring and the example.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TypeAlias

    import numpy as np
    from numpy.typing import DTypeLike

    from .tensor import Tensor

    # What arithmetic, comparisons and most ops accept beside a tensor.
    Operand: TypeAlias = Tensor | np.ndarray | np.generic | float
    Dims: TypeAlias = int | Sequence[int]


class OpsNotImported:
    """Stands for ``backprop.ops`` in a module's ``_ops`` until the first method call: the op
    modules import Tensor, which inherits the methods' classes, so their files cannot import
    them while they load. That call imports the package and rebinds the module's ``_ops`` to
    it, so later calls read plain module attributes (a lookup hook kept in the way would slow
    every call)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self._namespace = namespace  # the globals of the module whose ``_ops`` this is

    def __getattr__(self, name: str) -> Any:
        ops = importlib.import_module(f"{__package__}.ops")
        self._namespace["_ops"] = ops
        return getattr(ops, name)


_ops: Any = OpsNotImported(globals())


class TensorMethods:
    """The methods of ``Tensor`` that delegate to ops (a mixin: no state of its own)."""

    __slots__ = ()

    # -- arithmetic and its operators -----------------------------------------------------------

    def add(self, other: Operand, *, alpha: float = 1) -> Tensor:
        """``self + alpha * other``, broadcasting (``bp.add``)."""
        if alpha == 1:  # ``self + other`` comes here: no keyword keeps the op's call short
            return _ops.elementwise.add(self, other)
        return _ops.elementwise.add(self, other, alpha=alpha)

    __add__ = add

    def __radd__(self, other: Operand) -> Tensor:
        """``other + self``."""
        return _ops.elementwise.add(other, self)

    def sub(self, other: Operand, *, alpha: float = 1) -> Tensor:
        """``self - alpha * other``, broadcasting (``bp.sub``)."""
        if alpha == 1:
            return _ops.elementwise.sub(self, other)
        return _ops.elementwise.sub(self, other, alpha=alpha)

    __sub__ = sub

    def __rsub__(self, other: Operand) -> Tensor:
        """``other - self``."""
        return _ops.elementwise.sub(other, self)

    def mul(self, other: Operand) -> Tensor:
        """``self * other``, broadcasting (``bp.mul``)."""
        return _ops.elementwise.mul(self, other)

    __mul__ = mul

    def __rmul__(self, other: Operand) -> Tensor:
        """``other * self``."""
        return _ops.elementwise.mul(other, self)

    def div(self, other: Operand, *, rounding_mode: str | None = None) -> Tensor:
        """``self / other``, broadcasting, rounded by ``rounding_mode`` (``bp.div``)."""
        if rounding_mode is None:
            return _ops.elementwise.div(self, other)
        return _ops.elementwise.div(self, other, rounding_mode=rounding_mode)

    __truediv__ = true_divide = divide = div

    def __rtruediv__(self, other: Operand) -> Tensor:
        """``other / self``."""
        return _ops.elementwise.div(other, self)

    def floor_divide(self, other: Operand) -> Tensor:
        """``self // other``, broadcasting (``bp.floor_divide``)."""
        return _ops.elementwise.floor_divide(self, other)

    __floordiv__ = floor_divide

    def __rfloordiv__(self, other: Operand) -> Tensor:
        """``other // self``."""
        return _ops.elementwise.floor_divide(other, self)

    def remainder(self, other: Operand) -> Tensor:
        """``self % other`` with the sign of ``other`` (``bp.remainder``)."""
        return _ops.elementwise.remainder(self, other)

    __mod__ = remainder

    def __rmod__(self, other: Operand) -> Tensor:
        """``other % self``."""
        return _ops.elementwise.remainder(other, self)

    def pow(self, exponent: Operand) -> Tensor:
        """``self ** exponent`` (``bp.pow``)."""
        return _ops.elementwise.pow(self, exponent)

    __pow__ = pow

    def __rpow__(self, other: Operand) -> Tensor:
        """``other ** self``."""
        return _ops.elementwise.pow(other, self)

    def neg(self) -> Tensor:
        """``-self`` (``bp.neg``)."""
        return _ops.elementwise.neg(self)

    __neg__ = neg

    def __pos__(self) -> Tensor:
        """``+self``: the tensor itself."""
        return self  # type: ignore[return-value]  # only ever a Tensor

    def abs(self) -> Tensor:
        """Absolute value (``bp.abs``)."""
        return _ops.elementwise.abs(self)

    __abs__ = abs

    def maximum(self, other: Operand) -> Tensor:
        """Elementwise maximum (``bp.maximum``)."""
        return _ops.elementwise.maximum(self, other)

    def minimum(self, other: Operand) -> Tensor:
        """Elementwise minimum (``bp.minimum``)."""
        return _ops.elementwise.minimum(self, other)

    def clamp(self, min: Operand | None = None, max: Operand | None = None) -> Tensor:
        """Values limited to ``[min, max]`` (``bp.clamp``)."""
        return _ops.elementwise.clamp(self, min, max)

    clip = clamp

    # -- elementwise maths -----------------------------------------------------------------------

    def exp(self) -> Tensor:
        """``e ** self`` (``bp.exp``)."""
        return _ops.elementwise.exp(self)

    def exp2(self) -> Tensor:
        """``2 ** self`` (``bp.exp2``)."""
        return _ops.elementwise.exp2(self)

    def expm1(self) -> Tensor:
        """``e ** self - 1``, accurate near 0 (``bp.expm1``)."""
        return _ops.elementwise.expm1(self)

    def log(self) -> Tensor:
        """Natural logarithm (``bp.log``)."""
        return _ops.elementwise.log(self)

    def log2(self) -> Tensor:
        """Base-2 logarithm (``bp.log2``)."""
        return _ops.elementwise.log2(self)

    def log1p(self) -> Tensor:
        """``log(1 + self)``, accurate near 0 (``bp.log1p``)."""
        return _ops.elementwise.log1p(self)

    def sqrt(self) -> Tensor:
        """Square root (``bp.sqrt``)."""
        return _ops.elementwise.sqrt(self)

    def rsqrt(self) -> Tensor:
        """``1 / sqrt(self)`` (``bp.rsqrt``)."""
        return _ops.elementwise.rsqrt(self)

    def reciprocal(self) -> Tensor:
        """``1 / self`` (``bp.reciprocal``)."""
        return _ops.elementwise.reciprocal(self)

    def sin(self) -> Tensor:
        """Sine (``bp.sin``)."""
        return _ops.elementwise.sin(self)

    def cos(self) -> Tensor:
        """Cosine (``bp.cos``)."""
        return _ops.elementwise.cos(self)

    def tan(self) -> Tensor:
        """Tangent (``bp.tan``)."""
        return _ops.elementwise.tan(self)

    def tanh(self) -> Tensor:
        """Hyperbolic tangent (``bp.tanh``)."""
        return _ops.elementwise.tanh(self)

    def sigmoid(self) -> Tensor:
        """``1 / (1 + exp(-self))`` (``bp.sigmoid``)."""
        return _ops.elementwise.sigmoid(self)

    def relu(self) -> Tensor:
        """``max(self, 0)`` (``bp.relu``)."""
        return _ops.elementwise.relu(self)

    def erf(self) -> Tensor:
        """The error function (``bp.erf``)."""
        return _ops.special.erf(self)

    def lgamma(self) -> Tensor:
        """``log |Gamma(self)|`` (``bp.lgamma``)."""
        return _ops.special.lgamma(self)

    def digamma(self) -> Tensor:
        """The derivative of ``lgamma`` (``bp.digamma``)."""
        return _ops.special.digamma(self)

    def polygamma(self, n: int) -> Tensor:
        """The ``n``-th derivative of ``digamma`` (``bp.polygamma(n, self)``)."""
        return _ops.special.polygamma(n, self)

    # -- issue 17's pointwise family (bp.ops.pointwise_more) --

    def asin(self) -> Tensor:
        """The inverse sine (``bp.asin``)."""
        return _ops.pointwise_more.asin(self)

    def acos(self) -> Tensor:
        """The inverse cosine (``bp.acos``)."""
        return _ops.pointwise_more.acos(self)

    def atan(self) -> Tensor:
        """The inverse tangent (``bp.atan``)."""
        return _ops.pointwise_more.atan(self)

    def asinh(self) -> Tensor:
        """The inverse hyperbolic sine (``bp.asinh``)."""
        return _ops.pointwise_more.asinh(self)

    def acosh(self) -> Tensor:
        """The inverse hyperbolic cosine (``bp.acosh``)."""
        return _ops.pointwise_more.acosh(self)

    def atanh(self) -> Tensor:
        """The inverse hyperbolic tangent (``bp.atanh``)."""
        return _ops.pointwise_more.atanh(self)

    arcsin = asin
    arccos = acos
    arctan = atan
    arcsinh = asinh
    arccosh = acosh
    arctanh = atanh

    def log10(self) -> Tensor:
        """The base-10 logarithm (``bp.log10``)."""
        return _ops.pointwise_more.log10(self)

    def square(self) -> Tensor:
        """``self ** 2`` (``bp.square``)."""
        return _ops.pointwise_more.square(self)

    def trunc(self) -> Tensor:
        """Rounded toward zero (``bp.trunc``)."""
        return _ops.pointwise_more.trunc(self)

    fix = trunc

    def frac(self) -> Tensor:
        """``self - trunc(self)`` (``bp.frac``)."""
        return _ops.pointwise_more.frac(self)

    def deg2rad(self) -> Tensor:
        """Degrees to radians (``bp.deg2rad``)."""
        return _ops.pointwise_more.deg2rad(self)

    def rad2deg(self) -> Tensor:
        """Radians to degrees (``bp.rad2deg``)."""
        return _ops.pointwise_more.rad2deg(self)

    def atan2(self, other: Operand) -> Tensor:
        """The angle of the point ``(other, self)`` (``bp.atan2``)."""
        return _ops.pointwise_more.atan2(self, other)

    arctan2 = atan2

    def hypot(self, other: Operand) -> Tensor:
        """``sqrt(self**2 + other**2)`` (``bp.hypot``)."""
        return _ops.pointwise_more.hypot(self, other)

    def logaddexp(self, other: Operand) -> Tensor:
        """``log(exp(self) + exp(other))`` (``bp.logaddexp``)."""
        return _ops.pointwise_more.logaddexp(self, other)

    def logaddexp2(self, other: Operand) -> Tensor:
        """``log2(2**self + 2**other)`` (``bp.logaddexp2``)."""
        return _ops.pointwise_more.logaddexp2(self, other)

    def clamp_min(self, min: Operand) -> Tensor:
        """Values limited from below (``bp.clamp_min``)."""
        return _ops.pointwise_more.clamp_min(self, min)

    def clamp_max(self, max: Operand) -> Tensor:
        """Values limited from above (``bp.clamp_max``)."""
        return _ops.pointwise_more.clamp_max(self, max)

    def addcmul(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """``self + value * tensor1 * tensor2`` (``bp.addcmul``)."""
        return _ops.pointwise_more.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """``self + value * tensor1 / tensor2`` (``bp.addcdiv``)."""
        return _ops.pointwise_more.addcdiv(self, tensor1, tensor2, value=value)

    def lerp(self, end: Tensor, weight: Operand) -> Tensor:
        """``self + weight * (end - self)`` (``bp.lerp``)."""
        return _ops.pointwise_more.lerp(self, end, weight)

    def copysign(self, other: Operand) -> Tensor:
        """``|self|`` with the sign of ``other`` (``bp.copysign``)."""
        return _ops.pointwise_more.copysign(self, other)

    def xlogy(self, other: Operand) -> Tensor:
        """``self * log(other)``, 0 where ``self`` is 0 (``bp.xlogy``)."""
        return _ops.pointwise_more.xlogy(self, other)

    def sinc(self) -> Tensor:
        """``sin(pi x) / (pi x)`` (``bp.sinc``)."""
        return _ops.pointwise_more.sinc(self)

    def logit(self, eps: float | None = None) -> Tensor:
        """``log(p / (1 - p))`` (``bp.logit``)."""
        return _ops.pointwise_more.logit(self, eps)

    def float_power(self, exponent: Operand) -> Tensor:
        """``self ** exponent`` in float64 (``bp.float_power``)."""
        return _ops.pointwise_more.float_power(self, exponent)

    def fmod(self, other: Operand) -> Tensor:
        """The remainder with the sign of ``self`` (``bp.fmod``)."""
        return _ops.pointwise_more.fmod(self, other)

    def positive(self) -> Tensor:
        """``self`` itself (``bp.positive``)."""
        return _ops.pointwise_more.positive(self)

    def signbit(self) -> Tensor:
        """True where the sign bit is set (``bp.signbit``)."""
        return _ops.pointwise_more.signbit(self)

    def isposinf(self) -> Tensor:
        """True where ``+inf`` (``bp.isposinf``)."""
        return _ops.pointwise_more.isposinf(self)

    def isneginf(self) -> Tensor:
        """True where ``-inf`` (``bp.isneginf``)."""
        return _ops.pointwise_more.isneginf(self)

    def heaviside(self, values: Tensor) -> Tensor:
        """The step function, ``values`` at 0 (``bp.heaviside``)."""
        return _ops.pointwise_more.heaviside(self, values)

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None) -> Tensor:
        """nan and infinities replaced by finite values (``bp.nan_to_num``)."""
        return _ops.pointwise_more.nan_to_num(self, nan, posinf, neginf)

    def erfc(self) -> Tensor:
        """``1 - erf(self)`` (``bp.erfc``)."""
        return _ops.pointwise_more.erfc(self)

    def ldexp(self, other: Operand) -> Tensor:
        """``self * 2 ** other`` (``bp.ldexp``)."""
        return _ops.pointwise_more.ldexp(self, other)

    def isreal(self) -> Tensor:
        """True everywhere: our tensors are real (``bp.isreal``)."""
        return _ops.pointwise_more.isreal(self)

    def sign(self) -> Tensor:
        """-1, 0 or 1 by the sign of each element (``bp.sign``)."""
        return _ops.elementwise.sign(self)

    sgn = sign

    def floor(self) -> Tensor:
        """Round down (``bp.floor``)."""
        return _ops.elementwise.floor(self)

    def ceil(self) -> Tensor:
        """Round up (``bp.ceil``)."""
        return _ops.elementwise.ceil(self)

    def round(self, decimals: int = 0) -> Tensor:
        """Round half to even, to ``decimals`` places (``bp.round``)."""
        return _ops.elementwise.round(self, decimals)

    # -- comparisons, logic and their operators -------------------------------------------------

    def eq(self, other: Operand) -> Tensor:
        """``self == other``, elementwise (``bp.eq``)."""
        return _ops.elementwise.eq(self, other)

    __eq__ = eq  # type: ignore[assignment]  # elementwise, as in PyTorch

    def ne(self, other: Operand) -> Tensor:
        """``self != other``, elementwise (``bp.ne``)."""
        return _ops.elementwise.ne(self, other)

    __ne__ = ne  # type: ignore[assignment]  # elementwise, as in PyTorch

    # Defining __eq__ would make instances unhashable; tensors are graph keys, hashed by identity
    # (object's C slot, since backward hashes every leaf).
    __hash__ = object.__hash__

    def lt(self, other: Operand) -> Tensor:
        """``self < other``, elementwise (``bp.lt``)."""
        return _ops.elementwise.lt(self, other)

    __lt__ = lt

    def le(self, other: Operand) -> Tensor:
        """``self <= other``, elementwise (``bp.le``)."""
        return _ops.elementwise.le(self, other)

    __le__ = le

    def gt(self, other: Operand) -> Tensor:
        """``self > other``, elementwise (``bp.gt``)."""
        return _ops.elementwise.gt(self, other)

    __gt__ = gt

    def ge(self, other: Operand) -> Tensor:
        """``self >= other``, elementwise (``bp.ge``)."""
        return _ops.elementwise.ge(self, other)

    __ge__ = ge

    def bitwise_and(self, other: Operand) -> Tensor:
        """``self & other``, bit by bit (``bp.bitwise_and``)."""
        return _ops.elementwise.bitwise_and(self, other)

    __and__ = bitwise_and

    def __rand__(self, other: Operand) -> Tensor:
        """``other & self``."""
        return _ops.elementwise.bitwise_and(other, self)

    def bitwise_or(self, other: Operand) -> Tensor:
        """``self | other``, bit by bit (``bp.bitwise_or``)."""
        return _ops.elementwise.bitwise_or(self, other)

    __or__ = bitwise_or

    def __ror__(self, other: Operand) -> Tensor:
        """``other | self``."""
        return _ops.elementwise.bitwise_or(other, self)

    def bitwise_xor(self, other: Operand) -> Tensor:
        """``self ^ other``, bit by bit (``bp.bitwise_xor``)."""
        return _ops.elementwise.bitwise_xor(self, other)

    __xor__ = bitwise_xor

    def __rxor__(self, other: Operand) -> Tensor:
        """``other ^ self``."""
        return _ops.elementwise.bitwise_xor(other, self)

    def bitwise_not(self) -> Tensor:
        """``~self``, bit by bit (``bp.bitwise_not``)."""
        return _ops.elementwise.bitwise_not(self)

    __invert__ = bitwise_not

    def logical_and(self, other: Operand) -> Tensor:
        """Elementwise AND of the truth values (``bp.logical_and``)."""
        return _ops.elementwise.logical_and(self, other)

    def logical_or(self, other: Operand) -> Tensor:
        """Elementwise OR of the truth values (``bp.logical_or``)."""
        return _ops.elementwise.logical_or(self, other)

    def logical_xor(self, other: Operand) -> Tensor:
        """Elementwise XOR of the truth values (``bp.logical_xor``)."""
        return _ops.elementwise.logical_xor(self, other)

    def logical_not(self) -> Tensor:
        """Elementwise NOT of the truth values (``bp.logical_not``)."""
        return _ops.elementwise.logical_not(self)

    def isnan(self) -> Tensor:
        """Where the values are NaN (``bp.isnan``)."""
        return _ops.elementwise.isnan(self)

    def isinf(self) -> Tensor:
        """Where the values are infinite (``bp.isinf``)."""
        return _ops.elementwise.isinf(self)

    def isfinite(self) -> Tensor:
        """Where the values are neither infinite nor NaN (``bp.isfinite``)."""
        return _ops.elementwise.isfinite(self)

    def isclose(self, other: Operand, rtol: float = 1e-05, atol: float = 1e-08,
                equal_nan: bool = False) -> Tensor:
        """Where ``|self - other| <= atol + rtol * |other|`` (``bp.isclose``)."""
        return _ops.elementwise.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other: Operand, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> bool:
        """Whether every element is close to ``other``'s (``bp.allclose``)."""
        return _ops.elementwise.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other: Tensor) -> bool:
        """Whether both have the same shape and values (``bp.equal``)."""
        return _ops.elementwise.equal(self, other)

    # -- indexing --------------------------------------------------------------------------------

    def __getitem__(self, key: Any) -> Tensor:
        """``self[key]``, with NumPy's and PyTorch's indexing rules."""
        return _ops.indexing.getitem(self, key)

    def __setitem__(self, key: Any, value: Operand) -> None:
        """``self[key] = value`` in place."""
        _ops.indexing.setitem(self, key, value)

    # -- copies and conversions ------------------------------------------------------------------

    def clone(self, *, memory_format: Any = None) -> Tensor:
        """A copy with its own storage, differentiable (``bp.clone``)."""
        return _ops.elementwise.clone(self, memory_format=memory_format)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """Convert to a dtype and/or move to a device: ``to(dtype)``, ``to(device, dtype)``,
        ``to(other)`` (see ``backprop.ops.elementwise.to``)."""
        if not kwargs and len(args) == 1 and args[0] is self.dtype:  # type: ignore[attr-defined]
            # already that dtype: ``to`` would parse the call to return it too
            return self  # type: ignore[return-value]
        return _ops.elementwise.to(self, *args, **kwargs)

    # -- shape -----------------------------------------------------------------------------------

    def reshape(self, *shape: Dims) -> Tensor:
        """The values in a new shape, ``-1`` inferred; a view when possible (``bp.reshape``)."""
        return _ops.shape.reshape(self, *shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        """``self.reshape(other.shape)``."""
        return _ops.shape.reshape_as(self, other)

    def view(self, *shape: Dims) -> Tensor:
        """A view in a new shape, sharing storage (``bp.view``)."""
        return _ops.shape.view(self, *shape)

    def view_as(self, other: Tensor) -> Tensor:
        """``self.view(other.shape)``."""
        return _ops.shape.view_as(self, other)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Dims ``start_dim`` to ``end_dim`` merged into one (``bp.flatten``)."""
        return _ops.shape.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        """Dim ``dim`` split into ``sizes`` (``bp.unflatten``)."""
        return _ops.shape.unflatten(self, dim, sizes)

    def squeeze(self, dim: Dims | None = None) -> Tensor:
        """Size-1 dims removed: all of them, or those in ``dim`` (``bp.squeeze``)."""
        return _ops.shape.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        """A size-1 dim inserted at ``dim`` (``bp.unsqueeze``)."""
        return _ops.shape.unsqueeze(self, dim)

    def permute(self, *dims: Dims) -> Tensor:
        """The dims reordered (``bp.permute``)."""
        return _ops.shape.permute(self, *dims)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Dims ``dim0`` and ``dim1`` swapped (``bp.transpose``)."""
        return _ops.shape.transpose(self, dim0, dim1)

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        """Axes ``axis0`` and ``axis1`` swapped (``transpose``)."""
        return _ops.shape.transpose(self, axis0, axis1)

    swapdims = transpose

    def t(self) -> Tensor:
        """A matrix transposed; a vector as it is (``bp.t``)."""
        return _ops.shape.t(self)

    @property
    def T(self) -> Tensor:
        """All dims reversed: a matrix's transpose."""
        return _ops.shape._T(self)

    @property
    def mT(self) -> Tensor:
        """The last two dims swapped: a batch of matrices transposed."""
        return _ops.shape._mT(self)

    def movedim(self, source: Dims, destination: Dims) -> Tensor:
        """Dims ``source`` moved to positions ``destination`` (``bp.movedim``)."""
        return _ops.shape.movedim(self, source, destination)

    moveaxis = movedim

    # issue 17: more shape ops
    def ravel(self) -> Tensor:
        """The tensor as 1-d (``bp.ravel``)."""
        return _ops.shape_more.ravel(self)

    def fliplr(self) -> Tensor:
        """Dim 1 reversed (``bp.fliplr``)."""
        return _ops.shape_more.fliplr(self)

    def flipud(self) -> Tensor:
        """Dim 0 reversed (``bp.flipud``)."""
        return _ops.shape_more.flipud(self)

    def select(self, dim: int, index: int) -> Tensor:
        """The slice at ``index`` along ``dim``, that dim removed (``bp.select``)."""
        return _ops.shape_more.select(self, dim, index)

    def tensor_split(self, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        """Views split along ``dim`` (``bp.tensor_split``)."""
        return _ops.shape_more.tensor_split(self, indices_or_sections, dim)

    def hsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        """``tensor_split`` along dim 1 (``bp.hsplit``)."""
        return _ops.shape_more.hsplit(self, indices_or_sections)

    def vsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        """``tensor_split`` along dim 0 (``bp.vsplit``)."""
        return _ops.shape_more.vsplit(self, indices_or_sections)

    def dsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        """``tensor_split`` along dim 2 (``bp.dsplit``)."""
        return _ops.shape_more.dsplit(self, indices_or_sections)

    def rot90(self, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
        """Rotated by 90 degrees ``k`` times in the plane ``dims`` (``bp.rot90``)."""
        return _ops.shape_more.rot90(self, k, dims)

    def trace(self) -> Tensor:
        """The sum of the main diagonal (``bp.trace``)."""
        return _ops.shape_more.trace(self)

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        """``zeros`` with this tensor's dtype and device unless given."""
        from .creation import new_zeros as new  # noqa: PLC0415 - creation imports Tensor
        return new(self, *size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        """``ones`` with this tensor's dtype and device unless given."""
        from .creation import new_ones as new  # noqa: PLC0415 - creation imports Tensor
        return new(self, *size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        """``empty`` with this tensor's dtype and device unless given."""
        from .creation import new_empty as new  # noqa: PLC0415 - creation imports Tensor
        return new(self, *size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size: Sequence[int], fill_value: Any, *, dtype: Any = None,
                 device: Any = None, requires_grad: bool = False) -> Tensor:
        """``full`` with this tensor's dtype and device unless given."""
        from .creation import new_full as new  # noqa: PLC0415 - creation imports Tensor
        return new(self, size, fill_value, dtype=dtype, device=device,
                   requires_grad=requires_grad)

    def new_tensor(self, data: Any, *, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:
        """``tensor`` with this tensor's dtype and device unless given."""
        from .creation import new_tensor as new  # noqa: PLC0415 - creation imports Tensor
        return new(self, data, dtype=dtype, device=device, requires_grad=requires_grad)

    def broadcast_to(self, *size: Dims) -> Tensor:
        """A broadcast view of the given shape (``bp.broadcast_to``)."""
        return _ops.shape.broadcast_to(self, *size)

    def expand(self, *size: Dims) -> Tensor:
        """A broadcast view, ``-1`` keeping a dim (``bp.expand``)."""
        return _ops.shape.expand(self, *size)

    def expand_as(self, other: Tensor) -> Tensor:
        """``self.expand(other.shape)``."""
        return _ops.shape.expand_as(self, other)

    # -- slicing and joining ---------------------------------------------------------------------

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """``length`` elements of dim ``dim`` from ``start``, a view (``bp.narrow``)."""
        return _ops.join.narrow(self, dim, start, length)

    def split(self, split_size: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces along ``dim`` of ``split_size`` each, or of the listed sizes (``bp.split``)."""
        return _ops.join.split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """``chunks`` nearly equal pieces along ``dim`` (``bp.chunk``)."""
        return _ops.join.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim``, that dim removed (``bp.unbind``)."""
        return _ops.join.unbind(self, dim)

    def flip(self, dims: Dims, *more_dims: int) -> Tensor:
        """The order of elements reversed along ``dims`` (``bp.flip``)."""
        return _ops.rearrange.flip(self, dims, *more_dims)

    def roll(self, shifts: Dims, dims: Dims | None = None) -> Tensor:
        """Elements shifted cyclically along ``dims`` (``bp.roll``)."""
        return _ops.rearrange.roll(self, shifts, dims)

    def repeat(self, *repeats: Dims) -> Tensor:
        """The tensor tiled ``repeats`` times along each dim (``bp.repeat``)."""
        return _ops.rearrange.repeat(self, *repeats)

    def tile(self, dims: Sequence[int]) -> Tensor:
        """``repeat``, with fewer ``dims`` than the tensor padded by 1s in front (``bp.tile``)."""
        return _ops.rearrange.tile(self, dims)

    def tril(self, diagonal: int = 0) -> Tensor:
        """The lower triangle of the last two dims, the rest zeroed (``bp.tril``)."""
        return _ops.rearrange.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        """The upper triangle of the last two dims, the rest zeroed (``bp.triu``)."""
        return _ops.rearrange.triu(self, diagonal)

    # -- reductions ------------------------------------------------------------------------------

    def sum(self, dim: Dims | None = None, keepdim: bool = False, *,
            dtype: DTypeLike | None = None) -> Tensor:
        """The sum over ``dim`` (all dims by default) (``bp.sum``)."""
        return _ops.reduction.sum(self, dim, keepdim, dtype=dtype)

    def sum_to_size(self, *size: Dims) -> Tensor:
        """Summed down to ``size``, which must broadcast to this shape."""
        return _ops.reduction._sum_to_size_method(self, *size)

    def mean(self, dim: Dims | None = None, keepdim: bool = False, *,
             dtype: DTypeLike | None = None) -> Tensor:
        """The mean over ``dim`` (all dims by default) (``bp.mean``)."""
        return _ops.reduction.mean(self, dim, keepdim, dtype=dtype)

    def prod(self, dim: int | None = None, keepdim: bool = False, *,
             dtype: DTypeLike | None = None) -> Tensor:
        """The product over ``dim`` (all elements by default) (``bp.prod``)."""
        return _ops.reduction.prod(self, dim, keepdim, dtype=dtype)

    def var(self, dim: Dims | None = None, unbiased: bool | None = None, keepdim: bool = False,
            *, correction: float | None = None) -> Tensor:
        """The variance over ``dim``, with Bessel's correction by default (``bp.var``)."""
        return _ops.reduction.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim: Dims | None = None, unbiased: bool | None = None, keepdim: bool = False,
            *, correction: float | None = None) -> Tensor:
        """The standard deviation over ``dim`` (``bp.std``)."""
        return _ops.reduction.std(self, dim, unbiased, keepdim, correction=correction)

    def norm(self, p: float | str | None = "fro", dim: Dims | None = None, keepdim: bool = False,
             dtype: DTypeLike | None = None) -> Tensor:
        """The ``p``-norm over ``dim`` (all elements by default) (``bp.norm``)."""
        return _ops.reduction.norm(self, p, dim, keepdim, dtype)

    def cumsum(self, dim: int, *, dtype: DTypeLike | None = None) -> Tensor:
        """Running sums along ``dim`` (``bp.cumsum``)."""
        return _ops.reduction.cumsum(self, dim, dtype=dtype)

    def all(self, dim: Dims | None = None, keepdim: bool = False) -> Tensor:
        """Whether every element over ``dim`` is true (``bp.all``)."""
        return _ops.reduction.all(self, dim, keepdim)

    def any(self, dim: Dims | None = None, keepdim: bool = False) -> Tensor:
        """Whether some element over ``dim`` is true (``bp.any``)."""
        return _ops.reduction.any(self, dim, keepdim)

    # -- sorting and the further reductions (issue 17) --

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """``(values, indices)`` sorted along ``dim`` (``bp.sort``)."""
        return _ops.reductions_more.sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        """Indices that sort along ``dim`` (``bp.argsort``)."""
        return _ops.reductions_more.argsort(self, dim, descending, stable)

    def msort(self) -> Tensor:
        """Sorted along the first dim (``bp.msort``)."""
        return _ops.reductions_more.msort(self)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        """``(values, indices)`` of the ``k`` largest along ``dim`` (``bp.topk``)."""
        return _ops.reductions_more.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> Any:
        """``(values, indices)`` of the ``k``-th smallest along ``dim`` (``bp.kthvalue``)."""
        return _ops.reductions_more.kthvalue(self, k, dim, keepdim)

    def median(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """The lower median; ``(values, indices)`` along ``dim`` (``bp.median``)."""
        return _ops.reductions_more.median(self, dim, keepdim)

    def nanmedian(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """The lower median of the non-NaN values (``bp.nanmedian``)."""
        return _ops.reductions_more.nanmedian(self, dim, keepdim)

    def mode(self, dim: int = -1, keepdim: bool = False) -> Any:
        """``(values, indices)`` of the most frequent value along ``dim`` (``bp.mode``)."""
        return _ops.reductions_more.mode(self, dim, keepdim)

    def cummax(self, dim: int) -> Any:
        """``(values, indices)`` of the running maximum along ``dim`` (``bp.cummax``)."""
        return _ops.reductions_more.cummax(self, dim)

    def cummin(self, dim: int) -> Any:
        """``(values, indices)`` of the running minimum along ``dim`` (``bp.cummin``)."""
        return _ops.reductions_more.cummin(self, dim)

    def cumprod(self, dim: int, *, dtype: DTypeLike | None = None) -> Tensor:
        """Running products along ``dim`` (``bp.cumprod``)."""
        return _ops.reductions_more.cumprod(self, dim, dtype=dtype)

    def logcumsumexp(self, dim: int) -> Tensor:
        """``log(cumsum(exp(self)))`` along ``dim`` (``bp.logcumsumexp``)."""
        return _ops.reductions_more.logcumsumexp(self, dim)

    def quantile(self, q: Any, dim: int | None = None, keepdim: bool = False, *,
                 interpolation: str = "linear") -> Tensor:
        """The ``q``-th quantiles over ``dim`` (``bp.quantile``)."""
        return _ops.reductions_more.quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nanquantile(self, q: Any, dim: int | None = None, keepdim: bool = False, *,
                    interpolation: str = "linear") -> Tensor:
        """The ``q``-th quantiles of the non-NaN values (``bp.nanquantile``)."""
        return _ops.reductions_more.nanquantile(self, q, dim, keepdim,
                                                interpolation=interpolation)

    def aminmax(self, *, dim: int | None = None, keepdim: bool = False) -> Any:
        """``(min, max)`` over ``dim`` (``bp.aminmax``)."""
        return _ops.reductions_more.aminmax(self, dim=dim, keepdim=keepdim)

    def nansum(self, dim: Dims | None = None, keepdim: bool = False, *,
               dtype: DTypeLike | None = None) -> Tensor:
        """Sum over ``dim`` treating NaN as zero (``bp.nansum``)."""
        return _ops.reductions_more.nansum(self, dim, keepdim, dtype=dtype)

    def nanmean(self, dim: Dims | None = None, keepdim: bool = False, *,
                dtype: DTypeLike | None = None) -> Tensor:
        """Mean over ``dim`` of the non-NaN elements (``bp.nanmean``)."""
        return _ops.reductions_more.nanmean(self, dim, keepdim, dtype=dtype)

    def count_nonzero(self, dim: Dims | None = None) -> Tensor:
        """Number of nonzero elements over ``dim`` (``bp.count_nonzero``)."""
        return _ops.reductions_more.count_nonzero(self, dim)

    def diff(self, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
             append: Tensor | None = None) -> Tensor:
        """The ``n``-th forward difference along ``dim`` (``bp.diff``)."""
        return _ops.reductions_more.diff(self, n, dim, prepend, append)

    def logsumexp(self, dim: Dims, keepdim: bool = False) -> Tensor:
        """``log(sum(exp(self)))`` over ``dim``, computed stably (``bp.logsumexp``)."""
        return _ops.fused.logsumexp(self, dim, keepdim)

    def softmax(self, dim: int, dtype: DTypeLike | None = None) -> Tensor:
        """``exp(self)`` normalised to sum to 1 along ``dim`` (``bp.softmax``)."""
        return _ops.fused.softmax(self, dim, dtype)

    def log_softmax(self, dim: int, dtype: DTypeLike | None = None) -> Tensor:
        """``log(softmax(self, dim))``, computed stably (``bp.log_softmax``)."""
        return _ops.fused.log_softmax(self, dim, dtype)

    # -- extrema ---------------------------------------------------------------------------------

    def amax(self, dim: Dims | None = (), keepdim: bool = False) -> Tensor:
        """The largest value over ``dim`` (all dims by default) (``bp.amax``)."""
        return _ops.extrema.amax(self, dim, keepdim)

    def amin(self, dim: Dims | None = (), keepdim: bool = False) -> Tensor:
        """The smallest value over ``dim`` (all dims by default) (``bp.amin``)."""
        return _ops.extrema.amin(self, dim, keepdim)

    # Any: a tensor, or a (values, indices) pair when dim is given, as PyTorch's max/min.
    def max(self, dim: Any = None, keepdim: bool = False, *, other: Operand | None = None) -> Any:
        """The largest value; ``(values, indices)`` along ``dim``; or ``maximum(other)``."""
        return _ops.extrema.max(self, dim, keepdim, other=other)

    def min(self, dim: Any = None, keepdim: bool = False, *, other: Operand | None = None) -> Any:
        """The smallest value; ``(values, indices)`` along ``dim``; or ``minimum(other)``."""
        return _ops.extrema.min(self, dim, keepdim, other=other)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """The index of the largest value, over all elements or along ``dim`` (``bp.argmax``)."""
        return _ops.extrema.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """The index of the smallest value, over all elements or along ``dim`` (``bp.argmin``)."""
        return _ops.extrema.argmin(self, dim, keepdim)

    # -- gather and scatter ----------------------------------------------------------------------

    def gather(self, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
        """``out[i][j] = self[index[i][j]][j]`` for ``dim=0``, and so on (``bp.gather``)."""
        return _ops.scatter.gather(self, dim, index, sparse_grad=sparse_grad)

    def take_along_dim(self, indices: Tensor, dim: int | None = None) -> Tensor:
        """Values at ``indices`` along ``dim`` (``bp.take_along_dim``)."""
        return _ops.scatter.take_along_dim(self, indices, dim)

    def index_select(self, dim: int, index: Tensor) -> Tensor:
        """The slices ``index`` along ``dim`` (``bp.index_select``)."""
        return _ops.scatter.index_select(self, dim, index)

    def scatter(self, dim: int, index: Tensor, src: Operand | None = None, *,
                value: float | None = None, reduce: str | None = None) -> Tensor:
        """A copy with ``src`` (or ``value``) written at ``index`` (``bp.scatter``)."""
        return _ops.scatter.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_(self, dim: int, index: Tensor, src: Operand | None = None, *,
                 value: float | None = None, reduce: str | None = None) -> Tensor:
        """``scatter`` in place."""
        return _ops.scatter.scatter_(self, dim, index, src, value=value, reduce=reduce)

    def scatter_reduce(self, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                       include_self: bool = True) -> Tensor:
        """A copy with ``src`` reduced into the entries at ``index`` (``bp.scatter_reduce``)."""
        return _ops.scatter.scatter_reduce(self, dim, index, src, reduce,
                                           include_self=include_self)

    def scatter_reduce_(self, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                        include_self: bool = True) -> Tensor:
        """``scatter_reduce`` in place."""
        return _ops.scatter.scatter_reduce_(self, dim, index, src, reduce,
                                            include_self=include_self)

    def scatter_add(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        """A copy with ``src`` added at ``index`` along ``dim`` (``bp.scatter_add``)."""
        return _ops.scatter.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        """``scatter_add`` in place."""
        return _ops.scatter.scatter_add_(self, dim, index, src)

    def index_add(self, dim: int, index: Tensor, source: Tensor, *, alpha: float = 1) -> Tensor:
        """A copy with ``alpha * source`` added at slices ``index`` (``bp.index_add``)."""
        return _ops.scatter.index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim: int, index: Tensor, source: Tensor, *, alpha: float = 1) -> Tensor:
        """``index_add`` in place."""
        return _ops.scatter.index_add_(self, dim, index, source, alpha=alpha)

    def masked_fill(self, mask: Tensor, value: Operand) -> Tensor:
        """A copy with ``value`` where ``mask`` is true (``bp.masked_fill``)."""
        return _ops.scatter.masked_fill(self, mask, value)

    def masked_fill_(self, mask: Tensor, value: Operand) -> Tensor:
        """``masked_fill`` in place."""
        return _ops.scatter.masked_fill_(self, mask, value)

    # Any: a tensor of indices, or one index tensor per dim when as_tuple.
    def nonzero(self, *, as_tuple: bool = False) -> Any:
        """The indices of the non-zero elements (``bp.nonzero``)."""
        return _ops.scatter.nonzero(self, as_tuple=as_tuple)

    # -- products --------------------------------------------------------------------------------

    def matmul(self, other: Tensor) -> Tensor:
        """Matrix product, batched and broadcast (``bp.matmul``)."""
        return _ops.linalg.matmul(self, other)

    def __matmul__(self, other: Operand) -> Tensor:
        """``self @ other`` (``bp.matmul``)."""
        return _ops.linalg._matmul(self, other)

    def __rmatmul__(self, other: Operand) -> Tensor:
        """``other @ self``."""
        return _ops.linalg._matmul(other, self)

    def mm(self, mat2: Tensor) -> Tensor:
        """Product of two matrices (``bp.mm``)."""
        return _ops.linalg.mm(self, mat2)

    def bmm(self, mat2: Tensor) -> Tensor:
        """Product of two batches of matrices (``bp.bmm``)."""
        return _ops.linalg.bmm(self, mat2)

    def mv(self, vec: Tensor) -> Tensor:
        """Product of a matrix and a vector (``bp.mv``)."""
        return _ops.linalg.mv(self, vec)

    def dot(self, tensor: Tensor) -> Tensor:
        """Inner product of two vectors (``bp.dot``)."""
        return _ops.linalg.dot(self, tensor)

    def inner(self, other: Tensor) -> Tensor:
        """Sum of products over the last dims (``bp.inner``)."""
        return _ops.linalg.inner(self, other)

    def outer(self, vec2: Tensor) -> Tensor:
        """Outer product of two vectors (``bp.outer``)."""
        return _ops.linalg.outer(self, vec2)

    ger = outer

    # -- in place --------------------------------------------------------------------------------

    def add_(self, other: Operand, *, alpha: float = 1) -> Tensor:
        """``self += alpha * other`` in place."""
        return _ops.inplace.add_(self, other, alpha=alpha)

    __iadd__ = add_

    def sub_(self, other: Operand, *, alpha: float = 1) -> Tensor:
        """``self -= alpha * other`` in place."""
        return _ops.inplace.sub_(self, other, alpha=alpha)

    __isub__ = sub_
    subtract_ = sub_

    def mul_(self, other: Operand) -> Tensor:
        """``self *= other`` in place."""
        return _ops.inplace.mul_(self, other)

    __imul__ = mul_
    multiply_ = mul_

    def div_(self, other: Operand, *, rounding_mode: str | None = None) -> Tensor:
        """``self /= other`` in place, rounded by ``rounding_mode`` (see ``div``)."""
        return _ops.inplace.div_(self, other, rounding_mode=rounding_mode)

    __itruediv__ = div_
    divide_ = true_divide_ = div_

    def clamp_(self, min: Operand | None = None, max: Operand | None = None) -> Tensor:
        """``clamp`` in place."""
        return _ops.inplace.clamp_(self, min, max)

    clip_ = clamp_

    def fill_(self, value: Operand) -> Tensor:
        """Every element set to ``value``, in place."""
        return _ops.inplace.fill_(self, value)

    def zero_(self) -> Tensor:
        """Every element set to 0, in place."""
        return _ops.inplace.zero_(self)

    def copy_(self, src: Operand) -> Tensor:
        """``src``'s values copied in, broadcast, in place (differentiable)."""
        return _ops.inplace.copy_(self, src)

    # -- random sampling (backprop.ops.sampling) --------------------------------------------------

    def multinomial(self, num_samples: int, replacement: bool = False, *,
                    generator: Any = None) -> Tensor:
        """Category indices drawn from the weights in each row (``bp.multinomial``)."""
        return _ops.sampling.multinomial(self, num_samples, replacement, generator=generator)

    def bernoulli(self, p: float | None = None, *, generator: Any = None) -> Tensor:
        """1 with probability ``self`` (or ``p``), else 0 (``bp.bernoulli``)."""
        return _ops.sampling.bernoulli(self, p, generator=generator)

    def uniform_(self, from_: float = 0.0, to: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with uniform samples from ``[from, to)``, in place."""
        return _ops.sampling.uniform_(self, from_, to, generator=generator)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with normal samples, in place."""
        return _ops.sampling.normal_(self, mean, std, generator=generator)

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with exponential samples of rate ``lambd``, in place."""
        return _ops.sampling.exponential_(self, lambd, generator=generator)

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with Cauchy samples, in place."""
        return _ops.sampling.cauchy_(self, median, sigma, generator=generator)

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Tensor:
        """Fill with log-normal samples ``exp(N(mean, std))``, in place."""
        return _ops.sampling.log_normal_(self, mean, std, generator=generator)

    def bernoulli_(self, p: float | Tensor = 0.5, *, generator: Any = None) -> Tensor:
        """Fill with 1 with probability ``p``, else 0, in place."""
        return _ops.sampling.bernoulli_(self, p, generator=generator)

    def geometric_(self, p: float, *, generator: Any = None) -> Tensor:
        """Fill with geometric samples (trials up to the first success), in place."""
        return _ops.sampling.geometric_(self, p, generator=generator)

    def random_(self, from_: int = 0, to: int | None = None, *, generator: Any = None) -> Tensor:
        """Fill with integers drawn uniformly from ``[from, to)`` (see ``ops.sampling``)."""
        return _ops.sampling.random_(self, from_, to, generator=generator)


    # -- issue 17: existing ops' methods --

    # PyTorch's other names for methods above.
    absolute = abs
    greater = gt
    greater_equal = ge
    less = lt
    less_equal = le
    multiply = mul
    negative = neg
    not_equal = ne
    subtract = sub

    def where(self, condition: Tensor, other: Operand) -> Tensor:
        """``self`` where ``condition`` holds, else ``other`` (``bp.where(condition, self,
        other)``)."""
        return _ops.elementwise.where(condition, self, other)

    def hardshrink(self, lambd: float = 0.5) -> Tensor:
        """Zero where ``|self| <= lambd`` (``bp.hardshrink``)."""
        return _ops.pointwise_tail.hardshrink(self, lambd)

    def prelu(self, weight: Tensor) -> Tensor:
        """``max(0, x) + weight * min(0, x)`` (``bp.prelu``)."""
        return _ops.pointwise_tail.prelu(self, weight)


    def adjoint(self) -> Tensor:
        """The conjugate transpose of the last two dims (``.mH``)."""
        return _ops.views_more._mH(self)

    def fill_diagonal_(self, fill_value: float, wrap: bool = False) -> Tensor:
        """Set the main diagonal (all dims' indices equal) to ``fill_value``, in place; a tall
        matrix's diagonal starts again every ``cols + 1`` rows with ``wrap=True``."""
        return _ops.inplace.fill_diagonal_(self, fill_value, wrap)

    # (end of existing ops' methods)
