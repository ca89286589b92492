"""The optional Numba accelerator, ``bp.backends.numba``.

Dispatch (run everywhere, with stand-in kernels that only count their calls): the switches
(``enabled``, ``BACKPROP_NUMBA=0``) really bypass the kernels, ``import backprop`` does not
import Numba, and inputs a kernel does not handle (small, non-contiguous, other dtypes, Tensors
under create_graph) take the NumPy code. Kernels (skipped, with the reason, without Numba): each
one's results against the NumPy path's, float32 and float64, odd sizes and special values, with
``min_size`` lowered so that small arrays take the kernels too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F
from backprop import optim
from backprop.backends import numba as accel

KERNELS = ("gelu_tanh", "gelu_tanh_backward", "layer_norm", "layer_norm_backward", "softmax",
           "softmax_backward", "log_softmax", "log_softmax_backward", "adam_update")

needs_numba = pytest.mark.skipif(not accel.is_available(),
                                 reason="Numba is not installed (pip install backprop[fast])")


def leaf(shape: tuple[int, ...], dtype: Any = np.float64, seed: int = 0,
         scale: float = 1.0) -> bp.Tensor:
    rng = np.random.default_rng(seed)
    return bp.tensor((scale * rng.standard_normal(shape)).astype(dtype), requires_grad=True)


def cotangent(shape: tuple[int, ...], dtype: Any) -> bp.Tensor:
    return bp.tensor(np.cos(np.arange(int(np.prod(shape)))).reshape(shape).astype(dtype))


# -- dispatch, with stand-in kernels --------------------------------------------------------------

@pytest.fixture
def calls(monkeypatch: Any) -> Counter:
    """Replace the kernels by stand-ins that count their calls and compute nothing (the outputs
    are left as allocated): these tests check which path runs, not what it computes."""
    counter: Counter = Counter()

    def stand_in(name: str) -> Any:
        def kernel(*args: Any) -> None:
            counter[name] += 1
        return kernel

    monkeypatch.setattr(accel, "_kernels", SimpleNamespace(**{k: stand_in(k) for k in KERNELS}))
    monkeypatch.setattr(accel, "enabled", True)
    monkeypatch.setattr(accel, "min_size", 1000)
    return counter


def one_of_each(dtype: Any = np.float32, shape: tuple[int, ...] = (4, 8, 64)) -> None:
    """Forward and backward of every op that has a kernel, and one AdamW step."""
    x = leaf(shape, dtype)
    w, b = leaf(shape[-1:], dtype, 1), leaf(shape[-1:], dtype, 2)
    c = cotangent(shape, dtype)  # a contiguous gradient for each op (sum's is a broadcast)
    with np.errstate(all="ignore"):  # the stand-ins leave arbitrary values behind
        loss = (F.gelu(x, approximate="tanh") * c + F.layer_norm(x, shape[-1:], w, b) * c
                + F.softmax(x, -1) * c + F.log_softmax(x, -1) * c).sum()
        loss.backward()
        optim.AdamW([x]).step()


def test_every_kernel_runs_when_enabled(calls: Counter) -> None:
    one_of_each()
    assert set(calls) == set(KERNELS)


def test_disabled_runs_no_kernel(calls: Counter, monkeypatch: Any) -> None:
    monkeypatch.setattr(accel, "enabled", False)
    one_of_each()
    assert not calls


@pytest.mark.parametrize("case", ["small", "float16", "non-contiguous"])
def test_inputs_a_kernel_does_not_take_run_numpy(calls: Counter, case: str) -> None:
    if case == "small":
        one_of_each(shape=(2, 3, 5))
    elif case == "float16":
        x = leaf((4, 8, 64), np.float16)
        F.gelu(x, approximate="tanh").sum().backward()
        F.softmax(x, -1).sum().backward()
    else:
        x = leaf((64, 8, 4)).transpose(0, 2)  # a strided view: not C-contiguous
        (F.gelu(x, approximate="tanh").sum() + F.softmax(x, -1).sum()
         + F.layer_norm(x, (64,)).sum()).backward()
    assert not calls


def test_softmax_over_another_axis_and_other_norms_run_numpy(calls: Counter) -> None:
    x = leaf((4, 8, 64))
    F.softmax(x, 1).sum().backward()
    F.log_softmax(x, 0).sum().backward()
    F.batch_norm(x, None, None, training=True).sum().backward()  # axes (0, 2): not trailing
    F.group_norm(x, 2, leaf((8,)), leaf((8,))).sum().backward()  # weight per channel
    assert not calls


def test_gradients_of_gradients_build_the_graph_with_bp_ops(calls: Counter) -> None:
    """Under create_graph the VJPs receive Tensors: they must not go to a kernel (which returns
    arrays and records nothing), or the second derivative would be lost."""
    x = leaf((4, 8, 64))
    with np.errstate(all="ignore"):
        for f in (lambda t: F.gelu(t, approximate="tanh"), lambda t: F.softmax(t, -1),
                  lambda t: F.log_softmax(t, -1), lambda t: F.layer_norm(t, (64,))):
            (g,) = bp.autograd.grad((f(x) * cotangent(x.shape, np.float64)).sum(), [x],
                                    create_graph=True)
            assert g.requires_grad
    # one call per forward; none for the Tensor VJPs
    assert set(calls) == {"gelu_tanh", "softmax", "log_softmax", "layer_norm"}
    assert all(n == 1 for n in calls.values())


def run_python(code: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "BACKPROP_NUMBA"}
    environment.update(env)
    result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True,
                            text=True, check=True, timeout=120)
    return result.stdout.strip()


def test_import_does_not_import_numba_and_the_environment_switches_it_off() -> None:
    code = ("import sys, importlib.util, backprop as bp; "
            "print('numba' in sys.modules, bp.backends.numba.enabled, "
            "importlib.util.find_spec('numba') is not None)")
    imported, enabled, installed = run_python(code).split()
    assert imported == "False" and enabled == installed
    assert run_python(code, BACKPROP_NUMBA="0").split()[:2] == ["False", "False"]


def test_without_numba_everything_runs_numpy(monkeypatch: Any) -> None:
    monkeypatch.setattr(accel, "enabled", True)
    monkeypatch.setattr(accel, "min_size", 1)
    monkeypatch.setattr(accel, "_kernels", None)
    monkeypatch.setattr(accel, "_import_error", ImportError("no numba"))
    assert not accel.is_available()
    x = leaf((3, 5)).detach()
    a = x.numpy()
    expected = 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a ** 3)))
    np.testing.assert_allclose(F.gelu(x, approximate="tanh").numpy(), expected, rtol=1e-14)


def test_a_kernel_that_fails_to_compile_switches_the_accelerator_off(monkeypatch: Any) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("no LLVM for this CPU")

    monkeypatch.setattr(accel, "_kernels", SimpleNamespace(**{k: broken for k in KERNELS}))
    monkeypatch.setattr(accel, "enabled", True)
    monkeypatch.setattr(accel, "min_size", 1)
    x = leaf((4, 5)).detach()
    with pytest.warns(RuntimeWarning, match="disabled, Numba could not compile a kernel"):
        out = F.softmax(x, -1).numpy()
    assert accel.enabled is False
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-15)


# -- kernels against the NumPy path ----------------------------------------------------------------

@pytest.fixture
def both(monkeypatch: Any) -> Any:
    """``both(f)``: f() with the NumPy path, then with the kernels (which take every size)."""
    if not accel.is_available():
        pytest.skip("Numba is not installed (pip install backprop[fast])")
    monkeypatch.setattr(accel, "min_size", 1)

    def run(f: Any) -> tuple[Any, Any]:
        monkeypatch.setattr(accel, "enabled", False)
        slow = f()
        monkeypatch.setattr(accel, "enabled", True)
        return slow, f()
    return run


def assert_close(slow: Any, fast: Any, dtype: Any, atol32: float = 1e-6) -> None:
    """float64 to 1e-12 relative, float32 to 1e-5 (and ``atol32`` times the largest value)."""
    for a, b in zip(slow, fast, strict=True):
        assert a.dtype == b.dtype == dtype
        scale = max(1.0, float(np.max(np.abs(a[np.isfinite(a)]), initial=0.0)))
        if dtype == np.float64:
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14 * scale)
        else:
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=atol32 * scale)


def forward_backward(op: Any, inputs: list[bp.Tensor]) -> list[np.ndarray]:
    for t in inputs:
        t.grad = None
    out = op(*inputs)
    (out * cotangent(out.shape, out.dtype)).sum().backward()
    return [out.detach().numpy()] + [t.grad.numpy() for t in inputs if t.grad is not None]


DTYPES = [np.float32, np.float64]
SHAPES = [(1,), (7,), (3, 129), (2, 5, 1001)]
EXTREMES = np.array([-40.0, -9.0, -4.5, -1e-20, 0.0, 1e-20, 4.5, 9.0, 40.0, np.inf, -np.inf,
                     np.nan])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_gelu_tanh(both: Any, dtype: Any, shape: tuple[int, ...]) -> None:
    x = leaf(shape, dtype, scale=3.0)
    slow, fast = both(lambda: forward_backward(lambda t: F.gelu(t, approximate="tanh"), [x]))
    # Where tanh rounds to +-1 or one unit short of it (|x| near 6 in float32), 1 - tanh^2 is 0
    # or 1.2e-7 and the derivative's tiny true value carries an error of ~1e-6 in either path.
    assert_close(slow, fast, dtype, atol32=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gelu_tanh_extremes(both: Any, dtype: Any) -> None:
    x = bp.tensor(EXTREMES.astype(dtype), requires_grad=True)
    with np.errstate(invalid="ignore"):
        slow, fast = both(lambda: forward_backward(lambda t: F.gelu(t, approximate="tanh"), [x]))
    # float32: the kernels' fused multiply-adds round each a * b + c once where NumPy rounds
    # twice; the derivative at x = -4.5 (1.2e-5, left from terms of size 0.5 that cancel) moves
    # by 1.4e-11, 1.1e-6 relative.
    for a, b in zip(slow, fast):
        np.testing.assert_allclose(b, a, rtol=2e-6 if dtype == np.float32 else 1e-12,
                                   atol=1e-14)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 7), (2, 5, 129), (4, 3, 6)])
@pytest.mark.parametrize("affine", ["none", "weight", "both", "frozen"])
def test_layer_norm(both: Any, dtype: Any, shape: tuple[int, ...], affine: str) -> None:
    x = leaf(shape, dtype, scale=2.0)
    normalized = shape[-1:] if len(shape) < 3 else shape[-2:]  # one or two trailing dims
    w = None if affine == "none" else leaf(normalized, dtype, 1)
    b = leaf(normalized, dtype, 2) if affine in ("both", "frozen") else None
    if affine == "frozen":  # a weight without a gradient: the input's VJP alone
        w.requires_grad = False
    inputs = [t for t in (x, w, b) if t is not None]
    slow, fast = both(lambda: forward_backward(
        lambda *ts: F.layer_norm(ts[0], normalized, w, b), inputs))
    assert len(slow) == 1 + sum(t.requires_grad for t in inputs)
    assert_close(slow, fast, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_instance_and_group_norm_statistics(both: Any, dtype: Any) -> None:
    """Both normalise trailing axes without a per-element weight: the forward kernel runs, and
    the variance it hands back feeds the running statistics."""
    x = leaf((3, 4, 5, 6), dtype)

    def run() -> list[np.ndarray]:
        mean, var = bp.zeros(4, dtype=dtype), bp.ones(4, dtype=dtype)
        out = forward_backward(lambda t: F.instance_norm(t, mean, var), [x])
        out += forward_backward(lambda t: F.group_norm(t, 2), [x])
        return out + [mean.numpy(), var.numpy()]
    slow, fast = both(run)
    assert_close(slow, fast, dtype)


def softmax_input(shape: tuple[int, ...], dtype: Any) -> bp.Tensor:
    x = leaf(shape, dtype, scale=5.0).detach().numpy().copy()
    flat = x.reshape(-1, shape[-1])
    flat[0, ::2] = -np.inf  # a causal-style mask
    if flat.shape[0] > 2:
        flat[1, -1] = 80.0  # exp would overflow without the shift by the max
    return bp.tensor(x, requires_grad=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 3), (5, 7), (2, 3, 129)])
@pytest.mark.parametrize("op", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax(both: Any, dtype: Any, shape: tuple[int, ...], op: Any) -> None:
    x = softmax_input(shape, dtype)
    with np.errstate(invalid="ignore"):
        slow, fast = both(lambda: forward_backward(lambda t: op(t, -1), [x]))
    if op is F.log_softmax:  # -inf where masked, in both
        for a, b in zip(slow, fast):
            np.testing.assert_array_equal(np.isneginf(a), np.isneginf(b))
            a[np.isneginf(a)] = b[np.isneginf(b)] = 0.0
    assert_close(slow, fast, dtype)


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_rows_without_a_finite_maximum_give_nan(both: Any, op: Any) -> None:
    x = bp.tensor(np.array([[-np.inf, -np.inf], [np.inf, 0.0], [np.nan, 0.0], [0.0, 1.0]]))
    with np.errstate(invalid="ignore"):
        slow, fast = both(lambda: op(x, -1).numpy())
    np.testing.assert_allclose(fast, slow, rtol=1e-15)
    assert np.isnan(fast[:3]).all()


ADAM_CASES = [
    ("AdamW", {}),
    ("AdamW", {"amsgrad": True, "maximize": True}),
    ("Adam", {"weight_decay": 0.1}),
    ("Adam", {"weight_decay": 0.1, "maximize": True, "amsgrad": True}),
    ("Adam", {"betas": (0.3, 0.999)}),  # lerp's other formula (weight 1 - beta1 >= 0.5)
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,options", ADAM_CASES)
def test_adam_update_is_bit_for_bit(both: Any, dtype: Any, name: str, options: dict) -> None:
    def run() -> list[np.ndarray]:
        params = [leaf((3, 129), dtype, 1), leaf((7,), dtype, 2)]
        opt = getattr(optim, name)(params, lr=0.05, **options)
        for step in range(3):
            for i, p in enumerate(params):
                p.grad = bp.tensor(np.sin(np.arange(p.numel()) * (step + i + 1.0))
                                   .reshape(p.shape).astype(dtype))
            opt.step()
        state = [opt.state[p][k].numpy() for p in params for k in sorted(opt.state[p])
                 if k != "step"]
        return [p.detach().numpy() for p in params] + state
    slow, fast = both(run)
    for a, b in zip(slow, fast, strict=True):
        assert b.dtype == dtype
        np.testing.assert_array_equal(b, a)


@needs_numba
def test_kernels_take_arrays_at_the_default_size(monkeypatch: Any) -> None:
    """At the default ``min_size`` a W4-sized activation goes through a kernel."""
    seen: Counter = Counter()
    real = accel._load()

    def spy(name: str) -> Any:
        def kernel(*args: Any) -> None:
            seen[name] += 1
            getattr(real, name)(*args)
        return kernel

    spies = {k: spy(k) for k in KERNELS}
    monkeypatch.setattr(accel, "_kernels", SimpleNamespace(**spies))
    monkeypatch.setattr(accel, "enabled", True)
    x = leaf((2, 64, 512), np.float32)
    (F.gelu(x, approximate="tanh") * cotangent(x.shape, np.float32)).sum().backward()
    assert seen == {"gelu_tanh": 1, "gelu_tanh_backward": 1}


# -- the LSTM layer's step (nn/functional/recurrent_layer.py) -------------------------------------

def lstm_run(dtype: Any, packed: bool, with_state: bool) -> list[np.ndarray]:
    """Outputs, final states and every gradient of a 2-layer bidirectional batch-first LSTM."""
    bp.manual_seed(0)
    lstm = bp.nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True).to(dtype)
    x = leaf((4, 6, 3), dtype)
    state = (leaf((4, 4, 5), dtype, 1), leaf((4, 4, 5), dtype, 2)) if with_state else None
    rnn_utils = bp.nn.utils.rnn
    source = rnn_utils.pack_padded_sequence(x, [6, 4, 4, 1], batch_first=True) if packed else x
    out, (h, c) = lstm(source, state)
    if packed:
        out = rnn_utils.pad_packed_sequence(out, batch_first=True)[0]
    (out.sin().sum() + (h * h).sum() + c.cos().sum()).backward()
    leaves = [x] + ([] if state is None else list(state)) + list(lstm.parameters())
    return [out.detach().numpy(), h.detach().numpy(), c.detach().numpy()] + [
        t.grad.numpy() for t in leaves]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("packed", [False, True], ids=["padded", "packed"])
@pytest.mark.parametrize("with_state", [False, True], ids=["zero-state", "given-state"])
def test_lstm_layer_step(both: Any, monkeypatch: Any, dtype: Any, packed: bool,
                         with_state: bool) -> None:
    seen: Counter = Counter()
    real = accel._load()
    for name in ("lstm_step", "lstm_step_backward"):
        def counted(*args: Any, name: str = name, kernel: Any = getattr(real, name)) -> None:
            seen[name] += 1
            kernel(*args)
        monkeypatch.setattr(real, name, counted)
    slow, fast = both(lambda: lstm_run(dtype, packed, with_state))
    assert_close(slow, fast, dtype)
    # 2 layers x 2 directions x 6 steps, forward and backward, all through the kernels
    assert seen == {"lstm_step": 24, "lstm_step_backward": 24}


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_tanh_is_accurate_near_zero_and_everywhere(dtype: Any) -> None:
    """The step's tanh against NumPy's within 3 units in the last place, relative, from tiny
    arguments (where an absolute-error tanh would be far off) to saturation."""
    from numba import njit

    from backprop.backends._numba_kernels import _OPTIONS, _tanh_exact

    @njit(**_OPTIONS)
    def tanh(x: Any, out: Any) -> None:
        for k in range(x.size):
            out[k] = _tanh_exact(x[k])
    grid = np.concatenate([np.geomspace(1e-30, 25.0, 20001), np.linspace(0.35, 0.45, 1001)])
    x = np.concatenate([grid, -grid, [0.0]]).astype(dtype)
    out = np.empty_like(x)
    tanh(x, out)
    exact = np.tanh(x.astype(np.float64) if dtype == np.float32 else x.astype(np.longdouble))
    ulps = np.abs(out - exact) / np.spacing(np.abs(exact).astype(dtype))
    assert float(ulps.max()) <= 3.0
    special = np.array([np.inf, -np.inf, np.nan, -0.0], dtype)
    tanh(special, out[:4])
    np.testing.assert_array_equal(out[:4], [1.0, -1.0, np.nan, 0.0])
