"""autocast against PyTorch's: every op-table row's output dtypes under autocast on float32
inputs, values of the lower-precision ops, the float32 list on bfloat16 inputs, nesting,
no_grad, backward, the cast cache, custom_fwd/custom_bwd, and zero cost outside a block."""

import warnings

import numpy as np
import pytest
from optable import ROWS

import backprop as bp
import backprop.nn.functional as F
from backprop.amp import autocast_policy
from backprop.autograd import observers

pytest.importorskip("ml_dtypes")
torch = pytest.importorskip("torch")

# Rows whose output dtypes differ from PyTorch's under autocast, and why. Our composite ops
# run a lower-precision primitive where PyTorch runs one fp32 kernel.
KNOWN_DIFFERENCES = {
    # PyTorch's adaptive_avg_pool3d is on its fp32 list; ours averages with a matmul
    "adaptive_avg_pool3d": "ours is a matmul (lower precision) where PyTorch runs fp32",
    # lstsq is fp32 in PyTorch; ours is pinv (fp32) followed by a matmul
    "linalg.lstsq": "ours ends with a matmul (lower precision) where PyTorch runs fp32",
    # PyTorch's dot, mv, inner, vdot and addr are not on its list (float32); ours are the
    # matmul and add_product primitives that matmul/addmm (on the list) also are
    "dot": "the matmul primitive", "mv": "the matmul primitive",
    "inner": "the matmul primitive", "vdot": "the matmul primitive",
    "addr": "add_product on two (n, 1) x (1, m) matrices, as addmm",
    # linalg.vecdot is on PyTorch's list; ours is mul + sum, which autocast leaves alone
    "linalg.vecdot": "a composite of mul and sum",
    # Our attention projects with matmul + add (bias): the float32 bias promotes the
    # bfloat16 product back to float32; PyTorch's linear adds it in bfloat16
    "multi_head_attention": "matmul + float32 bias add", "multi_head_attention_forward":
    "matmul + float32 bias add",
    # Ours multiplies theta by a NumPy base grid, which stays float32 (NumPy operands are not
    # cast); PyTorch's base grid is a tensor and its bmm runs in bfloat16
    "affine_grid": "NumPy base grid", "__rmatmul__": "array @ tensor: NumPy operands stay float32",
    # The rows' PyTorch spellings wrap the op: ldl_solve's multiplies by b (a matmul, so
    # bfloat16), pinv's (linalg.pinv) is composite in PyTorch and ends in a matmul
    "linalg.ldl_solve": "the row's spelling ends in a matmul",
    "linalg.pinv": "PyTorch's linalg.pinv is composite, ending in a matmul",
}

# Rows that are one lower-precision op: their values are checked too.
LOWER_VALUE_ROWS = {"matmul", "mm", "bmm", "linear", "conv1d", "conv2d", "conv3d",
                    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "addmm",
                    "baddbmm", "addbmm", "einsum", "prelu", "tensordot", "chain_matmul",
                    "linalg.multi_dot"}

CASES = [(row, sample) for row in ROWS if row.torch is not None
         for sample in row.samples(np.random.default_rng(0))[:1]
         if row.name not in KNOWN_DIFFERENCES and not set(row.aliases) & set(KNOWN_DIFFERENCES)]


def _ours(sample):
    return [bp.tensor(a.astype(np.float32)) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
            else bp.tensor(a) if isinstance(a, np.ndarray) else a for a in sample.args]


def _theirs(sample):
    return [torch.tensor(a.astype(np.float32)) if isinstance(a, np.ndarray)
            and a.dtype.kind == "f" else torch.tensor(a) if isinstance(a, np.ndarray) else a
            for a in sample.args]


def _outputs(result):
    values = list(result) if isinstance(result, (tuple, list)) else [result]
    return [v for v in values if hasattr(v, "dtype") and hasattr(v, "shape")]


def _dtype_name(dtype):
    return str(dtype).removeprefix("torch.")


@pytest.mark.parametrize("row, sample", CASES, ids=[r.name for r, _ in CASES])
def test_output_dtypes_match_pytorch_under_autocast(row, sample):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                theirs = _outputs(row.torch(torch, *_theirs(sample), **sample.kwargs))
        except (RuntimeError, TypeError, ValueError, NotImplementedError):
            theirs = None  # PyTorch has no kernel for what its autocast casts to here
        bp.manual_seed(0)
        with bp.autocast("cpu"):
            ours = _outputs(row.op(*_ours(sample), **sample.kwargs))
    if theirs is None:
        assert ours, f"{row.name} returned no tensor under autocast"
        return
    assert [_dtype_name(o.dtype) for o in ours] == [_dtype_name(t.dtype) for t in theirs]
    for o, t in zip(ours, theirs):
        if _dtype_name(t.dtype) == "bfloat16" and row.name in LOWER_VALUE_ROWS:
            # the same float32 inputs rounded to bfloat16 and multiplied: PyTorch's CPU GEMMs
            # accumulate in float32 in another order, so allow one bfloat16 step (2**-8
            # relative) on top of float32 rounding
            np.testing.assert_allclose(o.detach().float().numpy(),
                                       t.detach().float().numpy(), rtol=2 ** -7, atol=1e-2)


def _linear_inputs():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    w = rng.standard_normal((3, 6)).astype(np.float32)
    return x, w


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_linear_under_autocast_equals_pytorch_bit_for_bit(dtype):
    x, w = _linear_inputs()
    with torch.autocast("cpu", dtype=getattr(torch, dtype)):
        theirs = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w))
    with bp.autocast("cpu", dtype=getattr(bp, dtype)):
        ours = F.linear(bp.tensor(x), bp.tensor(w))
    assert str(ours.dtype) == dtype
    np.testing.assert_array_equal(ours.float().numpy(), theirs.float().numpy())


@pytest.mark.parametrize("name, call", [
    ("cross_entropy", lambda m, x, t: m.cross_entropy(x, t)),
    ("nll_loss", lambda m, x, t: m.nll_loss(x, t)),
    ("mse_loss", lambda m, x, t: m.mse_loss(x, x * 0.5)),
    ("binary_cross_entropy_with_logits",
     lambda m, x, t: m.binary_cross_entropy_with_logits(x, x.sigmoid())),
])
def test_float32_list_casts_bfloat16_inputs_up(name, call):
    values = np.random.default_rng(4).standard_normal((5, 3)).astype(np.float32)
    target = np.array([0, 2, 1, 1, 0])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        theirs = call(torch.nn.functional, torch.tensor(values).bfloat16(), torch.tensor(target))
    with bp.autocast("cpu"):
        ours = call(F, bp.tensor(values).bfloat16(), bp.tensor(target))
    assert theirs.dtype == torch.float32 and ours.dtype == bp.float32
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6)


def test_loss_modules_on_the_float32_list_cast_at_the_module_call():
    x = bp.randn(4, 3).bfloat16()
    with bp.autocast("cpu"):
        assert bp.nn.L1Loss()(x, x * 0.5).dtype == bp.float32
        assert F.l1_loss(x, x * 0.5).dtype == bp.bfloat16  # a composite: see autocast_policy


def test_nesting_enabled_false_and_dtype_restore():
    a = bp.randn(2, 2)
    with bp.autocast("cpu"):
        assert (a @ a).dtype == bp.bfloat16
        with bp.autocast("cpu", enabled=False):
            assert (a @ a).dtype == bp.float32 and not bp.is_autocast_enabled("cpu")
            with bp.autocast("cpu", dtype=bp.float16):
                assert (a @ a).dtype == bp.float16
            assert (a @ a).dtype == bp.float32
        assert (a @ a).dtype == bp.bfloat16 and bp.get_autocast_dtype("cpu") == bp.bfloat16
    assert (a @ a).dtype == bp.float32 and not bp.is_autocast_enabled("cpu")


def test_cuda_autocast_leaves_cpu_tensors_alone():
    a = bp.randn(2, 2)
    with bp.autocast("cuda"):
        assert bp.is_autocast_enabled() and not bp.is_autocast_enabled("cpu")
        assert (a @ a).dtype == bp.float32


def test_no_grad_and_backward_give_float32_gradients_like_pytorch():
    x, w = _linear_inputs()
    tw = torch.tensor(w, requires_grad=True)
    ow = bp.tensor(w, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        tl = torch.nn.functional.linear(torch.tensor(x), tw).float().pow(2).sum()
    with bp.autocast("cpu"):
        ol = F.linear(bp.tensor(x), ow).float().pow(2).sum()
        with bp.no_grad():
            assert F.linear(bp.tensor(x), ow).dtype == bp.bfloat16
    tl.backward()
    ol.backward()
    assert ow.grad.dtype == bp.float32
    # the gradient of a bfloat16 matmul is a bfloat16 matmul, cast back to float32
    np.testing.assert_allclose(ow.grad.numpy(), tw.grad.numpy(), rtol=2 ** -7, atol=1e-2)


def test_parameter_casts_are_reused_within_a_block_and_dropped_after():
    w = bp.randn(3, 3, requires_grad=True)
    x = bp.randn(2, 3)
    with bp.autocast("cpu"):
        first, second = F.linear(x, w), F.linear(x, w)
        assert first.grad_fn.next_functions[1][0] is second.grad_fn.next_functions[1][0]
    with bp.autocast("cpu", cache_enabled=False):
        first, second = F.linear(x, w), F.linear(x, w)
        assert first.grad_fn.next_functions[1][0] is not second.grad_fn.next_functions[1][0]


def test_float64_is_left_alone_like_pytorch():
    a = bp.randn(2, 2, dtype=bp.float64)
    with bp.autocast("cpu"):
        assert (a @ a).dtype == bp.float64


def test_unsupported_dtype_warns_and_disables_like_pytorch():
    with pytest.warns(UserWarning, match="Disabling autocast"):
        block = bp.autocast("cpu", dtype=bp.float32)
    with block:
        assert not bp.is_autocast_enabled("cpu")
    with pytest.raises(ValueError, match="device_type must be 'cpu' or 'cuda'"):
        bp.autocast("tpu")


def test_decorator_form():
    @bp.autocast("cpu")
    def product(a):
        return a @ a

    assert product(bp.randn(2, 2)).dtype == bp.bfloat16


def test_no_observer_outside_autocast():
    before = observers.REGISTRY.count
    with bp.autocast("cpu"), bp.autocast("cpu"):
        assert observers.REGISTRY.count == before + 1  # one registration, however nested
    assert observers.REGISTRY.count == before


def test_policy_names_are_primitives():
    from backprop.ops import PRIMITIVES

    assert set(autocast_policy.POLICY) <= set(PRIMITIVES)


_BACKWARD_DTYPES = []


class _Scale(bp.autograd.Function):
    @staticmethod
    @bp.amp.custom_fwd(device_type="cpu")
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x @ w

    @staticmethod
    @bp.amp.custom_bwd(device_type="cpu")
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        _BACKWARD_DTYPES.append((g.float() @ w.T).dtype)  # autocast on again: bfloat16
        return g @ w.T, x.T @ g


def test_custom_fwd_and_bwd_keep_the_forward_autocast_state():
    x = bp.randn(2, 3, requires_grad=True)
    w = bp.randn(3, 2, requires_grad=True)
    with bp.autocast("cpu"):
        y = _Scale.apply(x, w)
    assert y.dtype == bp.bfloat16
    y.float().sum().backward()
    assert x.grad.dtype == bp.float32 and w.grad.dtype == bp.float32
    assert _BACKWARD_DTYPES[-1] == bp.bfloat16


def test_custom_fwd_cast_inputs_runs_forward_without_autocast():
    x = bp.randn(2, 3, dtype=bp.float32).bfloat16()
    w = bp.randn(3, 2)

    class Cast(bp.autograd.Function):
        @staticmethod
        @bp.amp.custom_fwd(device_type="cpu", cast_inputs=bp.float32)
        def forward(ctx, a, b):
            return a @ b

        @staticmethod
        @bp.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            return None, None

    with bp.autocast("cpu"):
        assert Cast.apply(x, w).dtype == bp.float32
