"""Op-table rows for ``backprop.ops.special_polynomials``: each polynomial against NumPy's own
(``numpy.polynomial``), with the degree as a tensor and as a number. PyTorch defines no
gradient for them, so there is none to check."""

from __future__ import annotations

import numpy as np
from numpy.polynomial import chebyshev, hermite, hermite_e, laguerre, legendre

import backprop as bp

from .spec import ErrorInput, OpSpec, Sample, uniform


def _by_degree(value):
    """A reference ``f(x, n)`` from ``value(x, degree)``, per element (n truncated; negative
    n gives 0)."""

    def reference(x, n):
        x, n = np.broadcast_arrays(np.asarray(x, float), np.asarray(n, float))
        out = np.zeros(x.shape)
        for index in np.ndindex(x.shape):
            degree = int(n[index])
            if degree >= 0:
                out[index] = value(x[index], degree)
        return out

    return reference


def _series(module, x, degree):
    coefficients = np.zeros(degree + 1)
    coefficients[degree] = 1.0
    return {chebyshev: chebyshev.chebval, hermite: hermite.hermval, hermite_e: hermite_e.hermeval,
            laguerre: laguerre.lagval, legendre: legendre.legval}[module](x, coefficients)


def _chebyshev_u(x, n):  # U_n = (T_(n+2) - T_n) / (2 (x^2 - 1)), or by the recurrence
    p, q = 1.0, 2 * x
    if n == 0:
        return p
    for _ in range(n - 1):
        p, q = q, 2 * x * q - p
    return q


def _chebyshev_v(x, n):  # V_n = U_n - U_(n-1)
    return _chebyshev_u(x, n) - (_chebyshev_u(x, n - 1) if n else 0.0)


def _chebyshev_w(x, n):  # W_n = U_n + U_(n-1)
    return _chebyshev_u(x, n) + (_chebyshev_u(x, n - 1) if n else 0.0)


def _shifted(value):
    return lambda x, n: value(2 * x - 1, n)


def _samples(domain):
    def samples(rng: np.random.Generator) -> list[Sample]:
        x = uniform(rng, (2, 3), *domain)
        return [Sample((x, np.array([0.0, 1.0, 2.0])), name="degrees-0-1-2"),
                Sample((x, np.array([[3.0], [7.6]])), name="degrees-3-7"),
                Sample((x, 12), name="degree-12"),
                Sample((uniform(rng, (3,), *domain), np.array([-1.0, 5.0, 9.0])),
                       name="negative-degree")]

    return samples


def _errors(name):
    def errors() -> list[ErrorInput]:
        op = getattr(bp.special, name)
        return [ErrorInput(lambda: op(0.5, 2), TypeError, f"{name}: expected input or n")]

    return errors


def _row(name, value, domain=(-0.95, 0.95)):
    op = getattr(bp.special, name)
    return OpSpec(f"special.{name}", op, _by_degree(value), _samples(domain),
                  torch=lambda torch, x, n: getattr(torch.special, name)(x, n), grad=False,
                  error_inputs=_errors(name), aliases=(name,))  # the primitive




def _T(x, n):
    return _series(chebyshev, x, n)


ROWS = [
    _row("chebyshev_polynomial_t", _T),
    _row("chebyshev_polynomial_u", _chebyshev_u),
    _row("chebyshev_polynomial_v", _chebyshev_v),
    _row("chebyshev_polynomial_w", _chebyshev_w),
    _row("shifted_chebyshev_polynomial_t", _shifted(_T), (0.05, 0.95)),
    _row("shifted_chebyshev_polynomial_u", _shifted(_chebyshev_u), (0.05, 0.95)),
    _row("shifted_chebyshev_polynomial_v", _shifted(_chebyshev_v), (0.05, 0.95)),
    _row("shifted_chebyshev_polynomial_w", _shifted(_chebyshev_w), (0.05, 0.95)),
    _row("hermite_polynomial_h", lambda x, n: _series(hermite, x, n), (-2.0, 2.0)),
    _row("hermite_polynomial_he", lambda x, n: _series(hermite_e, x, n), (-2.0, 2.0)),
    _row("laguerre_polynomial_l", lambda x, n: _series(laguerre, x, n), (0.1, 3.0)),
    _row("legendre_polynomial_p", lambda x, n: _series(legendre, x, n)),
]
