"""scaled_dot_product_attention's fused softmax (``ops.fused.attention_softmax``: scale, causal
mask and softmax in one op) and its Numba kernels, on and off; embedding's row-gradient kernel.
PyTorch is the oracle where it has the concept."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F
from backprop.backends import numba as accel
from backprop.backends import numba_indexing
from backprop.ops.fused import attention_softmax

# (batch..., L, S): square (W4's causal case), more keys than queries, more queries than keys
SHAPES = [(2, 3, 16, 16), (4, 9, 20), (2, 20, 7)]


@pytest.fixture(params=["numpy", "numba"])
def kernels(request: Any, monkeypatch: Any) -> str:
    """Each test twice: NumPy's path, then Numba's kernels (on arrays of every size)."""
    if request.param == "numba":
        if not accel.is_available():
            pytest.skip("Numba is not installed (pip install backprop[fast])")
        monkeypatch.setattr(accel, "enabled", True)
        monkeypatch.setattr(accel, "min_size", 1)
    else:
        monkeypatch.setattr(accel, "enabled", False)
    return request.param


def _reference(x: np.ndarray, scale: float, causal: bool) -> np.ndarray:
    """softmax(x * scale) over the last dim with keys j > i masked, in float64."""
    z = x.astype(np.float64) * scale
    if causal:
        z = np.where(np.tri(*x.shape[-2:], dtype=bool), z, -np.inf)
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_and_gradient_match_the_unfused_ops(kernels: str, dtype: Any, causal: bool,
                                                    shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    scale = 0.37
    fused = bp.tensor(x, requires_grad=True)
    out = attention_softmax(fused, scale, causal)
    out.backward(bp.tensor(g))
    # the ops it replaces: mul, where (causal), softmax
    plain = bp.tensor(x, requires_grad=True)
    scores = plain * scale
    if causal:
        scores = bp.where(bp.tensor(np.tri(*shape[-2:], dtype=bool)), scores, -math.inf)
    expected = bp.softmax(scores, -1)
    expected.backward(bp.tensor(g))
    assert out.dtype == expected.dtype == dtype
    # float32: the kernels' exp and reordered row sums differ from NumPy's in the last bits
    tol = {"rtol": 1e-12, "atol": 1e-15} if dtype == np.float64 else {"rtol": 2e-6,
                                                                       "atol": 1e-7}
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), **tol)
    np.testing.assert_allclose(fused.grad.numpy(), plain.grad.numpy(), **tol)
    np.testing.assert_allclose(out.detach().numpy(), _reference(x, scale, causal),
                               rtol=1e-12 if dtype == np.float64 else 2e-6, atol=1e-7)
    if causal:  # masked entries exactly 0, with exactly 0 gradient
        upper = ~np.tri(*shape[-2:], dtype=bool)
        assert (out.detach().numpy()[..., upper] == 0).all()
        assert (fused.grad.numpy()[..., upper] == 0).all()


def test_the_kernels_run(monkeypatch: Any) -> None:
    if not accel.is_available():
        pytest.skip("Numba is not installed (pip install backprop[fast])")
    monkeypatch.setattr(accel, "enabled", True)
    compiled = accel._load()
    ran: list[str] = []

    def counting(name: str, kernel: Any) -> Any:
        def run(*args: Any) -> Any:
            ran.append(name)
            return kernel(*args)
        return run

    for name in ("attention_softmax", "attention_softmax_backward"):
        monkeypatch.setattr(compiled, name, counting(name, getattr(compiled, name)))
    x, g = np.random.default_rng(1).standard_normal((2, 2, 4, 32, 32)).astype(np.float32)
    x = bp.tensor(x, requires_grad=True)
    attention_softmax(x, 0.5, True).backward(bp.tensor(g))  # sum's gradient would be a broadcast
    assert ran == ["attention_softmax", "attention_softmax_backward"]


def test_gradients_of_gradients(kernels: str) -> None:
    x = bp.tensor(np.random.default_rng(2).standard_normal((2, 5, 5)), requires_grad=True)
    assert bp.autograd.gradcheck(lambda t: attention_softmax(t, 0.7, True), (x,))
    assert bp.autograd.gradgradcheck(lambda t: attention_softmax(t, 0.7, True), (x,))


def test_rejects_a_vector() -> None:
    with pytest.raises(bp.errors.ShapeError, match="attention_softmax: input must be"):
        attention_softmax(bp.ones(3), 1.0)


@pytest.mark.parametrize("causal", [True, False])
def test_sdpa_matches_pytorch_at_a_kernel_size(kernels: str, causal: bool) -> None:
    """W4's layout (heads split from (B, T, D) by reshape and transpose: non-contiguous q, k, v)
    at a size the kernels take, float32 against PyTorch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    b, t, h, e = 2, 24, 3, 8
    arrays = [rng.standard_normal((b, t, h * e)).astype(np.float32) for _ in range(3)]
    g = rng.standard_normal((b, h, t, e)).astype(np.float32)

    def run(lib: Any, make: Any) -> list[np.ndarray]:
        leaves = [make(a) for a in arrays]
        split = [z.reshape(b, t, h, e).transpose(1, 2) for z in leaves]
        out = lib.nn.functional.scaled_dot_product_attention(*split, is_causal=causal)
        out.backward(make(g))
        return [out.detach().numpy()] + [z.grad.detach().numpy() for z in leaves]

    ours = run(bp, lambda a: bp.tensor(a, requires_grad=True))
    theirs = run(torch, lambda a: torch.tensor(a, requires_grad=True))
    for a, c in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=2e-6)  # float32 sums in other orders


@pytest.mark.parametrize("causal", [True, False])
def test_onnx_export(causal: bool) -> None:
    """The fused op is written as ONNX's Mul, Where (the traced shape's mask) and Softmax."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import io

    class Attend(bp.nn.Module):
        def forward(self, q: bp.Tensor, k: bp.Tensor, v: bp.Tensor) -> bp.Tensor:
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    rng = np.random.default_rng(5)
    q, k, v = (bp.tensor(rng.standard_normal((2, 2, 6, 4)).astype(np.float32))
               for _ in range(3))
    buffer = io.BytesIO()
    proto = bp.onnx.export(Attend(), (q, k, v), buffer)
    assert "Softmax" in {n.op_type for n in proto.graph.node}
    onnx.checker.check_model(onnx.load_from_string(buffer.getvalue()))
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    (got,) = session.run(None, {n: t.numpy() for n, t in zip(names, (q, k, v))})
    want = F.scaled_dot_product_attention(q, k, v, is_causal=causal).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)  # float32, other sum orders


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_repeated_row_gradients_add_as_np_add_at_does(kernels: str, dtype: Any) -> None:
    """Embedding's (and integer indexing's) backward adds whole rows with Numba's
    ``index_combine`` in the lookups' order: bit for bit what ``np.add.at`` gives."""
    rng = np.random.default_rng(6)
    tokens = rng.integers(0, 9, (4, 30))  # many repeats
    table = rng.standard_normal((9, 16)).astype(dtype)
    g = rng.standard_normal((4, 30, 16)).astype(dtype)
    weight = bp.tensor(table, requires_grad=True)
    before = numba_indexing.calls["index_combine"]
    F.embedding(bp.tensor(tokens), weight).backward(bp.tensor(g))
    assert (numba_indexing.calls["index_combine"] > before) == (kernels == "numba")
    expected = np.zeros_like(table)
    np.add.at(expected, tokens.ravel(), g.reshape(-1, 16))
    np.testing.assert_array_equal(weight.grad.detach().numpy(), expected)
    rows = bp.tensor(table, requires_grad=True)
    rows[bp.tensor(tokens.ravel())].backward(bp.tensor(g.reshape(-1, 16)))
    np.testing.assert_array_equal(rows.grad.detach().numpy(), expected)

