"""``InPlaceMethods``: the in-place forms of the pointwise and triangular ops (``x.exp_()``,
``x.pow_(2)``, ``x.tril_()``), each the out-of-place method written back into the tensor.

The write goes through ``ops.inplace.apply_inplace``, so views see it, the version counter
catches a saved value it overwrote, and a result that cannot be cast to the tensor's dtype is
refused (``bp.arange(3).exp_()``), as in PyTorch.

>>> import backprop as bp
>>> x = bp.tensor([1.0, 4.0])
>>> x.sqrt_() is x, x.tolist()
(True, [1.0, 2.0])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import DTypeError
from .tensor_methods import OpsNotImported

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from .tensor import Tensor
    from .tensor_methods import Operand

_ops: Any = OpsNotImported(globals())  # the ops import Tensor: bound at the first call


def _in_place(tensor: Any, method: str, *args: Any, **kwargs: Any) -> Tensor:
    """``tensor.<method>(*args, **kwargs)`` written into ``tensor``'s storage."""
    return _ops.inplace.apply_inplace(
        tensor, f"{method}_", lambda old: getattr(old, method)(*args, **kwargs))


def _reshaped_in_place(tensor: Any, method: str, *args: Any) -> Tensor:
    """``tensor`` takes the shape, memory and history of ``tensor.<method>(*args)``, a view of
    its own memory (``t_``, ``unsqueeze_``): no values change, so the version stays."""
    from .autograd import grad_mode

    if grad_mode.state.enabled:
        _ops.inplace._check_may_write(tensor, f"{method}_")
    view = getattr(tensor, method)(*args)
    tensor._data, tensor._grad_fn, tensor._output_nr = view._data, view._grad_fn, view._output_nr
    if tensor._view is not None:  # still a view of the same base, by the longer path
        tensor._view = view._view
    return tensor


def _float_power_in_place(tensor: Any, exponent: Any) -> Tensor:
    if tensor.dtype != "float64":
        raise DTypeError(f"float_power_: the tensor has dtype {tensor.dtype}, but float_power's "
                         "result is float64; use .double() first")
    return _in_place(tensor, "float_power", exponent)


class InPlaceMethods:
    """The in-place methods of ``Tensor`` (a mixin: no state of its own)."""

    __slots__ = ()

    # -- shape changes in place: the same memory seen in a new shape --

    def t_(self) -> Tensor:
        """``t`` in place."""
        return _reshaped_in_place(self, "t")

    def transpose_(self, dim0: int, dim1: int) -> Tensor:
        """``transpose`` in place."""
        return _reshaped_in_place(self, "transpose", dim0, dim1)

    swapaxes_ = swapdims_ = transpose_

    def squeeze_(self, dim: int | tuple[int, ...] | None = None) -> Tensor:
        """``squeeze`` in place."""
        return _reshaped_in_place(self, "squeeze", *([] if dim is None else [dim]))

    def unsqueeze_(self, dim: int) -> Tensor:
        """``unsqueeze`` in place."""
        return _reshaped_in_place(self, "unsqueeze", dim)

    # -- values changed in place --

    def abs_(self) -> Tensor:
        """``abs`` in place."""
        return _in_place(self, "abs")

    def acos_(self) -> Tensor:
        """``acos`` in place."""
        return _in_place(self, "acos")

    def acosh_(self) -> Tensor:
        """``acosh`` in place."""
        return _in_place(self, "acosh")

    def addcdiv_(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """``addcdiv`` in place."""
        return _in_place(self, "addcdiv", tensor1, tensor2, value=value)

    def addcmul_(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """``addcmul`` in place."""
        return _in_place(self, "addcmul", tensor1, tensor2, value=value)

    def asin_(self) -> Tensor:
        """``asin`` in place."""
        return _in_place(self, "asin")

    def asinh_(self) -> Tensor:
        """``asinh`` in place."""
        return _in_place(self, "asinh")

    def atan2_(self, other: Operand) -> Tensor:
        """``atan2`` in place."""
        return _in_place(self, "atan2", other)

    def atan_(self) -> Tensor:
        """``atan`` in place."""
        return _in_place(self, "atan")

    def atanh_(self) -> Tensor:
        """``atanh`` in place."""
        return _in_place(self, "atanh")

    def bitwise_and_(self, other: Operand) -> Tensor:
        """``bitwise_and`` in place."""
        return _in_place(self, "bitwise_and", other)

    def bitwise_not_(self) -> Tensor:
        """``bitwise_not`` in place."""
        return _in_place(self, "bitwise_not")

    def bitwise_or_(self, other: Operand) -> Tensor:
        """``bitwise_or`` in place."""
        return _in_place(self, "bitwise_or", other)

    def bitwise_xor_(self, other: Operand) -> Tensor:
        """``bitwise_xor`` in place."""
        return _in_place(self, "bitwise_xor", other)

    def ceil_(self) -> Tensor:
        """``ceil`` in place."""
        return _in_place(self, "ceil")

    def clamp_max_(self, max: Operand) -> Tensor:
        """``clamp_max`` in place."""
        return _in_place(self, "clamp_max", max)

    def clamp_min_(self, min: Operand) -> Tensor:
        """``clamp_min`` in place."""
        return _in_place(self, "clamp_min", min)

    def copysign_(self, other: Operand) -> Tensor:
        """``copysign`` in place."""
        return _in_place(self, "copysign", other)

    def cos_(self) -> Tensor:
        """``cos`` in place."""
        return _in_place(self, "cos")

    def cumprod_(self, dim: int, *, dtype: DTypeLike | None = None) -> Tensor:
        """``cumprod`` in place."""
        return _in_place(self, "cumprod", dim, dtype=dtype)

    def cumsum_(self, dim: int, *, dtype: DTypeLike | None = None) -> Tensor:
        """``cumsum`` in place."""
        return _in_place(self, "cumsum", dim, dtype=dtype)

    def deg2rad_(self) -> Tensor:
        """``deg2rad`` in place."""
        return _in_place(self, "deg2rad")

    def digamma_(self) -> Tensor:
        """``digamma`` in place."""
        return _in_place(self, "digamma")

    def eq_(self, other: Operand) -> Tensor:
        """``eq`` in place."""
        return _in_place(self, "eq", other)

    def erf_(self) -> Tensor:
        """``erf`` in place."""
        return _in_place(self, "erf")

    def erfc_(self) -> Tensor:
        """``erfc`` in place."""
        return _in_place(self, "erfc")

    def exp2_(self) -> Tensor:
        """``exp2`` in place."""
        return _in_place(self, "exp2")

    def exp_(self) -> Tensor:
        """``exp`` in place."""
        return _in_place(self, "exp")

    def expm1_(self) -> Tensor:
        """``expm1`` in place."""
        return _in_place(self, "expm1")

    def float_power_(self, exponent: Operand) -> Tensor:
        """``float_power`` in place: only a float64 tensor holds its float64 result."""
        return _float_power_in_place(self, exponent)

    def floor_(self) -> Tensor:
        """``floor`` in place."""
        return _in_place(self, "floor")

    def floor_divide_(self, other: Operand) -> Tensor:
        """``floor_divide`` in place."""
        return _in_place(self, "floor_divide", other)

    def fmod_(self, other: Operand) -> Tensor:
        """``fmod`` in place."""
        return _in_place(self, "fmod", other)

    def frac_(self) -> Tensor:
        """``frac`` in place."""
        return _in_place(self, "frac")

    def ge_(self, other: Operand) -> Tensor:
        """``ge`` in place."""
        return _in_place(self, "ge", other)

    def gt_(self, other: Operand) -> Tensor:
        """``gt`` in place."""
        return _in_place(self, "gt", other)

    def heaviside_(self, values: Tensor) -> Tensor:
        """``heaviside`` in place."""
        return _in_place(self, "heaviside", values)

    def hypot_(self, other: Operand) -> Tensor:
        """``hypot`` in place."""
        return _in_place(self, "hypot", other)

    def ldexp_(self, other: Operand) -> Tensor:
        """``ldexp`` in place."""
        return _in_place(self, "ldexp", other)

    def le_(self, other: Operand) -> Tensor:
        """``le`` in place."""
        return _in_place(self, "le", other)

    def lerp_(self, end: Tensor, weight: Operand) -> Tensor:
        """``lerp`` in place."""
        return _in_place(self, "lerp", end, weight)

    def lgamma_(self) -> Tensor:
        """``lgamma`` in place."""
        return _in_place(self, "lgamma")

    def log10_(self) -> Tensor:
        """``log10`` in place."""
        return _in_place(self, "log10")

    def log1p_(self) -> Tensor:
        """``log1p`` in place."""
        return _in_place(self, "log1p")

    def log2_(self) -> Tensor:
        """``log2`` in place."""
        return _in_place(self, "log2")

    def log_(self) -> Tensor:
        """``log`` in place."""
        return _in_place(self, "log")

    def logical_and_(self, other: Operand) -> Tensor:
        """``logical_and`` in place."""
        return _in_place(self, "logical_and", other)

    def logical_not_(self) -> Tensor:
        """``logical_not`` in place."""
        return _in_place(self, "logical_not")

    def logical_or_(self, other: Operand) -> Tensor:
        """``logical_or`` in place."""
        return _in_place(self, "logical_or", other)

    def logical_xor_(self, other: Operand) -> Tensor:
        """``logical_xor`` in place."""
        return _in_place(self, "logical_xor", other)

    def logit_(self, eps: float | None = None) -> Tensor:
        """``logit`` in place."""
        return _in_place(self, "logit", eps)

    def lt_(self, other: Operand) -> Tensor:
        """``lt`` in place."""
        return _in_place(self, "lt", other)

    def nan_to_num_(self, nan: float = 0.0,
                    posinf: float | None = None, neginf: float | None = None) -> Tensor:
        """``nan_to_num`` in place."""
        return _in_place(self, "nan_to_num", nan, posinf, neginf)

    def ne_(self, other: Operand) -> Tensor:
        """``ne`` in place."""
        return _in_place(self, "ne", other)

    def neg_(self) -> Tensor:
        """``neg`` in place."""
        return _in_place(self, "neg")

    def polygamma_(self, n: int) -> Tensor:
        """``polygamma`` in place."""
        return _in_place(self, "polygamma", n)

    def pow_(self, exponent: Operand) -> Tensor:
        """``pow`` in place."""
        return _in_place(self, "pow", exponent)

    def rad2deg_(self) -> Tensor:
        """``rad2deg`` in place."""
        return _in_place(self, "rad2deg")

    def reciprocal_(self) -> Tensor:
        """``reciprocal`` in place."""
        return _in_place(self, "reciprocal")

    def relu_(self) -> Tensor:
        """``relu`` in place."""
        return _in_place(self, "relu")

    def remainder_(self, other: Operand) -> Tensor:
        """``remainder`` in place."""
        return _in_place(self, "remainder", other)

    def round_(self, decimals: int = 0) -> Tensor:
        """``round`` in place."""
        return _in_place(self, "round", decimals)

    def rsqrt_(self) -> Tensor:
        """``rsqrt`` in place."""
        return _in_place(self, "rsqrt")

    def sgn_(self) -> Tensor:
        """``sgn`` in place."""
        return _in_place(self, "sgn")

    def sigmoid_(self) -> Tensor:
        """``sigmoid`` in place."""
        return _in_place(self, "sigmoid")

    def sign_(self) -> Tensor:
        """``sign`` in place."""
        return _in_place(self, "sign")

    def sin_(self) -> Tensor:
        """``sin`` in place."""
        return _in_place(self, "sin")

    def sinc_(self) -> Tensor:
        """``sinc`` in place."""
        return _in_place(self, "sinc")

    def sqrt_(self) -> Tensor:
        """``sqrt`` in place."""
        return _in_place(self, "sqrt")

    def square_(self) -> Tensor:
        """``square`` in place."""
        return _in_place(self, "square")

    def tan_(self) -> Tensor:
        """``tan`` in place."""
        return _in_place(self, "tan")

    def tanh_(self) -> Tensor:
        """``tanh`` in place."""
        return _in_place(self, "tanh")

    def tril_(self, diagonal: int = 0) -> Tensor:
        """``tril`` in place."""
        return _in_place(self, "tril", diagonal)

    def triu_(self, diagonal: int = 0) -> Tensor:
        """``triu`` in place."""
        return _in_place(self, "triu", diagonal)

    def trunc_(self) -> Tensor:
        """``trunc`` in place."""
        return _in_place(self, "trunc")

    def xlogy_(self, other: Operand) -> Tensor:
        """``xlogy`` in place."""
        return _in_place(self, "xlogy", other)

    # PyTorch's other names for the same methods.
    absolute_ = abs_
    arccos_ = acos_
    arccosh_ = acosh_
    arcsin_ = asin_
    arcsinh_ = asinh_
    arctan2_ = atan2_
    arctan_ = atan_
    arctanh_ = atanh_
    fix_ = trunc_
    greater_ = gt_
    greater_equal_ = ge_
    less_ = lt_
    less_equal_ = le_
    negative_ = neg_
    not_equal_ = ne_
