"""The saved-for-backward ledger against arrays counted by hand from what each op saves.

Sizes below are worked out from the ops' declarations (``save=``, ``save_out=`` and the
constants they keep): float32 is 4 bytes an element, int64 8.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F
from backprop import nn
from backprop.autograd.function import Function
from backprop.autograd.origin import record_origins
from backprop.diagnostics.memory import MemoryReport, memory_report


def mlp() -> nn.Module:
    bp.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))


def mlp_loss(model: nn.Module) -> bp.Tensor:
    return F.cross_entropy(model(bp.randn(6, 5)), bp.tensor([0, 1, 2, 0, 1, 2]))


def test_mlp_cross_entropy_matches_hand_count() -> None:
    model = mlp()
    report = memory_report(mlp_loss(model), model)
    # linear 1 saves x (6, 5) and its weight (7, 5): leaves, alive anyway.
    # relu saves its output (6, 7); linear 2 saves that same array (counted once) and its
    # weight (3, 7). cross_entropy saves its input (6, 3) and keeps, in its target plan, the
    # softmax (6, 3) and the flat target positions (6,) int64.
    leaves = 6 * 5 * 4 + 7 * 5 * 4 + 3 * 7 * 4
    activations = 6 * 7 * 4 + 6 * 3 * 4 + 6 * 3 * 4 + 6 * 8
    assert report.leaf_bytes == leaves
    assert report.activation_bytes == activations
    assert report.total_bytes == leaves + activations
    # The relu output is credited to the first node met walking back from the loss: linear 2.
    assert report.by_op["LinearBackward"].activation_bytes == 6 * 7 * 4
    assert report.by_op["ReluBackward"].bytes == 0
    assert report.by_op["CrossEntropyBackward"].activation_bytes == 6 * 3 * 4 * 2 + 6 * 8
    assert sum(u.bytes for u in report.by_op.values()) == report.total_bytes
    assert sum(u.bytes for u in report.by_module.values()) == report.total_bytes


def batch_norm_dropout_square() -> tuple[nn.Module, bp.Tensor]:
    bp.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5))
    h = model(bp.randn(5, 4))
    return model, (h * h).sum()


def test_batch_norm_dropout_and_a_tensor_saved_twice() -> None:
    model, loss = batch_norm_dropout_square()
    report = memory_report(loss, model)
    # linear: x (5, 4) and weight (8, 4), leaves. batch_norm: its input (5, 8), the weight
    # reshaped to (8,) (a view of a parameter: leaf) and mean, var, rstd, each (1, 8).
    # dropout: its mask (5, 8). h * h: h (5, 8) saved as both inputs, counted once.
    assert report.leaf_bytes == 5 * 4 * 4 + 8 * 4 * 4 + 8 * 4
    assert report.activation_bytes == 5 * 8 * 4 + 3 * 8 * 4 + 5 * 8 * 4 + 5 * 8 * 4
    mul = [h for h in report.holders if h.op == "MulBackward"]
    assert sorted(h.bytes for h in mul) == [0, 5 * 8 * 4]
    assert all(h.nbytes == 5 * 8 * 4 for h in mul)
    moments = {h.what for h in report.holders if h.op == "BatchNormBackward" and not h.leaf}
    assert {"input 5 _Moments.mean", "input 5 _Moments.rstd", "input 5 _Moments.var"} <= moments
    assert report.by_op["DropoutBackward"].activation_bytes == 5 * 8 * 4


def test_views_of_one_array_are_counted_by_the_bytes_they_span() -> None:
    x = bp.randn(4, 6, requires_grad=True)
    y = x.exp()  # exp keeps its output (4, 6)
    row = y[1]  # a view into y
    loss = (row * row).sum() + (y.T * 2.0).sum()  # mul saves row twice, and the transposed y
    report = memory_report(loss)
    assert report.activation_bytes == 4 * 6 * 4
    assert report.leaf_bytes == 0  # x itself is not saved by any op here
    partial = bp.randn(4, 6, requires_grad=True) + 1.0  # add saves nothing
    # Two disjoint rows of one array: both counted, the rest of it not.
    report = memory_report((partial[0] * partial[0]).sum() + (partial[2] * partial[2]).sum())
    assert report.activation_bytes == 2 * 6 * 4


def test_leaf_parameters_are_told_apart_from_activations() -> None:
    model = mlp()
    report = memory_report(mlp_loss(model), model)
    weights = {(h.shape, h.leaf) for h in report.holders if h.op == "LinearBackward"}
    assert ((7, 5), True) in weights and ((3, 7), True) in weights
    assert ((6, 7), False) in weights


@pytest.mark.parametrize("make_loss", [
    lambda m, x: (m(x) ** 2).mean(),
    lambda m, x: F.mse_loss(m(x), bp.zeros(6, 3)),
    lambda m, x: m(x).tanh().sum(),
], ids=["pow", "mse_loss", "tanh"])
def test_backward_frees_everything(make_loss) -> None:
    model = mlp()
    loss = make_loss(model, bp.randn(6, 5))
    assert memory_report(loss, model).activation_bytes > 0
    loss.backward()
    after = memory_report(loss, model)
    assert after.activation_bytes == 0
    assert after.total_bytes == 0
    assert 0 < after.freed_nodes <= after.nodes


def test_a_freed_graph_is_reported_as_freed_with_what_to_do() -> None:
    model = mlp()
    loss = mlp_loss(model)
    loss.backward()
    text = str(memory_report(loss, model))
    assert "4 of 4 nodes were freed by backward()" in text
    assert "before loss.backward()" in text and "retain_graph=True" in text
    assert "by op" not in text  # no empty tables


def test_retain_graph_keeps_what_the_report_counts() -> None:
    model = mlp()
    loss = mlp_loss(model)
    before = memory_report(loss, model)
    loss.backward(retain_graph=True)
    after = memory_report(loss, model)
    assert after.freed_nodes == 0 and "freed" not in str(after)
    assert after.total_bytes == before.total_bytes > 0


# These ops keep arrays in constants (a mask, pooling indices, a softmax holder, norm moments):
# backward must release them too, not only saved tensors.
@pytest.mark.parametrize("case", ["cross_entropy", "dropout", "batch_norm", "max_pool"])
def test_backward_frees_constants_too(case: str) -> None:
    bp.manual_seed(2)
    x = bp.randn(4, 3, 6, 6, requires_grad=True)
    if case == "cross_entropy":
        loss = F.cross_entropy(x.reshape(4, -1), bp.tensor([0, 1, 2, 3]))
    elif case == "dropout":
        loss = F.dropout(x, 0.5).sum()
    elif case == "batch_norm":
        loss = F.batch_norm(x, None, None, training=True).sum()
    else:
        loss = F.max_pool2d(x, 2).sum()
    loss.backward()
    assert memory_report(loss).activation_bytes == 0


def test_modules_from_recorded_origins() -> None:
    model = mlp()
    with record_origins():
        loss = mlp_loss(model)
    report = memory_report(loss)
    assert report.by_module["model.0"].leaf_bytes == 6 * 5 * 4 + 7 * 5 * 4
    assert report.by_module["model.2"].bytes == 6 * 7 * 4 + 3 * 7 * 4
    assert report.by_module["(top level)"].bytes == 6 * 3 * 4 * 2 + 6 * 8


def test_modules_from_parameters_without_recorded_origins() -> None:
    model = mlp()
    loss = mlp_loss(model)
    report = memory_report(loss, model)
    assert set(report.by_module) == {"model.0", "model.2", "(unknown)"}
    assert report.by_module["(unknown)"].bytes == 6 * 3 * 4 * 2 + 6 * 8  # cross_entropy
    assert set(memory_report(loss).by_module) == {"(unknown)"}


class ScaledSquare(Function):
    @staticmethod
    def forward(ctx, x, scale):
        out = x * x * scale
        ctx.save_for_backward(x, out)
        ctx.factor = np.full(3, 2.0, dtype=np.float32)  # kept by the node too
        return out

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return g * 2.0 * x, None


def test_custom_function_saved_tensors() -> None:
    x = bp.randn(2, 3, requires_grad=True)
    loss = ScaledSquare.apply(x, 3.0).sum()
    report = memory_report(loss)
    kept = {h.what: h for h in report.holders if h.op == "ScaledSquareBackward"}
    assert kept["input 2"].leaf and kept["input 2"].bytes == 2 * 3 * 4  # x
    assert not kept["input 3"].leaf and kept["input 3"].bytes == 2 * 3 * 4  # the output
    assert kept["ctx.factor"].bytes == 3 * 4
    loss.backward()
    assert memory_report(loss).total_bytes == 3 * 4  # only the ctx attribute remains


def test_a_graph_deeper_than_the_recursion_limit() -> None:
    x = bp.ones(2, requires_grad=True)
    y = x
    n = sys.getrecursionlimit() + 500
    for _ in range(n):
        y = y.tanh()  # tanh keeps its output
    report = memory_report(y.sum())
    assert report.nodes == n + 1
    assert report.activation_bytes == n * 2 * 4


def test_text_table_and_largest() -> None:
    model = mlp()
    report = memory_report(mlp_loss(model), model, top=3)
    assert isinstance(report, MemoryReport)
    assert len(report.largest) == 3
    assert [h.bytes for h in report.largest] == sorted((h.bytes for h in report.holders),
                                                       reverse=True)[:3]
    text = str(report)
    assert "LinearBackward" in text and "CrossEntropyBackward" in text
    assert "by op" in text and "by module" in text and "largest holders" in text
    assert "(6, 7)" in text  # the relu output, the largest activation


def test_bad_input_is_named() -> None:
    with pytest.raises(TypeError, match="memory_report"):
        memory_report(np.ones(3))
    with pytest.raises(ValueError, match="requires_grad"):
        memory_report(bp.ones(3).sum())
    with pytest.raises(ValueError, match="top"):
        memory_report(bp.ones(3, requires_grad=True).sum(), top=-1)


@pytest.mark.parametrize("ranges, expected", [
    ([(0, 10), (5, 15), (20, 30), (0, 40)], [10, 5, 10, 15]),
    ([(0, 10), (10, 20), (0, 20)], [10, 10, 0]),  # touching ranges do not overlap
    ([(30, 40), (0, 10), (5, 35)], [10, 10, 20]),  # credit follows the given order
    ([(0, 100)] + [(i, i + 1) for i in range(0, 100, 2)], [100] + [0] * 50),
    ([(i, i + 1) for i in range(0, 100, 2)] + [(0, 100)], [1] * 50 + [50]),
])
def test_each_byte_is_counted_once(ranges, expected) -> None:
    from backprop.diagnostics.memory import _count_once

    assert _count_once(ranges) == expected
