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
recipe and says why, by group. This file holds the registry, its helpers and the recipes of
pointwise, integer, indexing, shape and factory ops; ``op_recipes_linalg`` (products, linear
algebra, signals) and ``op_recipes_nn`` (cells, convolution, pooling, ``nn.functional``) add
theirs when this module is imported.

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


LEFT_OUT: dict[str, str] = {
    "queries and settings, no tensor computed": (
        "broadcast_shapes can_cast get_default_dtype get_num_threads is_complex "
        "is_floating_point is_grad_enabled is_nonzero is_same_size is_signed is_tensor "
        "manual_seed numel promote_types result_type set_default_dtype set_num_threads "
        "are_deterministic_algorithms_enabled get_float32_matmul_precision "
        "get_num_interop_threads is_deterministic_algorithms_warn_only_enabled "
        "is_inference_mode_enabled set_float32_matmul_precision set_num_interop_threads "
        "use_deterministic_algorithms clear_autocast_cache get_autocast_dtype "
        "is_autocast_cache_enabled is_autocast_enabled set_autocast_dtype"),
    "returns the model it is given": "compile",
    "files and foreign memory, nothing computed": "from_numpy load save",
}


# The recipes of the other concerns register themselves with RECIPES when imported.
from benchmarks import op_recipes_linalg, op_recipes_nn  # noqa: F401
