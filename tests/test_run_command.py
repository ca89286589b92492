"""`backprop run SCRIPT [ARGS...]` runs unmodified PyTorch programs (issue 18): `import torch`
is served by backprop through an import hook that wins over an installed PyTorch, the script
runs as `python SCRIPT` would run it, and a name backprop lacks ends the run with one line
naming it and the program's line that asked for it.

The programs (tests/programs/) run in subprocesses, so this process's own torch is untouched;
the hook's context manager is tested in this process and must leave sys.modules as it was."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from commands import environment

import backprop
from backprop import cli
from backprop._run_errors import explain, missing_name
from backprop._torch_modules import SERVED, NotServed, served_name, torch_served
from backprop.run import main as run_main

TESTS = Path(__file__).parent
PROGRAMS = TESTS / "programs"


def start(*args: str, cwd: Path = TESTS, program: tuple[str, ...] | None = None
          ) -> subprocess.CompletedProcess:
    """``python -m backprop.run ARGS`` (or ``program ARGS``) in ``cwd``, output as text."""
    program = program or (sys.executable, "-m", "backprop.run")
    return subprocess.run([*program, *args], cwd=cwd, env=environment(), text=True,
                          capture_output=True, timeout=120, check=False)


def losses(stdout: str) -> list[float]:
    return [float(line.split()[-1]) for line in stdout.splitlines() if line.startswith("epoch")]


def test_the_backprop_command_runs_a_pytorch_program(tmp_path: Path) -> None:
    """Through the console script, from another folder: the script's own flags reach it
    verbatim, its neighbour module imports, relative paths are the caller's, exit code kept."""
    console = shutil.which("backprop", path=str(Path(sys.executable).parent))
    if console is None:
        pytest.skip("the backprop console script is not installed next to this Python")
    script = str(PROGRAMS / "mlp_train.py")
    flags = ["--epochs", "3", "-b", "32", "--out", "loss.txt", "--exit-code", "3"]
    done = start("run", script, *flags, cwd=tmp_path, program=(console,))
    assert done.returncode == 3, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0] == f"torch is backprop; argv {flags}; file {script}"
    assert lines[1] == "Linear is served: True"
    trained = losses(done.stdout)
    assert len(trained) == 3 and trained[-1] < trained[0] / 2
    assert float(lines[-1].split()[-1]) >= 0.9  # accuracy
    assert float((tmp_path / "loss.txt").read_text()) == pytest.approx(trained[-1], abs=1e-4)


def test_python_m_backprop_run_and_the_script_s_own_help() -> None:
    done = start("programs/mlp_train.py", "--epochs", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("torch is backprop; argv ['--epochs', '1']; file "
                                  "programs/mlp_train.py\n")
    assert len(losses(done.stdout)) == 1
    # `--help` after SCRIPT is the script's: argparse's usage of mlp_train.py, exit 0
    helped = start("run", "programs/mlp_train.py", "--help",
                   program=(sys.executable, "-m", "backprop"))
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: mlp_train.py [-h] [--epochs EPOCHS] [-b BATCH_SIZE]")


def test_the_program_is_real_pytorch(torch: object) -> None:
    """The same program under plain Python and the installed PyTorch learns the task too."""
    done = subprocess.run([sys.executable, "mlp_train.py", "--epochs", "3"], cwd=PROGRAMS,
                          env=environment(), text=True, capture_output=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("torch is torch;")
    assert float(done.stdout.splitlines()[-1].split()[-1]) >= 0.9


def line_of(case: str, file: str = "missing_names.py") -> int:
    lines = (PROGRAMS / file).read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if f"# CASE: {case}" in text)


MISSING = [  # case, the name as PyTorch spells it, the file that asked for it
    ("import_submodule", "torch.no_such_module", "missing_names.py"),
    ("from_import", "torch.nn.NoSuchLayer", "missing_names.py"),
    ("torch_attr", "torch.no_such_function", "missing_names.py"),
    ("nn_attr", "torch.nn.NoSuchLayer", "missing_names.py"),
    ("F_attr", "torch.nn.functional.no_such_activation", "missing_names.py"),
    ("tensor_method", "torch.Tensor.no_such_method", "missing_names.py"),
    ("keyword", "torch.nn.functional.relu(..., no_such_flag=)", "missing_names.py"),
    ("keyword_class", "torch.nn.Linear(..., no_such_flag=)", "missing_names.py"),
    ("keyword_method", "torch.Tensor.sum(..., no_such_flag=)", "missing_names.py"),
    ("keyword_module", "torch.nn.Linear.forward(..., no_such_flag=)", "missing_names.py"),
    ("in_neighbour", "torch.no_such_norm", "missing_helper.py"),
]


@pytest.mark.parametrize("case, name, file", MISSING, ids=[row[0] for row in MISSING])
def test_a_name_backprop_lacks_is_one_line_naming_it(case: str, name: str, file: str) -> None:
    done = start("programs/missing_names.py", case)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (f"backprop run: programs/{file}:{line_of(case, file)}: {name} is not "
                           "in backprop yet\n")


def test_an_import_error_of_ours_is_its_message_on_one_line() -> None:
    """An optional extra that is missing: our module's own ImportError, one line, exit 2."""
    done = start("programs/missing_names.py", "extra_missing")
    assert done.returncode == 2, done.stderr
    prefix = f"backprop run: programs/missing_names.py:{line_of('extra_missing')}: "
    assert done.stderr.startswith(prefix + "set_num_threads: ")
    assert "threadpoolctl" in done.stderr and done.stderr.count("\n") == 1


@pytest.mark.parametrize("case, error", [
    ("bad_input", "backprop.errors.ShapeError: reshape: cannot reshape"),  # our clear error
    ("own_attribute", "AttributeError: 'Net' object has no attribute 'no_such_layer'"),
    ("own_keyword", "TypeError: run() got an unexpected keyword argument 'no_such_flag'"),
])
def test_any_other_error_is_python_s_traceback_and_exit_1(case: str, error: str) -> None:
    done = start("programs/missing_names.py", case)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    # the first frame is the script's, as under `python SCRIPT` (the runner's are left out)
    assert lines[1].startswith('  File "programs/missing_names.py", line ')
    assert f'line {line_of(case)}, in run' in done.stderr
    assert lines[-1].startswith(error)
    assert "not in backprop yet" not in done.stderr


@pytest.mark.parametrize("argv, message", [
    (["run"], "backprop: error: run: give the program to run (usage: backprop run SCRIPT"),
    (["run", "no/such/script.py", "--epochs", "1"],
     "backprop: error: run: cannot open SCRIPT no/such/script.py: no such file"),
    (["run", "--epochs", "1"],
     ("backprop: error: run: unknown option --epochs; put the script's own options after "
      "SCRIPT")),
])
def test_no_script_is_one_line_and_exit_2(argv: list[str], message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_run_is_listed_and_has_its_own_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: backprop run SCRIPT [ARGS...]")
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "run a PyTorch program" in " ".join(capsys.readouterr().out.split())


# -- the hook, in this process ------------------------------------------------------------------


def torch_entries() -> dict[str, object]:
    return {name: module for name, module in sys.modules.items()
            if served_name(name) is not None}


def test_torch_served_gives_our_very_modules_and_restores_sys_modules() -> None:
    before = torch_entries()
    with torch_served():
        import torch
        import torch.nn as nn  # noqa: PLR0402 - as PyTorch programs write it
        import torch.nn.functional as F
        from torch.utils.data import DataLoader

        assert torch is backprop and torch.__name__ == "backprop"
        assert nn is backprop.nn and F is backprop.nn.functional
        assert sys.modules["torch.utils.data"] is backprop.utils.data
        assert DataLoader is backprop.utils.data.DataLoader
        assert isinstance(nn.Linear(2, 3), backprop.nn.Module)
        with torch_served():  # nested: the outer block's finder serves, and stays
            import torch.optim
        assert sys.modules["torch.optim"] is backprop.optim
        with pytest.raises(NotServed, match=r"^torch\.no_such_module is not in backprop yet$"):
            import torch.no_such_module
        with pytest.raises(ModuleNotFoundError) as below_a_module:  # not a package
            import torch.serialization.no_such_module
        assert missing_name(below_a_module.value) == "torch.serialization.no_such_module"
        assert backprop.nn.functional.__name__ == "backprop.nn.functional"  # not renamed
        assert backprop.nn.functional.__spec__.name == "backprop.nn.functional"
    after = torch_entries()
    assert after.keys() == before.keys()
    assert all(after[name] is before[name] for name in before)
    assert not any(type(f).__name__ == "TorchFinder" for f in sys.meta_path)


def test_the_table_renames_any_prefix() -> None:
    """torchvision -> backprop.vision is one row of the table; a made-up row shows the rename
    of a second top-level package without depending on backprop.vision."""
    assert SERVED["torchvision"] == "backprop.vision"
    with torch_served({"torch": "backprop", "fakevision": "backprop.utils"}):
        import fakevision.data

        assert fakevision.data is backprop.utils.data
        assert sys.modules["fakevision"] is backprop.utils
    assert "fakevision" not in sys.modules and "fakevision.data" not in sys.modules


def test_torchvision_is_backprop_vision_or_named_as_missing() -> None:
    have_vision = importlib.util.find_spec("backprop.vision") is not None
    with torch_served():
        if have_vision:
            import torchvision

            assert torchvision is importlib.import_module("backprop.vision")
        else:  # until backprop.vision is merged: the one-line refusal, not the real one
            with pytest.raises(NotServed, match="^torchvision is not in backprop yet$"):
                import torchvision


def test_a_submodule_its_package_does_not_import_is_told_apart(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """PyTorch's packages import their submodules; where ours does not, the line says how to get
    it rather than that backprop lacks it."""
    monkeypatch.delattr(backprop.nn.utils, "rnn")  # as if backprop.nn.utils did not import it
    with torch_served():
        import torch

        with pytest.raises(AttributeError) as caught:
            print(torch.nn.utils.rnn.pad_sequence)
        with pytest.raises(AttributeError) as lacking:
            print(torch.nn.utils.no_such_helper)
    assert explain(caught.value) == (
        "torch.nn.utils.rnn is in backprop, but torch.nn.utils does not import it by itself yet "
        "as PyTorch's does; `import torch.nn.utils.rnn` first works around it")
    assert explain(lacking.value) == "torch.nn.utils.no_such_helper is not in backprop yet"
