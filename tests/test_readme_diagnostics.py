"""The README's "Seeing the backward pass" snippet runs as written, in order, in a fresh process
and an empty folder, with and without Graphviz's ``dot`` on PATH (issue 13, item 8)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
HAS_DOT = shutil.which("dot") is not None


def snippet() -> str:
    """The first Python block under the "Seeing the backward pass" heading."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Seeing the backward pass"):]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def run_snippet(folder: Path, with_graphviz: bool) -> subprocess.CompletedProcess:
    script = folder / "readme_snippet.py"
    script.write_text(snippet())
    env = dict(os.environ)
    if not with_graphviz:  # only the interpreter's own folder, where there is no Graphviz
        env["PATH"] = os.path.dirname(sys.executable)
    return subprocess.run([sys.executable, script.name], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("with_graphviz", [
    pytest.param(True, marks=pytest.mark.skipif(not HAS_DOT, reason="Graphviz is not installed")),
    False,
], ids=["graphviz", "no-graphviz"])
def test_the_snippet_runs_in_order_and_shows_each_diagnostic(tmp_path, with_graphviz) -> None:
    done = run_snippet(tmp_path, with_graphviz)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Gradient health" in out  # monitor.report()
    # memory_report before backward: the bytes it holds, by module names record_origins gave.
    held = re.search(r"Saved for backward: ([\d.]+) (B|KiB|MiB) in (\d+) nodes", out)
    assert held and float(held.group(1)) > 0 and int(held.group(3)) == 4
    assert "freed" not in out
    assert re.search(r"^model\.1 ", out, re.MULTILINE)
    dot = (tmp_path / "graph.dot").read_text()
    assert "|g| " in dot  # gradient norms: grads=True before backward
    assert "readme_snippet.py:" in dot  # source lines from record_origins()
    written = {"gradients.png", "graph.dot", "landscape.png", "landscape.npz", "readme_snippet.py"}
    if with_graphviz:
        written.add("graph.svg")
        assert (tmp_path / "graph.svg").read_text().startswith("<?xml")
        assert "Warning" not in done.stderr, done.stderr
    else:
        assert re.search(r"graph\.svg not written.*install Graphviz.*dot -Tsvg graph\.dot -o "
                         "graph.svg", done.stderr), done.stderr
    assert set(os.listdir(tmp_path)) == written
