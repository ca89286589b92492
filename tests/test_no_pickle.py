"""Nothing in backprop can run code that a file brings: no pickle (or its relatives), no
marshal, no eval/exec, and every ``np.load`` refuses pickled object arrays.

The check reads the package's syntax trees, not its text, so comments and docstrings that explain
what we do not do ("never pickle") are fine, and ``model.eval()`` (a method) is not ``eval()``.
A probe file with one example of every forbidden use shows that the scanner catches each.
"""

from __future__ import annotations

import ast
import pathlib
import textwrap

import pytest

import backprop

PACKAGE = pathlib.Path(backprop.__file__).resolve().parent

# Modules that unpickle or unmarshal (or run code) when they read data, or pickle objects
# between processes: importing any of them is a finding.
FORBIDDEN_MODULES = {
    "pickle": "unpickling runs code", "_pickle": "unpickling runs code",
    "cPickle": "unpickling runs code", "pickletools": "a pickle tool",
    "marshal": "unmarshalled code objects run", "shelve": "shelve is pickle on disk",
    "dill": "dill is pickle", "cloudpickle": "cloudpickle is pickle",
    "jsonpickle": "jsonpickle rebuilds arbitrary objects", "joblib": "joblib.load unpickles",
    "multiprocessing": "multiprocessing pickles objects between processes",
    "runpy": "runpy executes files",
}
# The one module whose purpose is to run code: `backprop run SCRIPT` runs the program the user
# names, as `python SCRIPT` does (it reads no data).
RUNS_THE_USERS_PROGRAM = ("backprop/run.py:", "imports runpy")
# torch.multiprocessing is Python's multiprocessing by name: its queues pickle what the
# program itself sends between its own (forked) processes; it reads no data.
SERVES_TORCH_MULTIPROCESSING = ("backprop/multiprocessing/", "imports multiprocessing")
# Step capture writes a traced step out as one Python function and compiles it: the source is
# made in memory from the tape (slot numbers, literals, and names bound to the traced objects),
# never read from a file, an argument or anything loaded.
COMPILES_ITS_REPLAY = [("backprop/capture/tape.py:", f"calls {name}()")
                       for name in ("compile", "exec")]
# Builtins that evaluate strings or import by name.
FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__"}
# Calls that unpickle (or deserialise arbitrary objects), as module.function.
FORBIDDEN_ATTRIBUTE_CALLS = {
    ("torch", "load"): "torch.load unpickles (CVE-2025-32434 bypassed weights_only=True)",
    ("pd", "read_pickle"): "read_pickle unpickles", ("pandas", "read_pickle"): "unpickles",
    ("yaml", "load"): "yaml.load builds arbitrary objects", ("yaml", "unsafe_load"): "unsafe",
    ("builtins", "eval"): "eval", ("builtins", "exec"): "exec",
}
# numpy readers that unpickle object arrays unless told allow_pickle=False.
NUMPY_READERS = {"load", "read_array"}
# mpi4py's lower-case communicator methods pickle their Python objects (the upper-case ones
# send buffers): a peer could send code.
MPI_PICKLING_METHODS = {"bcast", "gather", "allgather", "scatter", "send", "recv", "isend",
                        "irecv", "allreduce", "reduce", "alltoall", "sendrecv", "bsend", "ssend",
                        "ibcast", "igather", "iallgather", "ialltoall", "mprobe", "improbe"}


def dotted(node: ast.AST) -> str:
    """``np.lib.format.read_array`` for an attribute chain, ``""`` for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


class Scanner(ast.NodeVisitor):
    def __init__(self, where: str) -> None:
        self.where = where
        self.found: list[str] = []
        # What `import numpy as np` binds; np and xp (numpy or cupy) are the package's names.
        self.numpy_names = {"numpy", "np", "xp"}
        self.numpy_readers: set[str] = set()  # `from numpy import load`

    def report(self, node: ast.AST, message: str) -> None:
        self.found.append(f"{self.where}:{node.lineno}: {message}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.check_module(node, alias.name)
            if alias.name == "numpy":
                self.numpy_names.add(alias.asname or "numpy")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self.check_module(node, module)
        for alias in node.names:
            self.check_module(node, f"{module}.{alias.name}")
            if module.split(".")[0] == "numpy" and alias.name in NUMPY_READERS:
                self.numpy_readers.add(alias.asname or alias.name)

    def check_module(self, node: ast.AST, module: str) -> None:
        for part in module.split("."):
            if part in FORBIDDEN_MODULES:
                self.report(node, f"imports {module} ({FORBIDDEN_MODULES[part]})")
                return

    def visit_Call(self, node: ast.Call) -> None:
        name = dotted(node.func)
        head, _, last = name.rpartition(".")
        if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_BUILTINS:
            self.report(node, f"calls {node.func.id}()")
        elif (head.split(".")[-1], last) in FORBIDDEN_ATTRIBUTE_CALLS:
            why = FORBIDDEN_ATTRIBUTE_CALLS[head.split(".")[-1], last]
            self.report(node, f"calls {name}() ({why})")
        if last in ("import_module", "__import__") or name == "__import__":
            self.check_dynamic_import(node)
        if name == "getattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and node.args[1].value in FORBIDDEN_BUILTINS:
            self.report(node, f"looks up {node.args[1].value} with getattr")
        is_numpy_reader = ((head.split(".")[0] in self.numpy_names and last in NUMPY_READERS)
                           or (isinstance(node.func, ast.Name) and name in self.numpy_readers))
        if is_numpy_reader and not passes_allow_pickle_false(node):
            self.report(node, f"calls {name}() without allow_pickle=False")
        for keyword in node.keywords:
            if keyword.arg == "allow_pickle" and not is_false(keyword.value):
                self.report(node, f"passes allow_pickle={ast.unparse(keyword.value)} to {name}()")
        if last in MPI_PICKLING_METHODS and any(word in head.lower() for word in ("comm", "world")):
            self.report(node, f"calls {name}(), which pickles (use the upper-case buffer method)")
        self.generic_visit(node)

    def check_dynamic_import(self, node: ast.Call) -> None:
        if node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            self.check_module(node, node.args[0].value.lstrip("."))


def is_false(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def passes_allow_pickle_false(call: ast.Call) -> bool:
    return any(k.arg == "allow_pickle" and is_false(k.value) for k in call.keywords)


def scan(source: str, where: str) -> list[str]:
    scanner = Scanner(where)
    scanner.visit(ast.parse(source, where))
    return scanner.found


def package_files() -> list[pathlib.Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50 and PACKAGE / "serialization.py" in files  # the glob found the code
    return files


def test_the_package_never_pickles_marshals_or_evaluates():
    found = [finding for path in package_files()
             for finding in scan(path.read_text(encoding="utf-8"),
                                 str(path.relative_to(PACKAGE.parent)))]
    allowed = [RUNS_THE_USERS_PROGRAM, SERVES_TORCH_MULTIPROCESSING, *COMPILES_ITS_REPLAY]
    found = [f for f in found if not any(f.startswith(where) and what in f
                                         for where, what in allowed)]
    assert not found, "\n".join(found)


def test_every_np_load_in_the_package_refuses_pickles():
    calls = []
    for path in package_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and dotted(node.func) in ("np.load", "numpy.load"):
                calls.append((path.name, node.lineno, passes_allow_pickle_false(node)))
    assert calls, "no np.load found: the scan is not looking at the package"
    assert all(ok for _, _, ok in calls), [c for c in calls if not c[2]]


PROBE = textwrap.dedent('''
    """Docstrings may say pickle, marshal, eval(x) and exec(y): they are text."""
    import pickle
    import numpy as xp
    from marshal import loads
    from numpy import load as read
    import multiprocessing.pool
    from os import path  # pickle in a comment, eval( in a comment
    x = eval("1")
    exec(code)
    builtins.eval(code)
    __import__("os")
    importlib.import_module("cloudpickle")
    getattr(builtins, "exec")
    xp.load(f)
    xp.load(f, allow_pickle=True)
    read(f)
    np.lib.format.read_array(fp)
    torch.load(f, weights_only=True)
    group.comm.bcast(obj, root=0)
    model.eval()
    text = "pickle.loads(eval(x))"
    def eval(self):
        return re.compile("x")
    xp.load(f, allow_pickle=False)
    group.comm.Ibcast(buffer, root=0)
    np.savez(f, x=1)
''')


def test_the_scanner_catches_code_but_not_comments_strings_or_methods():
    found = [finding.split(": ", 1)[1] for finding in scan(PROBE, "probe.py")]
    assert found == [
        "imports pickle (unpickling runs code)",
        "imports marshal (unmarshalled code objects run)",
        "imports marshal.loads (unmarshalled code objects run)",
        "imports multiprocessing.pool (multiprocessing pickles objects between processes)",
        "calls eval()",
        "calls exec()",
        "calls builtins.eval() (eval)",
        "calls __import__()",
        "imports cloudpickle (cloudpickle is pickle)",
        "looks up exec with getattr",
        "calls xp.load() without allow_pickle=False",
        "calls xp.load() without allow_pickle=False",
        "passes allow_pickle=True to xp.load()",
        "calls read() without allow_pickle=False",
        "calls np.lib.format.read_array() without allow_pickle=False",
        "calls torch.load() (torch.load unpickles (CVE-2025-32434 bypassed weights_only=True))",
        "calls group.comm.bcast(), which pickles (use the upper-case buffer method)",
    ]


@pytest.mark.parametrize("source", ["import pickle as p", "from pickle import loads as l",
                                    "from . import pickle", "__import__('marshal')"])
def test_renamed_and_relative_imports_are_caught(source):
    assert scan(source, "probe.py")
