"""The Tensor is readable: every method and operator is written in a class body (``Tensor`` or the
``TensorMethods``, ``FamilyMethods`` and ``InPlaceMethods`` mixins), nothing is attached at
import, and a type checker sees the signatures."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import pydoc
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import backprop as bp
from backprop.tensor_inplace import InPlaceMethods
from backprop.tensor_methods import TensorMethods
from backprop.tensor_methods_families import FamilyMethods

SOURCE_CLASSES = (bp.Tensor, TensorMethods, FamilyMethods, InPlaceMethods)

# The operators a PyTorch tensor supports that ours does too; each must be written in source.
OPERATORS = (
    "__add__", "__radd__", "__iadd__", "__sub__", "__rsub__", "__isub__", "__mul__", "__rmul__",
    "__imul__", "__truediv__", "__rtruediv__", "__itruediv__", "__floordiv__", "__rfloordiv__",
    "__mod__", "__rmod__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__neg__",
    "__pos__", "__abs__", "__invert__", "__and__", "__rand__", "__or__", "__ror__", "__xor__",
    "__rxor__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__getitem__",
    "__setitem__", "__len__", "__iter__", "__bool__", "__float__", "__int__", "__index__",
    "__hash__", "__repr__", "__format__", "__array__",
)

# What Python itself puts in a class's namespace (copyreg caches __slotnames__ on the first copy).
IMPLICIT = {"__module__", "__qualname__", "__doc__", "__annotations__", "__firstlineno__",
            "__static_attributes__", "__slotnames__"}


def body_names(cls: type) -> dict[str, str]:
    """The names the class body binds, each with how: ``def`` or ``=`` (including __slots__)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    names: dict[str, str] = {}
    for stmt in tree.body[0].body:
        if isinstance(stmt, ast.FunctionDef):
            names[stmt.name] = "def"
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names.update((t.id, "=") for t in targets if isinstance(t, ast.Name))
    names.update(dict.fromkeys(cls.__dict__.get("__slots__", ()), "="))
    return names


@pytest.mark.parametrize("cls", SOURCE_CLASSES, ids=lambda c: c.__name__)
def test_nothing_is_attached_at_import(cls: type) -> None:
    written = body_names(cls)
    attached = set(vars(cls)) - IMPLICIT - set(written)
    assert not attached, f"{cls.__name__} has attributes its class body does not define: {attached}"
    for name, how in written.items():
        if how != "def":
            continue
        value = vars(cls)[name]
        function = value.fget if isinstance(value, property) else value
        # A def in the body that something replaced later would carry another qualname.
        assert function.__qualname__ == f"{cls.__qualname__}.{name}", (
            f"{cls.__name__}.{name} is {function.__qualname__}, not the one in its class body")


def test_every_public_method_and_operator_is_written_in_source() -> None:
    public = [n for n in dir(bp.Tensor) if not n.startswith("_")]
    assert {"softmax", "sum", "reshape", "backward", "grad", "T", "mT", "item", "to"} <= set(public)
    for name in public + list(OPERATORS):
        owner = next((c for c in bp.Tensor.__mro__ if name in vars(c)), None)
        assert owner in SOURCE_CLASSES, f"Tensor.{name} comes from {owner}, not from source"
    assert bp.Tensor.__mro__ == (bp.Tensor, TensorMethods, FamilyMethods, InPlaceMethods, object)


def test_help_shows_real_signatures() -> None:
    text = pydoc.render_doc(bp.Tensor, renderer=pydoc.plaintext)
    assert "softmax(self, dim" in text
    assert "sum(self, dim" in text and "keepdim" in text
    assert "__add__ = add(self, other" in text and "__radd__(self, other" in text


# A user's script: creation, arithmetic, matmul, reductions with dim/keepdim, reshape/view/permute,
# indexing, comparisons, backward, .grad, .item(), .to(). It must type-check and run.
USER_SCRIPT = """\
import backprop as bp

x = bp.randn(4, 3, requires_grad=True)
w = bp.ones(3, 2, requires_grad=True)
logits = (x @ w + 1.0) * 2 - x.sum(dim=1, keepdim=True) / 3
probs = logits.softmax(dim=-1)
flat = probs.reshape(-1).view(2, 4).permute(1, 0)
first: bp.Tensor = flat[0, 1:]
mask = (probs > 0.5) | (probs <= 0.1)
loss = (probs.log() * mask.float()).mean() + first.pow(2).sum() + logits.max(dim=1).values.sum()
loss.backward()
assert x.grad is not None and w.grad is not None
step: float = x.grad.abs().max().item()
x64 = x.detach().to(bp.float64)
n: int = x64.dim() + len(x64.shape) + x64.size(0)
flag: bool = bool((x64 == x64).all()) and x.requires_grad and x64.is_floating_point()
print(step, n, flag, x64.dtype)
"""

# Mistakes mypy must catch: proof that it reads the methods' names, parameters and return types.
MISUSE_SCRIPT = """\
import backprop as bp

x = bp.randn(4, 3)
x.sofmax(dim=0)
x.sum(dim=0, keepdim="yes")
s: str = x.reshape(12)
"""
EXPECTED_MISUSE = {4: "attr-defined", 5: "arg-type", 6: "assignment"}


def run_mypy(args: list[str], cwd: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(cwd / "cache"),
                           "--no-error-summary", "--show-error-codes", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 2: mypy itself failed
    return [line for line in done.stdout.splitlines() if ": error:" in line]


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                    reason="mypy is not installed (the [dev] extra installs it)")
def test_mypy_reads_the_tensor(tmp_path: Path) -> None:
    (tmp_path / "user.py").write_text(USER_SCRIPT)
    (tmp_path / "misuse.py").write_text(MISUSE_SCRIPT)
    # As a user runs it: backprop is the installed package (which needs its py.typed marker).
    errors = run_mypy(["user.py", "misuse.py"], tmp_path)
    assert not [e for e in errors if not e.startswith("misuse.py:")], "\n".join(errors)
    found = {int(e.split(":")[1]): e.rsplit("[", 1)[1].rstrip("]") for e in errors}
    assert found == EXPECTED_MISUSE, "\n".join(errors)
    # The Tensor's own files type-check too (shadowed builtins, defaults and the like).
    package = Path(bp.__file__).parent
    own = run_mypy(["--follow-imports=silent"] + [str(package / f"{name}.py") for name in (
        "tensor", "tensor_methods", "tensor_methods_families", "tensor_inplace")], tmp_path)
    assert not own, "\n".join(own)
    ran = subprocess.run([sys.executable, "user.py"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
