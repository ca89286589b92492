"""The graph picture: DOT structure against the recorded graph, collapsing by module, gradient
norms against a separate backward, NaN/inf flags, and the files written."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F
from backprop import nn
from backprop.autograd.function import Function
from backprop.autograd.origin import record_origins
from backprop.diagnostics import _dot
from backprop.diagnostics.graph import AUTO_COLLAPSE_NODES, draw_graph, graph_to_dot

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")

_BOX = re.compile(r'^\s*([nlm]\d+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$', re.MULTILINE)
_ARROW = re.compile(r'^\s*([nlm]\d+) -> ([nlm]\d+)(?: \[(.*)\])?;$', re.MULTILINE)


def boxes(dot: str) -> dict[str, list[str]]:
    """DOT id -> label lines."""
    return {ident: label.split("\\n") for ident, label, _ in _BOX.findall(dot)}


def arrows(dot: str) -> list[tuple[str, str, str]]:
    return _ARROW.findall(dot)


def norm_on(attrs: str) -> float:
    return float(re.search(r"\|g\| ([^\\\"]+)", attrs).group(1))


def walk_next_functions(root) -> tuple[int, int]:
    """Nodes (leaves included) and gradient edges, counted through the public
    ``grad_fn.next_functions`` (not the code under test)."""
    seen, leaves, edges = {id(root)}, set(), 0
    stack = [root]
    while stack:
        fn = stack.pop()
        for child, _ in fn.next_functions:
            if child is None:
                continue
            edges += 1
            if type(child).__name__ == "AccumulateGrad":
                leaves.add(id(child.variable))
            elif id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen) + len(leaves), edges


def mlp() -> nn.Module:
    bp.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


# -- structure ------------------------------------------------------------------------------------

def test_known_small_graph() -> None:
    layer = nn.Linear(3, 4)
    x = bp.randn(2, 3, requires_grad=True)
    dot = graph_to_dot(F.relu(layer(x)).sum(), model=layer)
    labels = boxes(dot)
    by_first = {lines[0]: lines for lines in labels.values()}
    assert set(by_first) == {"SumBackward", "ReluBackward", "LinearBackward", "leaf", "weight",
                             "bias"}
    assert by_first["SumBackward"][1] == "() float32"
    assert by_first["LinearBackward"][1] == "(2, 4) float32"
    assert by_first["weight"][1] == "(4, 3) float32"
    assert by_first["bias"][1] == "(4,) float32"
    assert by_first["leaf"][1] == "(2, 3) float32"
    name_of = {ident: lines[0] for ident, lines in labels.items()}
    assert sorted((name_of[a], name_of[b]) for a, b, _ in arrows(dot)) == sorted([
        ("SumBackward", "ReluBackward"), ("ReluBackward", "LinearBackward"),
        ("LinearBackward", "leaf"), ("LinearBackward", "weight"), ("LinearBackward", "bias")])


def test_a_tensor_used_twice_gives_two_arrows() -> None:
    x = bp.randn(3, requires_grad=True)
    dot = graph_to_dot((x * x).sum())
    labels = boxes(dot)
    mul = next(i for i, lines in labels.items() if lines[0] == "MulBackward")
    leaf = next(i for i, lines in labels.items() if lines[0] == "leaf")
    assert [(a, b) for a, b, _ in arrows(dot)].count((mul, leaf)) == 2


def test_counts_equal_the_graphs() -> None:
    model = mlp()
    loss = F.cross_entropy(model(bp.randn(5, 3)), bp.tensor([0, 1, 0, 1, 1]))
    dot = graph_to_dot(loss, model=model, collapse=False)
    nodes, edges = walk_next_functions(loss.grad_fn)
    assert len(boxes(dot)) == nodes
    assert len(arrows(dot)) == edges
    names = {lines[0] for lines in boxes(dot).values()}
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= names


def test_origins_put_ops_in_module_clusters_with_source_lines() -> None:
    model = mlp()
    with record_origins():
        loss = model(bp.randn(5, 3)).sum()
    dot = graph_to_dot(loss, model=model, collapse=False)
    assert 'label="model.0";' in dot and 'label="model.2";' in dot
    linear = [lines for lines in boxes(dot).values() if lines[0] == "LinearBackward"]
    assert all(lines[2].startswith("test_diagnostics_graph.py:") for lines in linear)


class SplitHalves(Function):
    @staticmethod
    def forward(ctx, x):
        return x[:2] * 1.0, x[2:] * 1.0

    @staticmethod
    def backward(ctx, ga, gb):
        return bp.cat([ga, gb])


def test_custom_function_with_two_outputs() -> None:
    x = bp.randn(5, requires_grad=True)
    a, b = SplitHalves.apply(x)
    dot = graph_to_dot(a.sum() + (b * 2.0).sum(), grads=True)
    labels = [lines for lines in boxes(dot).values() if lines[0].startswith("SplitHalves")]
    shapes = sorted(lines[1] for lines in labels if "[output" in lines[0])
    assert shapes == ["(2,) float32", "(3,) float32"]


# -- collapsing -----------------------------------------------------------------------------------

class Block(nn.Module):
    """A post-norm Transformer encoder layer (bp.nn has no TransformerEncoderLayer)."""

    def __init__(self, d: int = 8) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, 2, batch_first=True)
        self.linear1 = nn.Linear(d, 16)
        self.linear2 = nn.Linear(16, d)
        self.norm1 = nn.LayerNorm(d)
        self.norm2 = nn.LayerNorm(d)

    def forward(self, x: bp.Tensor) -> bp.Tensor:
        x = self.norm1(x + self.self_attn(x, x, x, need_weights=False)[0])
        return self.norm2(x + self.linear2(F.relu(self.linear1(x))))


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(Block(), Block())
        self.head = nn.Linear(8, 3)

    def forward(self, x: bp.Tensor) -> bp.Tensor:
        return self.head(self.layers(x).mean(dim=1))


def transformer_loss() -> tuple[nn.Module, bp.Tensor]:
    bp.manual_seed(0)
    model = Encoder()
    with record_origins():
        loss = F.cross_entropy(model(bp.randn(2, 4, 8)), bp.tensor([0, 2]))
    return model, loss


def module_boxes(dot: str) -> list[str]:
    return [lines[0] for ident, lines in boxes(dot).items() if ident.startswith("m")]


def test_auto_collapses_a_transformer_into_one_box_per_module() -> None:
    model, loss = transformer_loss()
    assert walk_next_functions(loss.grad_fn)[0] > AUTO_COLLAPSE_NODES
    dot = graph_to_dot(loss, model=model)
    sublayers = ("self_attn", "linear1", "linear2", "norm1", "norm2")
    expected = {f"model.layers.{i}.{name}" for i in range(2) for name in sublayers}
    assert sorted(module_boxes(dot)) == sorted(expected | {"model.head"})
    for path in ("model", "model.layers", "model.layers.0", "model.layers.1"):
        assert dot.count(f'label="{path}";') == 1  # one cluster each
    assert len(boxes(dot)) <= AUTO_COLLAPSE_NODES
    assert all(a != b for a, b, _ in arrows(dot))  # arrows inside a module are not drawn
    attn = next(lines for lines in boxes(dot).values() if lines[0] == "model.layers.0.self_attn")
    assert any("MatmulBackward" in line for line in attn)
    assert any("in_proj_weight" in line for line in attn)


def test_collapse_depth_and_switches() -> None:
    model, loss = transformer_loss()
    assert sorted(module_boxes(graph_to_dot(loss, model=model, depth=2))) == [
        "model.head", "model.layers"]
    full = graph_to_dot(loss, model=model, collapse=False)
    assert module_boxes(full) == []
    assert len(boxes(full)) == walk_next_functions(loss.grad_fn)[0]


def test_collapse_needs_origins() -> None:
    model = mlp()
    loss = model(bp.randn(2, 3)).sum()
    with pytest.raises(ValueError, match="record_origins"):
        graph_to_dot(loss, collapse=True)
    y = bp.ones(2, requires_grad=True)
    for _ in range(AUTO_COLLAPSE_NODES):
        y = y * 1.5
    with pytest.warns(UserWarning, match="record_origins"):
        dot = graph_to_dot(y.sum())
    assert len(boxes(dot)) == AUTO_COLLAPSE_NODES + 2


# -- gradients ------------------------------------------------------------------------------------

def test_gradient_norms_equal_a_separate_backward() -> None:
    model = mlp()
    x = bp.randn(5, 3)
    hidden = model[1](model[0](x))
    loss = (model[2](hidden) ** 2).sum()
    dot = graph_to_dot(loss, model=model, grads=True)
    assert all(p.grad is None for p in model.parameters())  # no .grad touched
    (g_hidden,) = bp.autograd.grad(loss, hidden, retain_graph=True)
    loss.backward()  # the graph was kept: this still works
    labels = boxes(dot)
    to_name = {ident: lines[0] for ident, lines in labels.items()}
    found = {}
    for tail, head, attrs in arrows(dot):
        found.setdefault((to_name[tail], to_name[head]), []).append(norm_on(attrs))
    for name, p in model.named_parameters():
        expected = float(np.linalg.norm(p.grad.numpy()))
        assert found[("LinearBackward", name)][0] == pytest.approx(expected, rel=1e-3)
    # The gradient reaching the second linear layer's input is d(loss)/d(hidden).
    (into_relu,) = found[("LinearBackward", "ReluBackward")]
    assert into_relu == pytest.approx(float(np.linalg.norm(g_hidden.numpy())), rel=1e-3)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning",
                            "ignore:invalid value:RuntimeWarning")
def test_nan_and_inf_are_flagged() -> None:
    # The masked-where trap: log(0) is not selected, yet 0 * (1 / 0) is NaN in backward.
    x = bp.tensor([0.0, 2.0], requires_grad=True)
    loss = bp.where(x > 0, x.log(), bp.zeros(2)).sum()
    dot = graph_to_dot(loss, grads=True)
    flagged = [attrs for _, _, attrs in arrows(dot) if "NaN" in attrs]
    assert len(flagged) == 1 and "NaN x1" in flagged[0] and 'color="red"' in flagged[0]
    assert math.isnan(norm_on(flagged[0]))
    y = bp.tensor([0.0, 4.0], requires_grad=True)
    dot = graph_to_dot(y.sqrt().sum(), grads=True)  # d sqrt(y) / dy at 0 is inf
    (attrs,) = [attrs for _, _, attrs in arrows(dot) if "inf x1" in attrs]
    assert 'color="red"' in attrs
    clean = graph_to_dot(mlp()(bp.randn(2, 3)).sum(), grads=True)
    assert "red" not in clean and "NaN" not in clean


def test_grads_after_backward_draw_the_graph_without_gradients_and_say_why() -> None:
    x = bp.randn(3, requires_grad=True)
    loss = x.exp().sum()
    loss.backward()
    with pytest.warns(UserWarning, match=r"before loss\.backward\(\).*retain_graph=True") as seen:
        dot = graph_to_dot(loss, grads=True)
    assert seen[0].filename == __file__  # the warning names the caller's line
    assert "ExpBackward" in dot and "|g|" not in dot  # the structure, no gradients


def test_grads_after_backward_with_retain_graph() -> None:
    x = bp.randn(3, requires_grad=True)
    loss = x.exp().sum()
    loss.backward(retain_graph=True)
    (attrs,) = [attrs for _, to, attrs in arrows(graph_to_dot(loss, grads=True)) if to == "l0"]
    expected = float(np.linalg.norm(np.exp(x.detach().numpy())))
    assert norm_on(attrs) == pytest.approx(expected, rel=1e-3)  # labels show 4 digits


# -- labels and files -----------------------------------------------------------------------------

def test_labels_are_escaped() -> None:
    model = mlp()
    with record_origins(name='my "net"\\'):
        loss = model(bp.randn(2, 3)).sum()
    dot = graph_to_dot(loss, collapse=False)
    assert 'label="my \\"net\\"\\\\.0";' in dot
    assert _dot.quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'


@needs_dot
def test_escaped_labels_render(tmp_path) -> None:
    model = mlp()
    with record_origins(name='my "net"\\ {x} <y>'):
        loss = model(bp.randn(2, 3)).sum()
    out = draw_graph(loss, tmp_path / "odd.svg", collapse=False)
    assert "my &quot;net&quot;\\ {x} &lt;y&gt;" in out.read_text()


@needs_dot
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG")])
def test_picture_written_when_dot_exists(tmp_path, suffix: str, magic: bytes) -> None:
    model = mlp()
    loss = model(bp.randn(2, 3)).sum()
    out = draw_graph(loss, tmp_path / f"graph{suffix}", model=model, grads=True)
    assert out == tmp_path / f"graph{suffix}"
    assert out.read_bytes().startswith(magic)
    assert "LinearBackward" in (tmp_path / "graph.dot").read_text()
    assert sorted(os.listdir(tmp_path)) == sorted(["graph.dot", f"graph{suffix}"])  # no temps


def test_dot_only(tmp_path) -> None:
    x = bp.randn(3, requires_grad=True)
    out = draw_graph(x.exp().sum(), tmp_path / "g.gv")
    assert out.read_text().startswith("digraph backward {")
    assert os.listdir(tmp_path) == ["g.gv"]


def test_without_graphviz_the_dot_file_is_returned_with_a_warning(tmp_path, monkeypatch) -> None:
    no_tools = tmp_path / "bin"
    no_tools.mkdir()
    monkeypatch.setenv("PATH", str(no_tools))  # Graphviz is not on PATH
    out = tmp_path / "out"
    out.mkdir()
    x = bp.randn(3, requires_grad=True)
    with pytest.warns(UserWarning, match=r"g\.png not written.*Graphviz.*dot -Tpng g\.dot "
                      r"-o g\.png") as seen:
        written = draw_graph(x.exp().sum(), out / "g.png")
    assert seen[0].filename == __file__
    assert written == out / "g.dot"
    assert written.read_text().startswith("digraph backward {")
    assert os.listdir(out) == ["g.dot"]


def test_failed_render_leaves_no_temporary_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(_dot.shutil, "which", lambda name: "/usr/bin/dot")

    def failing_dot(command, **kwargs):
        with open(command[command.index("-o") + 1], "w") as half:
            half.write("<svg")  # a partial picture, as a crash would leave
        return subprocess.CompletedProcess(command, 1, "", "syntax error in line 1")

    monkeypatch.setattr(_dot.subprocess, "run", failing_dot)
    x = bp.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="syntax error in line 1"):
        draw_graph(x.exp().sum(), tmp_path / "g.svg")
    assert os.listdir(tmp_path) == ["g.dot"]


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch) -> None:
    target = tmp_path / "g.dot"
    target.write_text("old")

    def no_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(_dot.os, "replace", no_replace)
    x = bp.randn(3, requires_grad=True)
    with pytest.raises(OSError, match="disk full"):
        draw_graph(x.exp().sum(), target)
    assert os.listdir(tmp_path) == ["g.dot"]
    assert target.read_text() == "old"


def test_bad_arguments_are_named(tmp_path) -> None:
    loss = bp.randn(3, requires_grad=True).exp().sum()
    with pytest.raises(ValueError, match="draw_graph.*'g.txt'"):
        draw_graph(loss, tmp_path / "g.txt")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        draw_graph(loss, tmp_path / "missing" / "g.dot")
    with pytest.raises(ValueError, match="collapse"):
        graph_to_dot(loss, collapse="yes")
    with pytest.raises(ValueError, match="depth"):
        graph_to_dot(loss, depth=0)
    with pytest.raises(TypeError, match="draw_graph"):
        graph_to_dot("loss")
    with pytest.raises(TypeError, match="named_parameters"):
        graph_to_dot(loss, model=object())
