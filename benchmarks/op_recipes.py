"""How to call the ops that take more than one or two float tensors, for ``benchmarks.ops``.

``benchmarks.ops`` times by itself only the ops it can call as ``op(x)`` or ``op(x, y)``. Every
other op that computes on tensors gets a recipe here: a function ``(lib, x, y) -> callable`` that
builds the op's arguments once, for ``backprop`` or for ``torch`` alike, from the two (100, 1000)
float32 inputs (uniform in (0.1, 0.9)), and returns the call to time. The arguments are about 1e5
elements, like the inputs: an index tensor of 10 columns, k=10, dim=1, a (16, 8, 32, 32) image,
316x316 matrices, integer tensors for the bitwise ops. When ``x`` and ``y`` require gradients, so
does every float tensor a recipe derives from them, as a leaf of its own, so the backward column
(``out.sum().backward()``) measures the op and nothing else.

Some recipes time an op that the plain table already times, but in a degenerate way (``clamp``
with tensor bounds, ``softmax`` over all elements ...): their names carry a ``:`` and what differs
(``clamp:scalars``), so ``--only clamp:scalars`` picks them. :data:`LEFT_OUT` names the ops with no
recipe and says why, by group.

Example::

    >>> import backprop as bp, numpy as np
    >>> x = bp.tensor(np.full((100, 1000), 0.5, np.float32))
    >>> RECIPES["topk"].build(bp, x, x)()[0].shape
    (100, 10)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Recipe:
    """``build(lib, x, y)`` returns the call to time; ``shape`` says what it runs on."""

    build: Callable[[Any, Any, Any], Callable[[], Any]]
    shape: str
    backward: bool = True  # False where the result is not differentiable (indices, ints, bools)


RECIPES: dict[str, Recipe] = {}


def recipe(name: str, shape: str, backward: bool = True) -> Callable[[Callable], Callable]:
    """Register ``build`` under ``name`` (several names may share one build)."""
    def register(build: Callable) -> Callable:
        for one in name.split():
            RECIPES[one] = Recipe(build, shape, backward)
        return build
    return register


def calls(names: str, shape: str, args: Callable[[Any, Any, Any], tuple],
          backward: bool = True, **kwargs: Any) -> None:
    """Register, under each of ``names``, the call ``op(*args(lib, x, y), **kwargs)``.

    ``op`` is the name before any ``:variant``, dotted for namespaces (``linalg.cross``).
    """
    for name in names.split():
        def build(lib: Any, x: Any, y: Any, op: str = name.split(":")[0]) -> Callable[[], Any]:
            f, a = _resolve(lib, op), args(lib, x, y)
            return lambda: f(*a, **kwargs)
        RECIPES[name] = Recipe(build, shape, backward)


def _resolve(lib: Any, name: str) -> Any:
    for part in name.split("."):
        lib = getattr(lib, part)
    return lib


# ---------------------------------------------------------------------------------------------
# Helpers: arguments derived from x and y, leaves of their own that require gradients as x does.

def _array(x: Any) -> np.ndarray:
    return x.detach().numpy()


def _leaf(lib: Any, like: Any, array: np.ndarray) -> Any:
    """A float32 leaf tensor holding ``array``, requiring grad as ``like`` does."""
    return lib.tensor(np.ascontiguousarray(array, dtype=np.float32),
                      requires_grad=like.requires_grad)


def _shaped(lib: Any, x: Any, shape: tuple[int, ...]) -> Any:
    """The first prod(shape) values of ``x`` (repeated if needed), as a leaf of ``shape``."""
    flat = _array(x).ravel()
    size = int(np.prod(shape))
    return _leaf(lib, x, np.resize(flat, size).reshape(shape))


def _spd(lib: Any, x: Any, n: int = 316) -> Any:
    """An n x n symmetric positive definite leaf made from x."""
    m = np.resize(_array(x).ravel(), n * n).reshape(n, n).astype(np.float64) - 0.5
    return _leaf(lib, x, m @ m.T / n + np.eye(n))


def _ints(lib: Any, values: np.ndarray) -> Any:
    return lib.tensor(np.ascontiguousarray(values, dtype=np.int64))


def _index(lib: Any, high: int, shape: tuple[int, ...], seed: int = 0) -> Any:
    return _ints(lib, np.random.default_rng(seed).integers(0, high, shape))


def _no_grad(lib: Any, array: np.ndarray) -> Any:
    return lib.tensor(np.ascontiguousarray(array))


N = 100_000  # elements of a 1-d argument
S = 316  # side of a square matrix of about N elements


# ---------------------------------------------------------------------------------------------
# Degenerate in the plain table: the op with its common arguments.

@recipe("clamp:scalars clip:scalars", "100x1000, 0.2, 0.8")
def _clamp(lib, x, y, name="clamp"):
    return lambda: lib.clamp(x, 0.2, 0.8)


calls("softmax log_softmax special.softmax special.log_softmax logsumexp special.logsumexp "
      "cumsum cumprod logcumsumexp cummax cummin sum:dim=1 mean:dim=1 std:dim=1 var:dim=1 "
      "amax:dim=1 prod:dim=1", "100x1000 dim=1", lambda lib, x, y: (x, 1))
calls("norm:dim=1", "100x1000 dim=1", lambda lib, x, y: (x,), dim=1)


@recipe("sort:dim=1", "100x1000 dim=1")
def _sort(lib, x, y):
    return lambda: lib.sort(x, dim=1)


@recipe("sort:dim=0", "100x1000 dim=0")
def _sort0(lib, x, y):
    return lambda: lib.sort(x, dim=0)


@recipe("argsort:dim=1", "100x1000 dim=1", backward=False)
def _argsort(lib, x, y):
    return lambda: lib.argsort(x, dim=1)


@recipe("topk", "100x1000 k=10 dim=1")
def _topk(lib, x, y):
    return lambda: lib.topk(x, 10, dim=1)


@recipe("kthvalue", "100x1000 k=10 dim=1")
def _kthvalue(lib, x, y):
    return lambda: lib.kthvalue(x, 10, 1)


@recipe("max:dim=1", "100x1000 dim=1")
def _max_dim(lib, x, y):
    return lambda: lib.max(x, dim=1)




@recipe("quantile", "100x1000 q=0.3 dim=1")
def _quantile(lib, x, y):
    return lambda: lib.quantile(x, 0.3, dim=1)


@recipe("nanquantile", "100x1000 q=0.3 dim=1")
def _nanquantile(lib, x, y):
    return lambda: lib.nanquantile(x, 0.3, dim=1)


# ---------------------------------------------------------------------------------------------
# Pointwise with extra scalars or a third tensor.

calls("addcdiv addcmul", "3 x 100x1000, value=0.5", lambda lib, x, y: (x, x, y), value=0.5)


@recipe("lerp", "2 x 100x1000, weight 0.3")
def _lerp(lib, x, y):
    return lambda: lib.lerp(x, y, 0.3)


calls("polygamma special.polygamma", "n=1, 100x1000", lambda lib, x, y: (1, x))


@recipe("mvlgamma", "100x1000 + 1, p=2")
def _mvlgamma(lib, x, y):
    z = _leaf(lib, x, _array(x) + 1)
    return lambda: lib.mvlgamma(z, 2)


@recipe("special.multigammaln", "100x1000 + 1, p=2")
def _multigammaln(lib, x, y):
    z = _leaf(lib, x, _array(x) + 1)
    return lambda: lib.special.multigammaln(z, 2)


@recipe("renorm", "100x1000, p=2 dim=0 maxnorm=5")
def _renorm(lib, x, y):
    return lambda: lib.renorm(x, 2, 0, 5.0)


@recipe("fill", "100x1000, 1.5")
def _fill(lib, x, y):
    return lambda: lib.fill(x, 1.5)


@recipe("prelu", "(100,10,100), 10 weights")
def _prelu(lib, x, y):
    z = _leaf(lib, x, _array(x).reshape(100, 10, 100) - 0.5)
    w = _leaf(lib, x, np.linspace(0.1, 0.3, 10))
    return lambda: lib.prelu(z, w)


calls("cross linalg.cross", "(33334,3) x (33334,3) dim=1",
      lambda lib, x, y: (_shaped(lib, x, (33334, 3)), _shaped(lib, y, (33334, 3))), dim=1)


# ---------------------------------------------------------------------------------------------
# Integer ops.

def _int_pair(lib: Any) -> tuple[Any, Any]:
    rng = np.random.default_rng(1)
    return (_ints(lib, rng.integers(1, 1 << 20, (100, 1000))),
            _ints(lib, rng.integers(1, 1 << 20, (100, 1000))))


calls("bitwise_and bitwise_or bitwise_xor gcd lcm", "2 x 100x1000 int64",
      lambda lib, x, y: _int_pair(lib), backward=False)
calls("bitwise_left_shift bitwise_right_shift", "100x1000 int64, shifts 0..7",
      lambda lib, x, y: (_int_pair(lib)[0], _index(lib, 8, (100, 1000))), backward=False)
calls("bitwise_not", "100x1000 int64", lambda lib, x, y: _int_pair(lib)[:1], backward=False)


@recipe("bincount", "1e5 ints in [0,1000)", backward=False)
def _bincount(lib, x, y):
    i = _index(lib, 1000, (N,))
    return lambda: lib.bincount(i)


@recipe("bincount:weights", "1e5 ints in [0,1000), float weights", backward=False)
def _bincount_w(lib, x, y):
    i, w = _index(lib, 1000, (N,)), _no_grad(lib, _array(x).ravel())
    return lambda: lib.bincount(i, w)


@recipe("bucketize", "100x1000, 100 boundaries", backward=False)
def _bucketize(lib, x, y):
    b = _no_grad(lib, np.linspace(0, 1, 100, dtype=np.float32))
    return lambda: lib.bucketize(x, b)


@recipe("searchsorted", "100 sorted, 100x1000 values", backward=False)
def _searchsorted(lib, x, y):
    b = _no_grad(lib, np.linspace(0, 1, 100, dtype=np.float32))
    v = _no_grad(lib, _array(x).ravel())
    return lambda: lib.searchsorted(b, v)


@recipe("unravel_index", "1e5 flat indices into (100,1000)", backward=False)
def _unravel(lib, x, y):
    i = _index(lib, N, (N,))
    return lambda: lib.unravel_index(i, (100, 1000))


@recipe("histogramdd", "(50000,2), 10 bins", backward=False)
def _histogramdd(lib, x, y):
    p = _no_grad(lib, _array(x).reshape(50000, 2))
    return lambda: lib.histogramdd(p, bins=[10, 10])


# ---------------------------------------------------------------------------------------------
# Indexing, gathering and scattering along dim=1 with 10 indices per row.

def _idx10(lib: Any) -> Any:
    return _index(lib, 1000, (100, 10))


@recipe("gather", "100x1000, index (100,10) dim=1")
def _gather(lib, x, y):
    i = _idx10(lib)
    return lambda: lib.gather(x, 1, i)


@recipe("take_along_dim", "100x1000, index (100,10) dim=1")
def _take_along(lib, x, y):
    i = _idx10(lib)
    return lambda: lib.take_along_dim(x, i, 1)


def _scatter_build(kind: str) -> Callable:
    def build(lib, x, y):
        i = _index(lib, 1000, (100, 10))
        src = _shaped(lib, y, (100, 10))
        if kind == "scatter":
            return lambda: lib.scatter(x, 1, i, src)
        if kind == "scatter_add":
            return lambda: lib.scatter_add(x, 1, i, src)
        return lambda: lib.scatter_reduce(x, 1, i, src, "sum")
    return build


for _op in ("scatter", "scatter_add", "scatter_reduce"):
    RECIPES[_op] = Recipe(_scatter_build(_op), "100x1000, index/src (100,10) dim=1")


def _index_build(kind: str) -> Callable:
    def build(lib, x, y):
        i = _ints(lib, np.random.default_rng(2).permutation(1000)[:100])  # no repeats
        src = _shaped(lib, y, (100, 100))
        if kind == "index_select":
            return lambda: lib.index_select(x, 1, i)
        if kind == "index_add":
            return lambda: lib.index_add(x, 1, i, src)
        if kind == "index_copy":
            return lambda: lib.index_copy(x, 1, i, src)
        if kind == "index_fill":
            return lambda: lib.index_fill(x, 1, i, -1.0)
        return lambda: lib.index_reduce(x, 1, i, src, "prod")
    return build


for _op in ("index_select", "index_add", "index_copy", "index_fill", "index_reduce"):
    RECIPES[_op] = Recipe(_index_build(_op), "100x1000, 100 indices dim=1")


@recipe("index_put", "100x1000, 1e4 (row, col) pairs")
def _index_put(lib, x, y):
    flat = np.random.default_rng(3).permutation(N)[:10_000]
    rows, cols = _ints(lib, flat // 1000), _ints(lib, flat % 1000)
    v = _shaped(lib, y, (10_000,))
    return lambda: lib.index_put(x, (rows, cols), v)


@recipe("getitem:rows", "100x1000 [index of 50 rows]")
def _getitem_rows(lib, x, y):
    i = _index(lib, 100, (50,))
    return lambda: x[i]


@recipe("getitem:mask", "100x1000 [x > 0.5]")
def _getitem_mask(lib, x, y):
    m = x.detach() > 0.5
    return lambda: x[m]


@recipe("take", "100x1000, 1e4 flat indices")
def _take(lib, x, y):
    i = _index(lib, N, (10_000,))
    return lambda: lib.take(x, i)


@recipe("put", "100x1000, 1e4 flat indices")
def _put(lib, x, y):
    i = _ints(lib, np.random.default_rng(4).permutation(N)[:10_000])
    v = _shaped(lib, y, (10_000,))
    return lambda: lib.put(x, i, v)


@recipe("masked_fill", "100x1000, mask x > 0.5")
def _masked_fill(lib, x, y):
    m = y.detach() > 0.5
    return lambda: lib.masked_fill(x, m, 0.0)


@recipe("masked_select", "100x1000, mask y > 0.5")
def _masked_select(lib, x, y):
    m = y.detach() > 0.5
    return lambda: lib.masked_select(x, m)


@recipe("masked_scatter", "100x1000, mask y > 0.5, source 100x1000")
def _masked_scatter(lib, x, y):
    m = y.detach() > 0.5
    return lambda: lib.masked_scatter(x, m, y)


@recipe("where:scalar", "mask, 100x1000, 0.0")
def _where(lib, x, y):
    m = y.detach() > 0.5
    return lambda: lib.where(m, x, 0.0)


@recipe("nonzero_static", "100x1000 mask, size 1e4", backward=False)
def _nonzero_static(lib, x, y):
    m = x.detach() > 0.5
    return lambda: lib.nonzero_static(m, size=10_000)


@recipe("nonzero", "100x1000 mask", backward=False)
def _nonzero(lib, x, y):
    m = x.detach() > 0.5
    return lambda: lib.nonzero(m)


@recipe("select_scatter", "100x1000, column 5 <- 100")
def _select_scatter(lib, x, y):
    src = _shaped(lib, y, (100,))
    return lambda: lib.select_scatter(x, src, 1, 5)


@recipe("diagonal_scatter", "316x316 <- diagonal 316")
def _diagonal_scatter(lib, x, y):
    a, d = _shaped(lib, x, (S, S)), _shaped(lib, y, (S,))
    return lambda: lib.diagonal_scatter(a, d)


@recipe("as_strided_scatter", "100x1000 <- (1000,100) transposed view")
def _as_strided_scatter(lib, x, y):
    src = _shaped(lib, y, (1000, 100))
    return lambda: lib.as_strided_scatter(x, src, (1000, 100), (1, 1000))


# ---------------------------------------------------------------------------------------------
# Shapes, views, copies, joins and splits.

_SHAPE_CALLS: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "as_strided": ("(1000,100) strides (1,1000)",
                   lambda lib, x: lib.as_strided(x, (1000, 100), (1, 1000))),
    "as_strided_copy": ("(1000,100) strides (1,1000)",
                        lambda lib, x: lib.as_strided_copy(x, (1000, 100), (1, 1000))),
    "reshape": ("-> (1000,100)", lambda lib, x: lib.reshape(x, (1000, 100))),
    "view_copy": ("-> (1000,100)", lambda lib, x: lib.view_copy(x, (1000, 100))),
    "unflatten": ("dim 1 -> (10,100)", lambda lib, x: lib.unflatten(x, 1, (10, 100))),
    "unsqueeze": ("dim 1", lambda lib, x: lib.unsqueeze(x, 1)),
    "unsqueeze_copy": ("dim 1", lambda lib, x: lib.unsqueeze_copy(x, 1)),
    "moveaxis": ("0 -> 1", lambda lib, x: lib.moveaxis(x, 0, 1)),
    "movedim": ("0 -> 1", lambda lib, x: lib.movedim(x, 0, 1)),
    "permute": ("(1,0)", lambda lib, x: lib.permute(x, (1, 0))),
    "permute_copy": ("(1,0)", lambda lib, x: lib.permute_copy(x, (1, 0))),
    "swapaxes": ("0,1", lambda lib, x: lib.swapaxes(x, 0, 1)),
    "swapdims": ("0,1", lambda lib, x: lib.swapdims(x, 0, 1)),
    "transpose": ("0,1", lambda lib, x: lib.transpose(x, 0, 1)),
    "transpose_copy": ("0,1", lambda lib, x: lib.transpose_copy(x, 0, 1)),
    "narrow": ("dim 1, 100:600", lambda lib, x: lib.narrow(x, 1, 100, 500)),
    "narrow_copy": ("dim 1, 100:600", lambda lib, x: lib.narrow_copy(x, 1, 100, 500)),
    "select": ("dim 1, 5", lambda lib, x: lib.select(x, 1, 5)),
    "flip": ("dims (1,)", lambda lib, x: lib.flip(x, (1,))),
    "roll": ("3 along dim 1", lambda lib, x: lib.roll(x, 3, 1)),
    "tile": ("(2,1)", lambda lib, x: lib.tile(x, (2, 1))),
    "repeat_interleave": ("2 along dim 1", lambda lib, x: lib.repeat_interleave(x, 2, dim=1)),
    "unfold_copy": ("dim 1 size 10 step 10", lambda lib, x: lib.unfold_copy(x, 1, 10, 10)),
    "chunk": ("10 along dim 1", lambda lib, x: lib.chunk(x, 10, 1)),
    "unsafe_chunk": ("10 along dim 1", lambda lib, x: lib.unsafe_chunk(x, 10, 1)),
    "split": ("100 along dim 1", lambda lib, x: lib.split(x, 100, 1)),
    "unsafe_split": ("100 along dim 1", lambda lib, x: lib.unsafe_split(x, 100, 1)),
    "split_with_sizes": ("[500,300,200] along dim 1",
                         lambda lib, x: lib.split_with_sizes(x, [500, 300, 200], 1)),
    "split_with_sizes_copy": ("[500,300,200] along dim 1",
                              lambda lib, x: lib.split_with_sizes_copy(x, [500, 300, 200], 1)),
    "tensor_split": ("10 along dim 1", lambda lib, x: lib.tensor_split(x, 10, 1)),
    "hsplit": ("10", lambda lib, x: lib.hsplit(x, 10)),
    "vsplit": ("10", lambda lib, x: lib.vsplit(x, 10)),
    "constant_pad_nd": ("(1,1,1,1)", lambda lib, x: lib.constant_pad_nd(x, (1, 1, 1, 1))),
}
for _op, (_shape, _call) in _SHAPE_CALLS.items():
    RECIPES[_op] = Recipe(lambda lib, x, y, _call=_call: lambda: _call(lib, x),
                          f"100x1000, {_shape}")


@recipe("dsplit", "(100,10,100), 10")
def _dsplit(lib, x, y):
    z = _shaped(lib, x, (100, 10, 100))
    return lambda: lib.dsplit(z, 10)


@recipe("broadcast_to", "(1,1000) -> (100,1000)")
def _broadcast_to(lib, x, y):
    r = _shaped(lib, x, (1, 1000))
    return lambda: lib.broadcast_to(r, (100, 1000))


@recipe("expand_copy", "(1,1000) -> (100,1000)")
def _expand_copy(lib, x, y):
    r = _shaped(lib, x, (1, 1000))
    return lambda: lib.expand_copy(r, (100, 1000))


calls("cat concat concatenate stack hstack vstack row_stack column_stack dstack",
      "[100x1000, 100x1000]", lambda lib, x, y: ([x, y],))


@recipe("cat:dim=1", "[100x1000, 100x1000] dim=1")
def _cat1(lib, x, y):
    return lambda: lib.cat([x, y], 1)


@recipe("cat:many", "100 x (1,1000)")
def _cat_many(lib, x, y):
    rows = [_shaped(lib, x, (1, 1000)) for _ in range(100)]
    return lambda: lib.cat(rows)


@recipe("meshgrid", "316, 316 indexing='ij'")
def _meshgrid(lib, x, y):
    a, b = _shaped(lib, x, (S,)), _shaped(lib, y, (S,))
    return lambda: lib.meshgrid(a, b, indexing="ij")


@recipe("cartesian_prod", "316 x 316")
def _cartesian(lib, x, y):
    a, b = _shaped(lib, x, (S,)), _shaped(lib, y, (S,))
    return lambda: lib.cartesian_prod(a, b)


@recipe("combinations", "448, r=2")
def _combinations(lib, x, y):
    a = _shaped(lib, x, (448,))
    return lambda: lib.combinations(a, 2)


@recipe("diagflat", "316 -> 316x316")
def _diagflat(lib, x, y):
    a = _shaped(lib, x, (S,))
    return lambda: lib.diagflat(a)


@recipe("kron", "(10,32) kron (10,32)")
def _kron(lib, x, y):
    a, b = _shaped(lib, x, (10, 32)), _shaped(lib, y, (10, 32))
    return lambda: lib.kron(a, b)


@recipe("view_as_complex", "(50000,2)", backward=False)
def _view_as_complex(lib, x, y):
    z = _shaped(lib, x, (50_000, 2))
    return lambda: lib.view_as_complex(z)


@recipe("view_as_real", "50000 complex64", backward=False)
def _view_as_real(lib, x, y):
    c = lib.view_as_complex(_no_grad(lib, _array(x).reshape(50_000, 2)))
    return lambda: lib.view_as_real(c)


@recipe("imag", "50000 complex64", backward=False)
def _imag(lib, x, y):
    c = lib.view_as_complex(_no_grad(lib, _array(x).reshape(50_000, 2)))
    return lambda: lib.imag(c)


@recipe("pixel_shuffle", "(4,64,20,20), factor 2")
def _pixel_shuffle(lib, x, y):
    z = _shaped(lib, x, (4, 64, 20, 20))
    return lambda: lib.pixel_shuffle(z, 2)


@recipe("pixel_unshuffle", "(4,16,40,40), factor 2")
def _pixel_unshuffle(lib, x, y):
    z = _shaped(lib, x, (4, 16, 40, 40))
    return lambda: lib.pixel_unshuffle(z, 2)


# ---------------------------------------------------------------------------------------------
# Comparisons returning a Python bool.

@recipe("allclose", "2 x 100x1000", backward=False)
def _allclose(lib, x, y):
    return lambda: lib.allclose(x, y)


@recipe("equal", "2 x 100x1000", backward=False)
def _equal(lib, x, y):
    return lambda: lib.equal(x, y)


# ---------------------------------------------------------------------------------------------
# Factories and random draws (no gradient).

_FACTORIES: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "arange": ("1e5", lambda lib, x: lib.arange(N, dtype=lib.float32)),
    "linspace": ("1e5", lambda lib, x: lib.linspace(0, 1, N)),
    "logspace": ("1e5", lambda lib, x: lib.logspace(0, 1, N)),
    "empty": ("100x1000", lambda lib, x: lib.empty(100, 1000)),
    "empty_permuted": ("100x1000 (1,0)", lambda lib, x: lib.empty_permuted((100, 1000), (1, 0))),
    "empty_strided": ("100x1000", lambda lib, x: lib.empty_strided((100, 1000), (1000, 1))),
    "zeros": ("100x1000", lambda lib, x: lib.zeros(100, 1000)),
    "ones": ("100x1000", lambda lib, x: lib.ones(100, 1000)),
    "full": ("100x1000", lambda lib, x: lib.full((100, 1000), 1.5)),
    "full_like": ("100x1000", lambda lib, x: lib.full_like(x, 1.5)),
    "eye": ("316x316", lambda lib, x: lib.eye(S)),
    "scalar_tensor": ("()", lambda lib, x: lib.scalar_tensor(1.5)),
    "tril_indices": ("447x447", lambda lib, x: lib.tril_indices(447, 447)),
    "triu_indices": ("447x447", lambda lib, x: lib.triu_indices(447, 447)),
    "rand": ("100x1000", lambda lib, x: lib.rand(100, 1000)),
    "randn": ("100x1000", lambda lib, x: lib.randn(100, 1000)),
    "randint": ("100x1000", lambda lib, x: lib.randint(0, 10, (100, 1000))),
    "randint_like": ("100x1000", lambda lib, x: lib.randint_like(x, 10)),
    "randperm": ("1e5", lambda lib, x: lib.randperm(N)),
    "bartlett_window": ("1e5", lambda lib, x: lib.bartlett_window(N)),
    "blackman_window": ("1e5", lambda lib, x: lib.blackman_window(N)),
    "hamming_window": ("1e5", lambda lib, x: lib.hamming_window(N)),
    "hann_window": ("1e5", lambda lib, x: lib.hann_window(N)),
    "kaiser_window": ("1e5", lambda lib, x: lib.kaiser_window(N)),
    "fft.fftfreq": ("1e5", lambda lib, x: lib.fft.fftfreq(N)),
    "fft.rfftfreq": ("1e5", lambda lib, x: lib.fft.rfftfreq(N)),
    "multinomial": ("100x1000 probabilities, 10 draws",
                    lambda lib, x: lib.multinomial(x, 10)),
}
for _op, (_shape, _call) in _FACTORIES.items():
    RECIPES[_op] = Recipe(lambda lib, x, y, _call=_call: lambda: _call(lib, x), _shape,
                          backward=False)


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


# ---------------------------------------------------------------------------------------------
# Recurrent cells: batch 100, 256 features, 256 hidden units.

def _cell_args(lib: Any, x: Any, gates: int) -> list[Any]:
    inp, h = _shaped(lib, x, (100, 256)), _shaped(lib, x, (100, 256))
    w_ih = _leaf(lib, x, (_array(x).ravel()[: gates * 256 * 256 // 4].repeat(4)
                          .reshape(gates * 256, 256) - 0.5) / 16)
    w_hh = _leaf(lib, x, (np.resize(_array(x), (gates * 256, 256)) - 0.5) / 16)
    b_ih, b_hh = _shaped(lib, x, (gates * 256,)), _shaped(lib, x, (gates * 256,))
    return [inp, h, w_ih, w_hh, b_ih, b_hh]


@recipe("rnn_tanh_cell", "batch 100, 256 -> 256")
def _rnn_tanh(lib, x, y):
    inp, h, *w = _cell_args(lib, x, 1)
    return lambda: lib.rnn_tanh_cell(inp, h, *w)


@recipe("rnn_relu_cell", "batch 100, 256 -> 256")
def _rnn_relu(lib, x, y):
    inp, h, *w = _cell_args(lib, x, 1)
    return lambda: lib.rnn_relu_cell(inp, h, *w)


@recipe("gru_cell", "batch 100, 256 -> 256")
def _gru(lib, x, y):
    inp, h, *w = _cell_args(lib, x, 3)
    return lambda: lib.gru_cell(inp, h, *w)


@recipe("lstm_cell", "batch 100, 256 -> 256")
def _lstm(lib, x, y):
    inp, h, *w = _cell_args(lib, x, 4)
    c = _shaped(lib, y, (100, 256))
    return lambda: lib.lstm_cell(inp, (h, c), *w)


# ---------------------------------------------------------------------------------------------
# Convolution and pooling: a (16,8,32,32) image (131k elements), 16 filters of 3x3.

IMAGE = (16, 8, 32, 32)


@recipe("conv1d", "(16,8,800) * 16x8x3")
def _conv1d(lib, x, y):
    a, w = _shaped(lib, x, (16, 8, 800)), _shaped(lib, y, (16, 8, 3))
    return lambda: lib.conv1d(a, w)


calls("conv2d nn.functional.conv2d", "(16,8,32,32) * 16x8x3x3, padding 1",
      lambda lib, x, y: (_shaped(lib, x, IMAGE), _shaped(lib, y, (16, 8, 3, 3)),
                         _shaped(lib, y, (16,))), padding=1)


@recipe("conv3d", "(4,8,16,16,16) * 8x8x3x3x3")
def _conv3d(lib, x, y):
    a, w = _shaped(lib, x, (4, 8, 16, 16, 16)), _shaped(lib, y, (8, 8, 3, 3, 3))
    return lambda: lib.conv3d(a, w)


@recipe("conv_transpose1d", "(16,8,800) * 8x16x3")
def _convt1d(lib, x, y):
    a, w = _shaped(lib, x, (16, 8, 800)), _shaped(lib, y, (8, 16, 3))
    return lambda: lib.conv_transpose1d(a, w)


@recipe("conv_transpose2d", "(16,8,32,32) * 8x16x3x3")
def _convt2d(lib, x, y):
    a, w = _shaped(lib, x, IMAGE), _shaped(lib, y, (8, 16, 3, 3))
    return lambda: lib.conv_transpose2d(a, w)


@recipe("conv_transpose3d", "(4,8,16,16,16) * 8x8x3x3x3")
def _convt3d(lib, x, y):
    a, w = _shaped(lib, x, (4, 8, 16, 16, 16)), _shaped(lib, y, (8, 8, 3, 3, 3))
    return lambda: lib.conv_transpose3d(a, w)


@recipe("avg_pool1d", "(16,8,800), 3")
def _avg_pool1d(lib, x, y):
    a = _shaped(lib, x, (16, 8, 800))
    return lambda: lib.avg_pool1d(a, 3)


@recipe("adaptive_avg_pool1d", "(16,8,800) -> 10")
def _adaptive_avg_pool1d(lib, x, y):
    a = _shaped(lib, x, (16, 8, 800))
    return lambda: lib.adaptive_avg_pool1d(a, 10)


@recipe("max_pool1d", "(16,8,800), 3")
def _max_pool1d(lib, x, y):
    a = _shaped(lib, x, (16, 8, 800))
    return lambda: lib.max_pool1d(a, 3)


calls("max_pool2d nn.functional.max_pool2d", "(16,8,32,32), 2",
      lambda lib, x, y: (_shaped(lib, x, IMAGE), 2))


@recipe("max_pool3d", "(4,8,16,16,16), 2")
def _max_pool3d(lib, x, y):
    a = _shaped(lib, x, (4, 8, 16, 16, 16))
    return lambda: lib.max_pool3d(a, 2)


_F_IMAGE: dict[str, Callable[[Any, Any], Any]] = {
    "nn.functional.avg_pool2d": lambda F, a: F.avg_pool2d(a, 2),
    "nn.functional.max_pool2d:3x3s1": lambda F, a: F.max_pool2d(a, 3, 1, 1),
    "nn.functional.adaptive_avg_pool2d": lambda F, a: F.adaptive_avg_pool2d(a, 1),
    "nn.functional.interpolate": lambda F, a: F.interpolate(a, scale_factor=2, mode="nearest"),
    "nn.functional.interpolate:bilinear": lambda F, a: F.interpolate(
        a, scale_factor=2, mode="bilinear", align_corners=False),
    "nn.functional.pad": lambda F, a: F.pad(a, (1, 1, 1, 1)),
    "nn.functional.pad:reflect": lambda F, a: F.pad(a, (1, 1, 1, 1), mode="reflect"),
    "nn.functional.group_norm": lambda F, a: F.group_norm(a, 4),
    "nn.functional.instance_norm": lambda F, a: F.instance_norm(a),
    "nn.functional.unfold": lambda F, a: F.unfold(a, 3, padding=1),
}
def _on_image(call: Callable[[Any, Any], Any]) -> Callable:
    def build(lib: Any, x: Any, y: Any) -> Callable[[], Any]:
        a = _shaped(lib, x, IMAGE)
        return lambda: call(lib.nn.functional, a)
    return build


for _op, _call in _F_IMAGE.items():
    RECIPES[_op] = Recipe(_on_image(_call), "(16,8,32,32)")


@recipe("nn.functional.batch_norm", "(16,8,32,32), training, 8 channels")
def _batch_norm(lib, x, y):
    a = _shaped(lib, x, IMAGE)
    w, b = _shaped(lib, y, (8,)), _shaped(lib, x, (8,))
    mean, var = lib.zeros(8), lib.ones(8)
    return lambda: lib.nn.functional.batch_norm(a, mean, var, w, b, training=True)


@recipe("nn.functional.batch_norm:eval", "(16,8,32,32), running statistics")
def _batch_norm_eval(lib, x, y):
    a = _shaped(lib, x, IMAGE)
    w, b = _shaped(lib, y, (8,)), _shaped(lib, x, (8,))
    mean, var = lib.zeros(8), lib.ones(8)
    return lambda: lib.nn.functional.batch_norm(a, mean, var, w, b, training=False)


# ---------------------------------------------------------------------------------------------
# nn.functional on the (100, 1000) inputs: a batch of 100 rows of 1000 features / classes.

@recipe("nn.functional.linear", "(100,1000) @ (100,1000).T + 100")
def _linear(lib, x, y):
    b = _shaped(lib, y, (100,))
    return lambda: lib.nn.functional.linear(x, y, b)


@recipe("nn.functional.embedding", "1e4 indices into (1000,100)")
def _embedding(lib, x, y):
    i = _index(lib, 1000, (100, 100))
    w = _shaped(lib, x, (1000, 100))
    return lambda: lib.nn.functional.embedding(i, w)


@recipe("nn.functional.one_hot", "1e4 indices, 10 classes", backward=False)
def _one_hot(lib, x, y):
    i = _index(lib, 10, (10_000,))
    return lambda: lib.nn.functional.one_hot(i, 10)


@recipe("nn.functional.cross_entropy", "100x1000 logits, 100 targets")
def _cross_entropy(lib, x, y):
    t = _index(lib, 1000, (100,))
    return lambda: lib.nn.functional.cross_entropy(x, t)


@recipe("nn.functional.cross_entropy:smooth", "100x1000 logits, label smoothing 0.1")
def _cross_entropy_smooth(lib, x, y):
    t = _index(lib, 1000, (100,))
    return lambda: lib.nn.functional.cross_entropy(x, t, label_smoothing=0.1)


@recipe("nn.functional.nll_loss", "100x1000 log-probabilities, 100 targets")
def _nll(lib, x, y):
    t = _index(lib, 1000, (100,))
    return lambda: lib.nn.functional.nll_loss(x, t)


@recipe("nn.functional.mse_loss", "2 x 100x1000")
def _mse(lib, x, y):
    t = y.detach()
    return lambda: lib.nn.functional.mse_loss(x, t)


@recipe("nn.functional.binary_cross_entropy", "2 x 100x1000")
def _bce(lib, x, y):
    t = y.detach()
    return lambda: lib.nn.functional.binary_cross_entropy(x, t)


@recipe("nn.functional.binary_cross_entropy_with_logits", "2 x 100x1000")
def _bce_logits(lib, x, y):
    t = y.detach()
    return lambda: lib.nn.functional.binary_cross_entropy_with_logits(x, t)


@recipe("nn.functional.layer_norm", "100x1000 over 1000, weight and bias")
def _layer_norm(lib, x, y):
    w, b = _shaped(lib, y, (1000,)), _shaped(lib, x, (1000,))
    return lambda: lib.nn.functional.layer_norm(x, (1000,), w, b)


@recipe("nn.functional.normalize", "100x1000 dim=1")
def _normalize(lib, x, y):
    return lambda: lib.nn.functional.normalize(x, dim=1)


@recipe("nn.functional.softmax", "100x1000 dim=-1")
def _f_softmax(lib, x, y):
    return lambda: lib.nn.functional.softmax(x, dim=-1)


@recipe("nn.functional.log_softmax", "100x1000 dim=-1")
def _f_log_softmax(lib, x, y):
    return lambda: lib.nn.functional.log_softmax(x, dim=-1)


@recipe("nn.functional.gelu", "100x1000")
def _gelu(lib, x, y):
    return lambda: lib.nn.functional.gelu(x)


@recipe("nn.functional.silu", "100x1000")
def _silu(lib, x, y):
    return lambda: lib.nn.functional.silu(x)


@recipe("nn.functional.dropout:eval", "100x1000, training=False")
def _dropout_eval(lib, x, y):
    return lambda: lib.nn.functional.dropout(x, 0.5, training=False)


@recipe("nn.functional.scaled_dot_product_attention", "(4,4,100,64) q, k, v")
def _sdpa(lib, x, y):
    q, k = _shaped(lib, x, (4, 4, 100, 64)), _shaped(lib, y, (4, 4, 100, 64))
    v = _shaped(lib, x, (4, 4, 100, 64))
    return lambda: lib.nn.functional.scaled_dot_product_attention(q, k, v)


LEFT_OUT: dict[str, str] = {
    "queries and settings, no tensor computed": (
        "broadcast_shapes can_cast get_default_dtype get_num_threads is_complex "
        "is_floating_point is_grad_enabled is_nonzero is_same_size is_signed is_tensor "
        "manual_seed numel promote_types result_type set_default_dtype set_num_threads"),
    "files and foreign memory, nothing computed": "from_numpy load save",
}
