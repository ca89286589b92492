r"""Graphviz DOT text for the graph picture, and writing it (and its SVG/PNG rendering) to disk.

A ``Picture`` is a list of boxes and arrows, each box in a cluster named by a module path
(``'model.layers.0'``; ``''`` for none). Clusters nest as module paths do, so a box in
``model.layers.0.attn`` is drawn inside ``model.layers.0``, inside ``model.layers``, inside
``model``. Every label is escaped for DOT's quoted strings; identifiers are generated, never
taken from user text.

>>> p = Picture()
>>> p.add_box("n0", ['say "hi"', "(2, 3) float32"], cluster="model.0")
>>> p.add_arrow("n0", "n0")
>>> print(p.render())  # doctest: +ELLIPSIS
digraph backward {
...
  subgraph cluster_0 {
    label="model";
...
      n0 [label="say \"hi\"\n(2, 3) float32"];
...
  n0 -> n0;
}
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

# Formats Graphviz renders that people open directly; .dot/.gv get the DOT text alone.
PICTURE_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
DOT_SUFFIXES = (".dot", ".gv")
# Other control characters have no place in a label and would confuse some renderers.
_CONTROL = dict.fromkeys(range(32), " ")
RENDER_TIMEOUT_S = 300  # dot on a collapsed graph takes well under a second; a huge one, minutes


def quote(text: str) -> str:
    r"""``text`` as a DOT quoted string: backslashes and quotes escaped, lines kept as ``\n``.

    >>> print(quote('a "b"\\c'))
    "a \"b\"\\c"
    """
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "")
               .replace("\n", "\\n"))
    return f'"{escaped.translate(_CONTROL)}"'


class Picture:
    """Boxes (with their cluster) and arrows, rendered as one DOT ``digraph``."""

    def __init__(self) -> None:
        self.boxes: list[tuple[str, list[str], dict[str, str], str]] = []
        self.arrows: list[tuple[str, str, list[str], dict[str, str]]] = []

    def add_box(self, ident: str, lines: list[str], cluster: str = "", **attrs: str) -> None:
        self.boxes.append((ident, lines, attrs, cluster))

    def add_arrow(self, tail: str, head: str, lines: list[str] | None = None,
                  **attrs: str) -> None:
        self.arrows.append((tail, head, lines or [], attrs))

    def render(self) -> str:
        out = ["digraph backward {",
               '  graph [rankdir=TB, fontname="Helvetica", fontsize=11, labeljust=l];',
               ('  node [shape=box, style="rounded,filled", fillcolor=white, '
                'fontname="Helvetica", fontsize=10];'),
               '  edge [fontname="Helvetica", fontsize=9];']
        members: dict[str, list[str]] = {}
        for ident, lines, attrs, cluster in self.boxes:
            members.setdefault(cluster, []).append(f"{ident} [{_attributes(lines, attrs)}];")
        children: dict[str, list[str]] = {}
        for path in sorted(_with_ancestors(members)):
            if path:
                children.setdefault(_parent(path), []).append(path)
        out.extend(_render_cluster("", members, children, [0]))
        for tail, head, lines, attrs in self.arrows:
            described = _attributes(lines, attrs)
            out.append(f"  {tail} -> {head}" + (f" [{described}];" if described else ";"))
        out.append("}")
        return "\n".join(out)


def _attributes(lines: list[str], attrs: dict[str, str]) -> str:
    parts = [f"label={quote(chr(10).join(lines))}"] if lines else []
    parts += [f"{key}={quote(value)}" for key, value in attrs.items()]
    return ", ".join(parts)


def _parent(path: str) -> str:
    return path.rpartition(".")[0]


def _with_ancestors(paths: dict[str, list[str]]) -> set[str]:
    every = set()
    for path in paths:
        while path and path not in every:
            every.add(path)
            path = _parent(path)
    return every


def _render_cluster(path: str, members: dict[str, list[str]], children: dict[str, list[str]],
                    counter: list[int]) -> list[str]:
    """The lines of one cluster and, nested, its sub-clusters (module trees are shallow, so
    recursion here is bounded by the nesting of modules, not by the size of the graph)."""
    indent = "  " * (path.count(".") + 2) if path else "  "
    lines: list[str] = []
    if path:
        lines.append(f"{indent[:-2]}subgraph cluster_{counter[0]} {{")
        counter[0] += 1
        lines.append(f"{indent}label={quote(path)};")
        lines.append(f'{indent}style="rounded,dashed"; color=gray50; fontcolor=gray30;')
    lines.extend(indent + line for line in members.get(path, []))
    for child in children.get(path, []):
        lines.extend(_render_cluster(child, members, children, counter))
    if path:
        lines.append(f"{indent[:-2]}}}")
    return lines


# -- files ----------------------------------------------------------------------------------------

def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``,
    so a reader never sees half a file and a failure leaves no temporary behind."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
        os.replace(temporary, path)
    except BaseException:
        _remove(temporary)
        raise


def render_with_graphviz(function: str, dot_path: Path, path: Path, fmt: str) -> bool:
    """Run Graphviz's ``dot`` on ``dot_path`` to make ``path`` (written atomically); True when
    done. Without Graphviz, warn (at the caller's caller) how to get the picture: False."""
    executable = shutil.which("dot")
    if executable is None:
        # A warning, not an error: the DOT file is the result, and a script goes on.
        warnings.warn(
            f"{function}: {path.name} not written: it needs Graphviz's 'dot' program, which is "
            f"not on PATH. The DOT text is in {dot_path}; install Graphviz (apt install "
            f"graphviz, brew install graphviz or conda install graphviz) or render it elsewhere "
            f"with: dot -T{fmt} {dot_path.name} -o {path.name}", stacklevel=3)
        return False
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        try:
            done = subprocess.run([executable, f"-T{fmt}", "-o", temporary, str(dot_path)],
                                  capture_output=True, text=True, timeout=RENDER_TIMEOUT_S,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{function}: Graphviz's dot did not finish rendering {dot_path} "
                               f"in {RENDER_TIMEOUT_S} s; draw a collapsed graph (collapse=True) "
                               "or render the .dot file yourself") from None
        if done.returncode != 0:
            raise RuntimeError(f"{function}: Graphviz's dot failed (exit status "
                               f"{done.returncode}) rendering {dot_path}: "
                               f"{done.stderr.strip() or 'no message'}")
        os.replace(temporary, path)
    except BaseException:
        _remove(temporary)
        raise
    return True


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
