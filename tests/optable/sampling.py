"""Rows for the random ops (multinomial, bernoulli, normal, poisson, standard_gamma) and the
numerics the distributions stand on (lgamma, digamma, polygamma, ndtri, cholesky,
solve_triangular).

PyTorch's generator is not ours, so the random rows are not compared with PyTorch here: each
call draws from a fresh generator seeded with ``_SEED`` and the reference makes the same draws
with NumPy (tests/test_sampling.py checks the distributions by their statistics, and
tests/test_opinfo.py PyTorch's shapes and dtypes). Their gradients are zero, as PyTorch's
(``normal``'s sample is not reparameterised), so they have no finite-difference checks.
"""

from __future__ import annotations

import math

import numpy as np

import backprop as bp
from backprop.distributions._linalg import cholesky, solve_triangular
from backprop.distributions._special import ndtri
from backprop.ops.sampling import _standard_gamma

from .spec import ErrorInput, OpSpec, Sample, positive, uniform

_SEED = 2024


def _rng() -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(_SEED))


def _seeded(fn):
    """``fn`` called with ``generator=`` a generator freshly seeded with ``_SEED``."""
    return lambda *args, **kwargs: fn(*args, generator=bp.Generator(_SEED), **kwargs)


# -- multinomial -----------------------------------------------------------------------------------

def _np_multinomial(weights, num_samples, replacement=False):
    rows = weights.reshape(-1, weights.shape[-1])
    rng = _rng()
    if replacement:
        cdf = np.cumsum(rows, axis=1) / rows.sum(1, keepdims=True)
        u = rng.random((len(rows), num_samples))
        drawn = np.stack([np.minimum(np.searchsorted(c, r, side="right"), len(c) - 1)
                          for c, r in zip(cdf, u)])
    else:  # the exponential race: the categories in the order they finish
        drawn = np.argsort(-(rows / rng.standard_exponential(rows.shape)), axis=1,
                           kind="stable")[:, :num_samples]
    return drawn.reshape(weights.shape[:-1] + (num_samples,))


def _multinomial_samples(rng):
    return [Sample((positive(rng, (5,)), 3), name="1d"),
            Sample((positive(rng, (3, 4)), 4), name="2d-all"),
            Sample((positive(rng, (4,)), 6, True), name="1d-replacement"),
            Sample((np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 1.0]]), 5, True),
                   name="2d-replacement-zeros")]


def _multinomial_errors():
    w = bp.tensor([1.0, 2.0])
    return [
        ErrorInput(lambda: bp.multinomial(w, 3), ValueError,
                   r"multinomial: cannot sample num_samples=3 > 2 categories without "
                   r"replacement"),
        ErrorInput(lambda: bp.multinomial(w, 0), ValueError,
                   r"multinomial: cannot sample num_samples=0 <= 0 samples"),
        ErrorInput(lambda: bp.multinomial(bp.tensor([1.0, -1.0]), 1), ValueError,
                   r"multinomial: probability tensor contains either `inf`, `nan` or element "
                   r"< 0"),
        ErrorInput(lambda: bp.multinomial(bp.tensor([[1.0, 1.0], [0.0, 0.0]]), 1, True),
                   ValueError, r"multinomial: invalid distribution: the weights of row 1 sum "
                   r"to 0"),
        ErrorInput(lambda: bp.multinomial(bp.ones(2, 2, 2), 1), bp.ShapeError,
                   r"multinomial: input must be 1-D or 2-D .* got shape \(2, 2, 2\)"),
        ErrorInput(lambda: bp.multinomial(bp.tensor([1, 2]), 1), bp.DTypeError,
                   r"multinomial: input must be a floating-point tensor of weights, got int64"),
    ]


# -- bernoulli, normal, poisson, standard_gamma ----------------------------------------------------

def _np_bernoulli(p, q=None):
    return (_rng().random(p.shape) < (p if q is None else q)).astype(p.dtype)


def _np_normal(mean, std):
    shape = np.broadcast_shapes(np.shape(mean), np.shape(std))
    return mean + std * _rng().standard_normal(shape)


def _probability_samples(rng):
    return [Sample((uniform(rng, (2, 3), 0.0, 1.0),), name="tensor-p"),
            Sample((uniform(rng, (4,), 0.0, 1.0), 0.3), name="float-p"),
            Sample((np.array([0.0, 1.0, 1.0, 0.0]),), name="certain")]


def _normal_samples(rng):
    return [Sample((uniform(rng, (2, 3)), positive(rng, (2, 3))), name="tensor-tensor"),
            Sample((uniform(rng, (3,)), positive(rng, (2, 1))), name="broadcast"),
            Sample((uniform(rng, (2,)), 0.5), name="tensor-float")]


def _normal_errors():
    return [ErrorInput(lambda: bp.normal(bp.zeros(2), bp.tensor([1.0, -1.0])), ValueError,
                       r"normal: expects all elements of std >= 0.0, but found -1.0"),
            ErrorInput(lambda: bp.normal(0.0, -1.0, (2,)), ValueError,
                       r"normal: expects std >= 0.0, but found std -1.0"),
            ErrorInput(lambda: bp.normal(bp.zeros(2), bp.ones(3)), bp.ShapeError,
                       r"normal: mean of shape \(2,\) and std of shape \(3,\) cannot be "
                       r"broadcast"),
            ErrorInput(lambda: bp.normal(0.0, 1.0), TypeError, r"normal: with a number for "
                       r"both mean and std, give the size")]


def _bernoulli_errors():
    return [ErrorInput(lambda: bp.bernoulli(bp.tensor([1.5])), ValueError,
                       r"bernoulli: every probability in input must be in \[0, 1\]"),
            ErrorInput(lambda: bp.bernoulli(bp.zeros(2), 2.0), ValueError,
                       r"bernoulli: expects p to be in \[0, 1\], but got p=2.0"),
            ErrorInput(lambda: bp.bernoulli(bp.tensor([1, 0])), bp.DTypeError,
                       r"bernoulli: input must be a floating-point tensor, got int64")]


def _np_poisson(rates):
    return _rng().poisson(rates).astype(rates.dtype)


def _np_standard_gamma(alpha):
    return np.maximum(_rng().standard_gamma(alpha), np.finfo(alpha.dtype).tiny)


def _poisson_errors():
    return [ErrorInput(lambda: bp.poisson(bp.tensor([-1.0])), ValueError,
                       r"poisson: invalid Poisson rate, expected every rate in input to be "
                       r"non-negative")]


# -- the numerics of the distributions -------------------------------------------------------------

def _np_lgamma(x):
    return np.vectorize(math.lgamma)(x)


def _np_polygamma(n, x, terms=20000):
    """The series psi_n(x) = (-1)^(n+1) n! sum_k 1/(x+k)^(n+1) (psi_0: -gamma + sum_k
    1/(k+1) - 1/(x+k)), summed to ``terms`` with the Euler-Maclaurin tail."""
    k = np.arange(terms)[:, None]
    flat = np.asarray(x, np.float64).reshape(1, -1)
    end = flat + terms
    if n == 0:
        total = np.log(end) - 0.5 / end - 1 / (12 * end ** 2) - (1.0 / (flat + k)).sum(0)
    else:
        head = (1.0 / (flat + k) ** (n + 1)).sum(0)
        tail = 1 / (n * end ** n) + 1 / (2 * end ** (n + 1)) + (n + 1) / (12 * end ** (n + 2))
        total = (-1) ** (n + 1) * math.factorial(n) * (head + tail)
    return total.reshape(np.shape(x))


def _gamma_samples(rng):
    return [Sample((uniform(rng, (2, 3), 0.2, 6.0),), name="positive"),
            Sample((uniform(rng, (4,), -2.9, -2.1),), name="negative"),
            Sample((np.array([1.0, 2.0, 0.5, 30.0]),), name="special-points")]


def _np_ndtri(p):
    """Newton's method on math.erfc (accurate in both tails), from 0."""
    def one(q):
        z = 0.0
        for _ in range(60):
            z -= (0.5 * math.erfc(-z / math.sqrt(2)) - q) * math.sqrt(2 * math.pi) * math.exp(
                z * z / 2)
        return z
    return np.vectorize(one)(p)


def _symmetric(a):
    return (a + a.transpose(-1, -2)) / 2


def _np_symmetric(a):
    return (a + np.swapaxes(a, -1, -2)) / 2


def _spd_samples(rng):
    def spd(*batch):
        a = uniform(rng, batch + (3, 3), -0.5, 0.5)
        return a + 3 * np.eye(3)
    return [Sample((spd(),), name="3x3"), Sample((spd(2),), name="batched")]


def _triangular_samples(rng):
    def well_conditioned(*batch):
        return uniform(rng, batch + (3, 3), -0.5, 0.5) + 3 * np.eye(3)
    return [Sample((well_conditioned(), uniform(rng, (3, 2))), name="lower"),
            Sample((well_conditioned(2), uniform(rng, (3, 1))), name="batched-broadcast"),
            Sample((well_conditioned(), uniform(rng, (3, 2))), {"upper": True}, name="upper")]


def _solve(A, B, upper=False):
    return solve_triangular(A.triu() if upper else A.tril(), B, upper=upper)


def _np_solve(A, B, upper=False):
    triangle = np.triu(A) if upper else np.tril(A)
    batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    return np.linalg.solve(np.broadcast_to(triangle, batch + A.shape[-2:]),
                           np.broadcast_to(B, batch + B.shape[-2:]))


ROWS = [
    OpSpec("multinomial", _seeded(bp.multinomial), _np_multinomial, _multinomial_samples,
           torch=None, torch_reason="random draws: PyTorch's generator is not ours",
           grad=False, error_inputs=_multinomial_errors),
    OpSpec("bernoulli", _seeded(bp.bernoulli), _np_bernoulli, _probability_samples, torch=None,
           torch_reason="random draws", grad=False, error_inputs=_bernoulli_errors),
    OpSpec("normal", _seeded(bp.normal), _np_normal, _normal_samples, torch=None,
           torch_reason="random draws", grad=False, error_inputs=_normal_errors),
    OpSpec("poisson", _seeded(bp.poisson), _np_poisson,
           lambda rng: [Sample((positive(rng, (2, 3)) * 4,), name="rates")], torch=None,
           torch_reason="random draws", grad=False, error_inputs=_poisson_errors),
    OpSpec("standard_gamma", _seeded(_standard_gamma), _np_standard_gamma,
           lambda rng: [Sample((uniform(rng, (2, 3), 0.1, 5.0),), name="alpha")], torch=None,
           torch_reason="random draws; its implicit gradient is compared with PyTorch's "
           "_standard_gamma_grad in tests/test_distributions.py", grad=False),
    OpSpec("lgamma", bp.lgamma, _np_lgamma, _gamma_samples,
           torch=lambda torch, x: torch.lgamma(x)),
    OpSpec("digamma", bp.digamma, lambda x: _np_polygamma(0, x), _gamma_samples, torch=None,
           torch_reason="PyTorch's trigamma (digamma's derivative) is ~1e-9 relative off, "
           "above this table's 1e-10: tests/test_opinfo.py compares it at 5e-9"),
    OpSpec("polygamma", bp.polygamma, _np_polygamma,
           lambda rng: [Sample((n, uniform(rng, (2, 3), 0.3, 5.0)), name=f"n={n}")
                        for n in (1, 2, 3)] + [
               Sample((2, uniform(rng, (3,), -1.9, -1.1)), name="negative")],
           torch=None, torch_reason="as digamma: compared in tests/test_opinfo.py at 5e-9",
           gradgrad=False),
    OpSpec("ndtri", ndtri, _np_ndtri,
           lambda rng: [Sample((uniform(rng, (2, 3), 0.05, 0.95),), name="central")],
           torch=lambda torch, p: torch.special.ndtri(p)),
    OpSpec("cholesky", lambda a: cholesky(_symmetric(a)),
           lambda a: np.linalg.cholesky(_np_symmetric(a)), _spd_samples,
           torch=lambda torch, a: torch.linalg.cholesky((a + a.mT) / 2),
           error_inputs=lambda: [ErrorInput(
               lambda: cholesky(bp.tensor([[1.0, 2.0], [2.0, 1.0]])), ValueError,
               r"cholesky: the matrix is not positive-definite")]),
    OpSpec("solve_triangular", _solve, _np_solve, _triangular_samples,
           torch=lambda torch, A, B, upper=False: torch.linalg.solve_triangular(
               A.triu() if upper else A.tril(), B, upper=upper)),
]
