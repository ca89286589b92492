"""No import cycles outside the engine core: every module of the package, its imports read from
the source (module level, inside functions and under TYPE_CHECKING alike), and the strongly
connected components of that graph.

Two cycles are the engine's own and stay: the Tensor and its methods (in-place ones too), the
graph, the primitive and the factories (a Tensor method calls an op that records a node that
makes Tensors), and sum with broadcast_to (each is the other's gradient).
"""

from __future__ import annotations

import ast
from pathlib import Path

import backprop

PACKAGE = Path(backprop.__file__).parent
ENGINE_CORE = {"backprop.tensor", "backprop.tensor_methods", "backprop.tensor_methods_families",
               "backprop.tensor_inplace", "backprop.autograd.graph",
               "backprop.autograd.functional", "backprop.creation", "backprop.ops.primitive",
               "backprop.legacy_types"}  # torch.Tensor(2, 3) and FloatTensor build alike
ADJOINTS = {"backprop.ops.reduction", "backprop.ops.shape"}


def module_name(path: Path) -> str:
    parts = ("backprop",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that ``path`` imports, wherever the import statement is."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                if f"{target}.{alias.name}" in modules:
                    found.add(f"{target}.{alias.name}")
                elif target in modules:
                    found.add(target)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
    return found - {name}


def package_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: imports(path, set(paths)) for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module."""
    reaches = {name: _reachable(graph, name) for name in graph}
    components = {frozenset(m for m in reaches[name] if name in reaches[m]) | {name}
                  for name in graph}
    return [set(c) for c in components if len(c) > 1]


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, stack = set(), [start]
    while stack:
        for nxt in graph[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def test_the_only_import_cycles_are_the_engine_core() -> None:
    outside = [c for c in cycles(package_graph()) if not (c <= ENGINE_CORE or c == ADJOINTS)]
    assert not outside, f"import cycles outside the engine core: {outside}"


def test_imports_inside_functions_count_and_cycles_are_found() -> None:
    graph = package_graph()
    assert "backprop.serialization" in graph["backprop.cli"]  # imported inside _train
    found = cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert found == [{"a", "b", "c"}]
