"""Engine observers: registrations belong to a thread, may end in any order (or from another
thread), and the tools built on them (profiler, anomaly detection) run side by side; the engine
imports none of the tools."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop import profiler
from backprop.autograd import observers
from backprop.diagnostics.anomaly import detect_anomaly, is_anomaly_enabled
from backprop.profiler.recorder import ACTIVE
from helpers import assert_no_observers, engine_attributes

AUTOGRAD = Path(bp.__file__).parent / "autograd"
WAIT_S = 20  # a thread that failed never reaches the barrier: fail, do not hang


class OpNames(bp.autograd.Observer):
    def __init__(self) -> None:
        self.names: list[str] = []

    def op(self, op, args, params, proceed):
        self.names.append(op.name)
        return proceed()


def run_in_threads(*targets) -> None:
    """Run each target in its own thread; re-raise the first failure here."""
    errors: list[BaseException] = []

    def guarded(target):
        def run():
            try:
                target()
            except BaseException as err:  # noqa: BLE001 - handed to the main thread
                errors.append(err)
        return run

    threads = [threading.Thread(target=guarded(t), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S)
    if errors:
        raise errors[0]


def rows(prof: profiler.profile) -> set[str]:
    return {row.key for row in prof.key_averages()}


# -- the registry ---------------------------------------------------------------------------------

def test_an_observer_sees_only_the_thread_that_registered_it() -> None:
    mine, theirs = OpNames(), OpNames()
    x = bp.ones(2, requires_grad=True)
    both_open = threading.Barrier(2, timeout=WAIT_S)

    def other_thread() -> None:
        with observers.observing(theirs):
            both_open.wait()
            x.sin()
            both_open.wait()

    def this_thread() -> None:
        with observers.observing(mine):
            both_open.wait()
            x.exp()
            both_open.wait()

    run_in_threads(other_thread, this_thread)
    assert (mine.names, theirs.names) == (["exp"], ["sin"])
    assert_no_observers()


def test_registrations_closed_out_of_order_each_keep_their_events() -> None:
    outer, inner = OpNames(), OpNames()
    x = bp.ones(2, requires_grad=True)
    outer_block, inner_block = observers.observing(outer), observers.observing(inner)
    outer_block.__enter__()
    inner_block.__enter__()
    x.exp()
    outer_block.__exit__(None, None, None)  # the first opened ends first
    assert observers.active() == (inner,)
    x.sin()
    inner_block.__exit__(None, None, None)
    x.cos()
    assert (outer.names, inner.names) == (["exp"], ["exp", "sin"])
    assert_no_observers()


def test_a_registration_ended_from_another_thread_ends_in_its_own() -> None:
    prof = profiler.profile()
    started, stopped = threading.Event(), threading.Event()
    left_over = []

    def worker() -> None:
        prof.start()
        started.set()
        stopped.wait(WAIT_S)
        left_over.append(observers.active())
        bp.ones(2, requires_grad=True).exp()  # after the stop: not profiled

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    assert started.wait(WAIT_S)
    prof.stop()  # from the main thread
    stopped.set()
    thread.join(WAIT_S)
    assert left_over == [()]
    assert "exp" not in rows(prof)
    assert_no_observers()


def test_registering_something_else_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match=r"observing: expected an Observer .*, got function"):
        with observers.observing(lambda op: op):  # type: ignore[arg-type]
            pass
    assert_no_observers()


# -- tools side by side ---------------------------------------------------------------------------

def test_a_profiler_and_anomaly_detection_in_two_threads_each_see_their_own() -> None:
    # Both blocks stay open throughout, but the threads work in turns: grad mode is one flag
    # for the process (a backward pass turns recording off everywhere while it runs), so
    # backward passes at the same moment in two threads would test that, not the observers.
    before = engine_attributes()
    both_open, first_done, second_done = (threading.Barrier(2, timeout=WAIT_S) for _ in range(3))
    found: dict = {}

    def profiled() -> None:
        x = bp.ones(3, requires_grad=True)
        with np.errstate(all="ignore"), profiler.profile() as prof:
            both_open.wait()
            for _ in range(20):
                (x.exp() * 2.0).sum().backward()
            bp.sqrt(bp.tensor([-1.0])).sum()  # a NaN the other thread's detection must not see
            found["detecting here"] = is_anomaly_enabled()
            first_done.wait()
            second_done.wait()
        found["profile"] = prof

    def checked() -> None:
        y = bp.tensor([1.0, 2.0], requires_grad=True)
        with np.errstate(all="ignore"), detect_anomaly(mode="record") as anomalies:
            both_open.wait()
            first_done.wait()
            for _ in range(20):
                (y.log() * 3.0).sum().backward()
            bp.log(bp.tensor([-1.0])).sum()
            assert engine_attributes() == before
            second_done.wait()
        found["anomalies"] = anomalies

    run_in_threads(profiled, checked)
    assert rows(found["profile"]) == {"exp", "mul", "sum", "sqrt", "ExpBackward", "MulBackward",
                                      "SumBackward", "autograd::engine", "[other]"}
    assert [record.op for record in found["anomalies"]] == ["log"]
    assert found["detecting here"] is False
    assert engine_attributes() == before
    assert_no_observers()


@pytest.mark.parametrize("first", ["profile", "detect_anomaly"])
def test_a_profile_and_detect_anomaly_closed_out_of_order_both_finish(first: str) -> None:
    before = engine_attributes()
    prof, anomalies = profiler.profile(), detect_anomaly(mode="record")
    opened_first, opened_second = (prof, anomalies) if first == "profile" else (anomalies, prof)
    x = bp.tensor([1.0, 4.0], requires_grad=True)
    with np.errstate(all="ignore"):
        opened_first.__enter__()
        opened_second.__enter__()
        bp.sqrt(x).sum().backward()  # both see these
        bp.sqrt(bp.tensor([-1.0])).sum()
        opened_first.__exit__(None, None, None)  # the outer block ends first
        assert engine_attributes() == before
        bp.log(bp.tensor([-1.0])).sum()  # only the block still open sees this
        opened_second.__exit__(None, None, None)
        bp.log(bp.tensor([-2.0])).sum()  # neither sees this
    expected_rows = {"sqrt", "sum", "SqrtBackward", "SumBackward", "autograd::engine", "[other]"}
    assert rows(prof) == expected_rows | ({"log"} if first == "detect_anomaly" else set())
    assert [r.op for r in anomalies] == ["sqrt"] + (["log"] if first == "profile" else [])
    assert engine_attributes() == before
    assert_no_observers()
    assert not ACTIVE and not is_anomaly_enabled()


# -- the import arrow points down -----------------------------------------------------------------

def _imports(tree: ast.Module, package: str) -> list[tuple[str, bool]]:
    """``(imported module, at import time)`` for every import of a module of ``package``."""
    found = []

    def visit(node: ast.AST, at_import: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, False)
            elif isinstance(child, ast.If) and ast.unparse(child.test) == "TYPE_CHECKING":
                visit(child, False)
            elif isinstance(child, ast.Import):
                found.extend((alias.name, at_import) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = package.split(".")
                base = base[:len(base) - child.level + 1] if child.level else []
                module = ".".join(base + ([child.module] if child.module else []))
                found.extend((f"{module}.{alias.name}", at_import) for alias in child.names)
            else:
                visit(child, at_import)

    visit(tree, True)
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("path", sorted(AUTOGRAD.glob("*.py")), ids=lambda p: p.name)
def test_the_engine_imports_nothing_from_nn_nor_diagnostics_when_imported(path: Path) -> None:
    imports = _imports(ast.parse(path.read_text(encoding="utf-8")), "backprop.autograd")
    from_nn = [m for m, _ in imports if _within(m, "backprop.nn")]
    assert not from_nn, f"{path.name} imports {from_nn} (nn sits above the engine)"
    from_diagnostics = [m for m, now in imports if now and _within(m, "backprop.diagnostics")]
    assert not from_diagnostics, f"{path.name} imports {from_diagnostics} when it is imported"


def test_the_import_check_sees_imports_of_each_kind() -> None:
    source = ("from ..nn.module import Module\nimport backprop.diagnostics.graph\n"
              "from . import graph\nfrom .. import nn\n"
              "if TYPE_CHECKING:\n    from ..diagnostics import monitor\n"
              "def later():\n    from ..diagnostics.anomaly import detect_anomaly\n")
    assert _imports(ast.parse(source), "backprop.autograd") == [
        ("backprop.nn.module.Module", True), ("backprop.diagnostics.graph", True),
        ("backprop.autograd.graph", True), ("backprop.nn", True),
        ("backprop.diagnostics.monitor", False),
        ("backprop.diagnostics.anomaly.detect_anomaly", False)]


def test_anomaly_names_are_served_by_autograd_on_first_use() -> None:
    for name in ("AnomalyError", "AnomalyRecord", "detect_anomaly", "set_detect_anomaly",
                 "is_anomaly_enabled", "is_anomaly_check_nan_enabled"):
        assert getattr(bp.autograd, name) is getattr(bp.diagnostics.anomaly, name)
        assert name in dir(bp.autograd) and name in bp.autograd.__all__
    with pytest.raises(AttributeError, match="backprop.autograd' has no attribute 'detect_nan'"):
        bp.autograd.detect_nan  # noqa: B018
