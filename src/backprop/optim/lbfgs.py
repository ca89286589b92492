"""``LBFGS``: limited-memory BFGS over all parameters as one flat vector, with an optional
strong-Wolfe line search (Nocedal & Wright, *Numerical Optimization*, algorithms 7.4, 3.5, 3.6).

The vectors (gradient, direction, the curvature pairs) are flat arrays of the parameters' array
module, so the optimizer runs on any device; the scalars derived from them (dot products) keep
their array type, so float32 parameters do their scalar arithmetic in float32 as PyTorch does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, _bump_version

__all__ = ["LBFGS"]

# Sufficient-decrease and curvature constants of the strong Wolfe conditions (PyTorch's, the
# usual quasi-Newton choice), and the bracket width (times the largest entry of the direction)
# below which the zoom stops; the group's tolerance_change is not used there, as in PyTorch.
_C1, _C2, _LINE_SEARCH_TOLERANCE = 1e-4, 0.9, 1e-9


class LBFGS(Optimizer):
    r"""L-BFGS: a quasi-Newton method whose inverse-Hessian estimate is built from the last
    ``history_size`` steps :math:`s_k` and gradient changes :math:`y_k` (PyTorch's version).

    Each iteration takes the direction :math:`d = -H g` by the two-loop recursion, with the
    initial scaling :math:`H_0 = \frac{s^\top y}{y^\top y} I` from the newest pair; a pair is kept
    only when :math:`s^\top y > 10^{-10}`. The step is :math:`\theta \leftarrow \theta + t d`,
    with :math:`t = \text{lr}` (the very first step :math:`\min(1, 1/\lVert g\rVert_1)\,
    \text{lr}`), or, with ``line_search_fn="strong_wolfe"``, :math:`t` found by bracketing and
    cubic-interpolation zoom until

    .. math::

        f(\theta + t d) \le f(\theta) + c_1 t\, g^\top d, \qquad
        |\nabla f(\theta + t d)^\top d| \le -c_2\, g^\top d, \qquad c_1 = 10^{-4},\ c_2 = 0.9.

    ``step(closure)`` runs up to ``max_iter`` iterations (and ``max_eval`` evaluations of
    ``closure``), stopping early when the largest gradient entry is at most ``tolerance_grad``
    or the step or the change of loss falls below ``tolerance_change``. ``closure`` must zero the
    gradients, compute the loss, call ``backward()`` and return the loss; ``step`` returns the
    loss of its first evaluation. All parameters form one flat vector, so there is one parameter
    group only; the state lives under the first parameter (``func_evals``, ``n_iter``, ``d``,
    ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad``, ``prev_loss``,
    ``al``) and carries over between calls.

    Args:
        params: tensors (or one parameter group) to optimize.
        lr: learning rate, the step length tried first (default 1).
        max_iter: iterations per ``step`` (default 20).
        max_eval: evaluations of ``closure`` per ``step`` (default ``max_iter * 5 // 4``).
        tolerance_grad: stop when :math:`\lVert g\rVert_\infty` is at most this (default 1e-7).
        tolerance_change: stop when the step or loss change is below this (default 1e-9).
        history_size: how many :math:`(s, y)` pairs are kept (default 100).
        line_search_fn: ``None`` or ``"strong_wolfe"``.

    >>> import backprop as bp
    >>> from backprop import optim
    >>> w = bp.tensor([0.0, 0.0], requires_grad=True)
    >>> target = bp.tensor([1.0, -2.0])
    >>> opt = optim.LBFGS([w], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((w - target) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> opt.step(closure).item()       # the loss before the step
    5.0
    >>> [round(v, 6) for v in w.tolist()]
    [1.0, -2.0]
    """

    def __init__(self, params: ParamsT, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if isinstance(lr, (int, float)) and lr < 0:
            raise ValueError(f"LBFGS: invalid learning rate lr={lr}; it must be >= 0")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                    "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
                    "history_size": history_size, "line_search_fn": line_search_fn}
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): "
                             "it treats all parameters as one vector; pass one list of tensors")

    @property
    def _params(self) -> list[Tensor]:
        return self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Refused once the one group exists: L-BFGS has no per-group options."""
        if getattr(self, "param_groups", None):
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): "
                             "it treats all parameters as one vector")
        super().add_param_group(param_group)

    # -- the parameters as one flat vector ---------------------------------------------------------

    def _flat_grad(self) -> Any:
        first = self._params[0]._data
        xp = backend.xp_of(first)
        # A parameter without a gradient contributes zeros (it does not move).
        pieces = [p.grad._data.reshape(-1) if p.grad is not None
                  else xp.zeros(p._data.size, dtype=p._data.dtype) for p in self._params]
        return xp.concatenate(pieces)

    def _add_to_params(self, step: Any, direction: Any) -> None:
        """``params += step * direction`` (``direction`` flat, in the parameters' order)."""
        offset = 0
        for p in self._params:
            data = p._data
            size = data.size
            data += (direction[offset:offset + size] * step).reshape(data.shape)
            offset += size
            _bump_version(p)

    def _copy_params(self) -> list[Any]:
        return [p._data.copy() for p in self._params]

    def _set_params(self, values: list[Any]) -> None:
        for p, value in zip(self._params, values):
            p._data[...] = value
            _bump_version(p)

    def _evaluate_at(self, closure: Callable[[], Any], start: list[Any], step: Any,
                     direction: Any) -> tuple[float, Any]:
        """Loss and flat gradient at ``start + step * direction``; the parameters go back to
        ``start`` afterwards."""
        self._add_to_params(step, direction)
        loss = float(self._evaluate(closure))
        flat_grad = self._flat_grad()
        self._set_params(start)
        return loss, flat_grad

    # -- the step ----------------------------------------------------------------------------------

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """Run up to ``max_iter`` L-BFGS iterations; return the loss ``closure`` first gave."""
        if closure is None:
            raise RuntimeError("LBFGS.step: a closure is required; it must zero the gradients, "
                               "compute the loss, call backward() and return the loss, since "
                               "L-BFGS evaluates the function several times per step")
        group = self.param_groups[0]
        lr = group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search_fn = group["history_size"], group["line_search_fn"]
        if line_search_fn not in (None, "strong_wolfe"):
            raise RuntimeError(f"LBFGS.step: only 'strong_wolfe' is supported as line_search_fn, "
                               f"got {line_search_fn!r}")

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        first_loss = self._evaluate(closure)
        loss = float(first_loss)
        evaluations = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        xp = backend.xp_of(flat_grad)
        if abs(flat_grad).max() <= tolerance_grad:
            return first_loss

        d, t = _array(state.get("d")), _array(state.get("t"))
        old_dirs = [_array(v) for v in state.get("old_dirs", [])]
        old_stps = [_array(v) for v in state.get("old_stps", [])]
        ro = [_array(v) for v in state.get("ro", [])]
        H_diag = _array(state.get("H_diag"))
        prev_flat_grad = _array(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                # The newest curvature pair, kept only where the curvature is positive (so the
                # estimate stays positive definite).
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = xp.dot(y, s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / xp.dot(y, y)
                # The two-loop recursion: d = -H g.
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = xp.dot(old_stps[i], q) * ro[i]
                    q = q - old_dirs[i] * al[i]
                d = r = q * H_diag
                for i in range(len(old_dirs)):
                    be_i = xp.dot(old_dirs[i], r) * ro[i]
                    r += old_stps[i] * (al[i] - be_i)

            prev_flat_grad = flat_grad.copy()
            prev_loss = loss

            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / abs(flat_grad).sum()) * lr
            else:
                t = lr

            gtd = xp.dot(flat_grad, d)
            if gtd > -tolerance_change:  # not a descent direction any more
                break

            if line_search_fn is not None:
                start = self._copy_params()
                loss, flat_grad, t, line_evaluations = _strong_wolfe(
                    lambda step: self._evaluate_at(closure, start, step, d),
                    t, d, loss, flat_grad, gtd, max_evaluations=max_eval - evaluations)
                self._add_to_params(t, d)
            else:
                self._add_to_params(t, d)
                line_evaluations = 0
                if n_iter != max_iter:
                    # Without a line search the new gradient is needed for the next direction;
                    # the last iteration leaves it to the next step() call.
                    loss = float(self._evaluate(closure))
                    flat_grad = self._flat_grad()
                    line_evaluations = 1
            optimal = bool(abs(flat_grad).max() <= tolerance_grad)
            evaluations += line_evaluations
            state["func_evals"] += line_evaluations

            if n_iter == max_iter or evaluations >= max_eval or optimal:
                break
            if abs(d * t).max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"] = _tensor(d)
        state["t"] = _number(t)
        state["old_dirs"] = [_tensor(v) for v in old_dirs]
        state["old_stps"] = [_tensor(v) for v in old_stps]
        state["ro"] = [_tensor(v) for v in ro]
        state["H_diag"] = _tensor(H_diag)
        state["prev_flat_grad"] = _tensor(prev_flat_grad)
        state["prev_loss"] = prev_loss
        if "al" in state:
            state["al"] = [_tensor(v) for v in state["al"]]
        return first_loss


def _cubic_interpolate(x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any,
                       bounds: tuple[Any, Any] | None = None) -> Any:
    """The minimiser of the cubic through ``(x1, f1)``, ``(x2, f2)`` with slopes ``g1``, ``g2``
    (Nocedal & Wright eq. 3.59), clamped to ``bounds`` (default: between the two points); the
    bounds' midpoint when the cubic has no minimum."""
    low, high = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square ** 0.5
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, low), high)
    return (low + high) / 2.0


def _strong_wolfe(evaluate: Callable[[Any], tuple[float, Any]], t: Any, d: Any, f: float,
                  g: Any, gtd: Any, max_evaluations: int) -> tuple[float, Any, Any, int]:
    """A step length ``t`` along ``d`` satisfying the strong Wolfe conditions: bracketing with
    growing steps (Nocedal & Wright algorithm 3.5), then zoom by safeguarded cubic interpolation
    (algorithm 3.6). ``evaluate(t)`` gives the loss and flat gradient at the step ``t``; the
    search stops after ``max_evaluations`` trials (what is left of the step's ``max_eval``).
    Returns the loss, gradient and step accepted, and the number of evaluations."""
    xp = backend.xp_of(d)
    d_norm = abs(d).max()
    f_new, g_new = evaluate(t)
    evaluations = 1
    gtd_new = xp.dot(g_new, d)

    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_evaluations:
        if f_new > (f + _C1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -_C2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # Still descending: extrapolate, at least 1% past t and at most ten times it.
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        previous = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = previous, f_new, g_new, gtd_new
        f_new, g_new = evaluate(t)
        evaluations += 1
        gtd_new = xp.dot(g_new, d)
        ls_iter += 1

    if ls_iter == max_evaluations:  # no bracket found in time: the last step stands
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # Zoom: shrink the bracket [low, high], low always the best point seen so far.
    insufficient_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_evaluations:
        if abs(bracket[1] - bracket[0]) * d_norm < _LINE_SEARCH_TOLERANCE:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        # A trial too close to an end makes little progress: the second time in a row (or when
        # it falls outside), move it to 10% of the bracket's width from that end.
        low_end, high_end = min(bracket), max(bracket)
        margin = 0.1 * (high_end - low_end)
        if min(high_end - t, t - low_end) < margin:
            if insufficient_progress or t >= high_end or t <= low_end:
                t = high_end - margin if abs(t - high_end) < abs(t - low_end) else low_end + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False

        f_new, g_new = evaluate(t)
        evaluations += 1
        gtd_new = xp.dot(g_new, d)
        ls_iter += 1

        if f_new > (f + _C1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -_C2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # The slope says the minimum lies on the other side of low: flip the bracket.
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], evaluations


def _array(value: Any) -> Any:
    """A state entry (a Tensor after a step or a load) as the array the iteration works on."""
    return value._data if isinstance(value, Tensor) else value


def _tensor(value: Any) -> Any:
    """An array (or array scalar) as the Tensor PyTorch keeps in the state."""
    if value is None or isinstance(value, (int, float, Tensor)):
        return value
    if isinstance(value, backend.ARRAY_TYPES):
        return Tensor._wrap(value)
    return Tensor._wrap(backend.as_array(value))


def _number(value: Any) -> Any:
    return value if isinstance(value, (int, float)) else float(value)
