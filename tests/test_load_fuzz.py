"""bp.load against broken and hostile files: every mutant of a real checkpoint either raises the
one documented exception (CheckpointError, with a clear one-line message) or loads whole and
equal to what was saved; none crashes the interpreter or allocates more than the file holds.

The mutants (tests/checkpoint_mutants.py) are derived from three real checkpoints (a model's
state_dict, an optimizer's state, a nested training state) by a seeded generator, so a failure
names a case that ``make_case(index)`` replays. The suite runs ``BACKPROP_FUZZ_CASES`` cases
(1,200 by default, a few seconds); ``make fuzz`` sets it to 20,000.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import subprocess
import sys
import tracemalloc
from functools import cache
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop import serialization
from backprop.serialization import FORMAT_KEY, CheckpointError, load, save
from checkpoint_mutants import (MUTATORS, Case, assemble, huge_consistent_tensor, make_case,
                                seeds, signed_metadata)

pytest.importorskip("safetensors", reason="checkpoints need the optional safetensors package")

FUZZ_CASES = int(os.environ.get("BACKPROP_FUZZ_CASES", "1200"))


@cache
def cases() -> list[Case]:
    return [make_case(i) for i in range(FUZZ_CASES)]


# -- what every outcome must satisfy --------------------------------------------------------------


def fingerprint(obj: Any) -> Any:
    """A comparable image of a loaded object: exact types, dtypes, shapes, bytes, NaN-safe."""
    if isinstance(obj, bp.Tensor):
        return (type(obj).__name__, obj.requires_grad, fingerprint(obj.detach().numpy()))
    if isinstance(obj, np.ndarray):
        return ("ndarray", obj.dtype.str, obj.shape, obj.tobytes())
    if isinstance(obj, dict):
        return (type(obj).__name__, [(fingerprint(k), fingerprint(v)) for k, v in obj.items()])
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [fingerprint(item) for item in obj])
    if isinstance(obj, (float, complex, np.generic)):
        return (type(obj).__name__, repr(obj))
    assert obj is None or isinstance(obj, (bool, int, str)), f"unexpected {type(obj)} loaded"
    return (type(obj).__name__, obj)


def outcome(case: Case) -> str:
    """Load the mutant and check the outcome; returns "raised" or "loaded"."""
    try:
        result = load(io.BytesIO(case.mutant.data))
    except CheckpointError as err:
        message = str(err)
        assert type(err) is CheckpointError
        assert message.startswith("load: <BytesIO> "), message
        assert "\n" not in message and len(message) < 600, message
        if case.mutant.match:
            assert re.search(case.mutant.match, message), message
        return "raised"
    assert not case.mutant.must_raise, "loaded a file that should have been refused"
    if case.mutant.signed:
        fingerprint(result)  # well formed: every part is a type a checkpoint holds
    else:
        assert fingerprint(result) == fingerprint(case.seed.obj), "loaded a different object"
    return "loaded"


def test_the_seed_checkpoints_load_and_the_generator_is_deterministic():
    for seed in seeds().values():
        assert fingerprint(load(io.BytesIO(seed.data))) == fingerprint(seed.obj)
    assert make_case(123).mutant == make_case(123).mutant
    assert {make_case(i).kind for i in range(len(MUTATORS))} == set(MUTATORS)


def test_every_mutant_raises_checkpoint_error_or_loads_whole():
    assert FUZZ_CASES >= 1000
    failures, outcomes = [], {}
    for case in cases():
        try:
            result = outcome(case)
        except Exception as err:  # collect them all: one run shows every kind that breaks
            failures.append(f"{case}: {type(err).__name__}: {str(err)[:300]}")
            continue
        outcomes.setdefault(case.kind, []).append(result)
    assert not failures, f"{len(failures)} of {FUZZ_CASES} cases failed:\n" + "\n".join(
        failures[:15])
    for kind, results in outcomes.items():  # each mutator really produced broken files
        assert results.count("raised") >= 0.5 * len(results), (kind, results.count("raised"))


def test_a_checksum_mismatch_names_the_tensor_in_every_seed():
    for seed in seeds().values():
        for name in seed.tensors():
            begin, end = seed.header[name]["data_offsets"]
            if end == begin:
                continue
            data = bytearray(seed.data)
            data[8 + seed.length + end - 1] ^= 0x80
            with pytest.raises(CheckpointError, match=re.escape(f"SHA-256 of tensor {name!r}")):
                load(io.BytesIO(bytes(data)))


# -- memory: nothing is allocated from a size the file cannot back -------------------------------


def peak_allocation(data: bytes) -> int:
    """Peak bytes traced (Python objects and NumPy buffers) while loading ``data``."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        try:
            load(io.BytesIO(data))
        except CheckpointError:
            pass
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def allowance(data: bytes) -> int:
    """What reading ``data`` may cost: the header as text, the document as text and as UTF-8
    for its checksum, the tensors once (together at most the file's size), and the parsed
    JSON's Python objects and a traceback (a few hundred KiB for these small files). A size
    taken on trust from a hostile header would be gigabytes."""
    return 4 * len(data) + 512 * 1024


def test_no_mutant_allocates_more_than_its_file_holds():
    worst = max((peak_allocation(case.mutant.data) / allowance(case.mutant.data), str(case))
                for case in cases()[::3])
    assert worst[0] <= 1.0, worst


def test_a_sound_checkpoint_costs_about_its_size_to_load():
    obj = {f"w{i}": bp.randn(256, 256) for i in range(8)}  # 2 MiB of float32
    buffer = io.BytesIO()
    save(obj, buffer)
    data = buffer.getvalue()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        loaded = load(io.BytesIO(data))
        held, peak = (n - before for n in tracemalloc.get_traced_memory())
    finally:
        tracemalloc.stop()
    assert fingerprint(loaded) == fingerprint(obj)
    assert held < 1.1 * len(data) and peak < 1.2 * len(data), (held, peak, len(data))


@pytest.mark.parametrize("elements", [2**24, 2**32, 2**40, 2**62])
def test_huge_declared_sizes_are_refused_before_safetensors_reads_anything(elements,
                                                                           monkeypatch):
    import safetensors.numpy

    calls = []
    real_load = safetensors.numpy.load
    monkeypatch.setattr(safetensors.numpy, "load", lambda data: calls.append(1) or
                        real_load(data))
    seed = seeds()["model"]
    mutant = huge_consistent_tensor(random.Random(elements), seed)
    assert peak_allocation(mutant.data) < 1024 * 1024
    with pytest.raises(CheckpointError, match=f"declares {elements}|needs {elements}"
                       "|truncated or corrupted"):
        load(io.BytesIO(mutant.data))
    assert calls == []
    load(io.BytesIO(seed.data))
    assert calls == [1]  # the spy works: a sound file does reach safetensors


def test_a_failed_load_leaves_nothing_behind():
    # A sound 4 MB tensor, then a broken tree node: the tensor read first must be freed.
    big = {"weight": bp.zeros(1024, 1024), "later": 1}
    buffer = io.BytesIO()
    save(big, buffer)
    seed_header = json.loads(buffer.getvalue()[8:8 + int.from_bytes(buffer.getvalue()[:8],
                                                                     "little")])
    document = json.loads(seed_header["__metadata__"][FORMAT_KEY])
    document["tree"]["$dict"][1][1] = {"$pickle": "x"}
    length = int.from_bytes(buffer.getvalue()[:8], "little")
    data = assemble({**seed_header, "__metadata__": signed_metadata(document)},
                    buffer.getvalue()[8 + length:])
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with pytest.raises(CheckpointError, match="unknown tag '\\$pickle'"):
            load(io.BytesIO(data))
        left = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert left < 64 * 1024, f"{left} bytes still held after the failed load"


# -- the interpreter survives: a subset in a child process ---------------------------------------

CHILD = """
import pathlib, sys, backprop as bp
from backprop.serialization import CheckpointError
for path in sorted(pathlib.Path(sys.argv[1]).iterdir()):
    try:
        bp.load(path)
        result = "loaded"
    except CheckpointError:
        result = "raised"
    except BaseException as err:
        result = "other " + type(err).__name__
    print(path, result, flush=True)
"""


def test_no_mutant_crashes_the_interpreter(tmp_path):
    # Every eighth case, plus the likeliest to reach C code's limits (deep JSON, odd nodes).
    chosen = [case for case in cases() if case.kind in ("recursion_bomb", "tree_node")]
    chosen = {case.index: case for case in chosen[:60] + cases()[::8]}
    for case in chosen.values():
        (tmp_path / f"case{case.index}.safetensors").write_bytes(case.mutant.data)
    child = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True,
                           text=True, timeout=300)
    lines = child.stdout.splitlines()
    assert child.returncode == 0, (child.returncode, lines[-1:], child.stderr[-2000:])
    assert len(lines) == len(chosen)
    assert all(line.endswith((" raised", " loaded")) for line in lines), \
        [line for line in lines if not line.endswith((" raised", " loaded"))]


# -- the loader's own limits ----------------------------------------------------------------------


def test_save_refuses_what_load_would_refuse_and_loads_what_it_saves():
    deep: Any = 0
    for _ in range(serialization.MAX_NESTING):
        deep = [deep]
    assert load_round_trip(deep, depth=serialization.MAX_NESTING) == 0
    with pytest.raises(ValueError, match="nests containers more than 100 deep"):
        save([deep], io.BytesIO())


def load_round_trip(obj: Any, depth: int) -> Any:
    buffer = io.BytesIO()
    save(obj, buffer)
    buffer.seek(0)
    loaded = load(buffer)
    for _ in range(depth):
        (loaded,) = loaded
    return loaded


def test_an_oversized_header_is_refused_by_its_declared_length(monkeypatch):
    from backprop import _safetensors_header

    seed = seeds()["model"]
    monkeypatch.setattr(_safetensors_header, "MAX_HEADER_BYTES", seed.length - 1)
    with pytest.raises(CheckpointError, match=f"header is {seed.length} bytes, more than"):
        load(io.BytesIO(seed.data))


def test_safetensors_own_errors_and_panics_become_checkpoint_errors(monkeypatch):
    import safetensors.numpy

    class PanicException(BaseException):  # what a Rust panic looks like from Python
        pass

    seed = seeds()["model"]
    for error in (PanicException("index out of bounds"), RuntimeError("bad"), KeyError("BF16")):
        def broken(data, error=error):
            raise error
        monkeypatch.setattr(safetensors.numpy, "load", broken)
        with pytest.raises(CheckpointError, match="safetensors cannot read it"):
            load(io.BytesIO(seed.data))
    monkeypatch.setattr(safetensors.numpy, "load", lambda data: (_ for _ in ()).throw(
        KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C is not a broken file
        load(io.BytesIO(seed.data))


class Stream:
    """A non-seekable source (a pipe, a socket): ``data``, then ``tail`` forever, or EOF."""

    def __init__(self, data: bytes, tail: bytes = b"") -> None:
        self.data, self.tail, self.served = data, tail, 0

    def read(self, size: int = -1) -> bytes:
        assert size >= 0, "read everything from an endless stream"
        if self.served < len(self.data):
            chunk = self.data[self.served:self.served + size]
        else:
            chunk = (self.tail * (size // max(len(self.tail), 1) + 1))[:size]
        self.served += len(chunk)
        return chunk


def test_streams_are_read_only_as_far_as_their_header_says():
    seed = seeds()["model"]
    assert fingerprint(load(Stream(seed.data))) == fingerprint(seed.obj)
    endless_zeros = Stream(b"", b"\x00")
    with pytest.raises(CheckpointError, match="not JSON"):
        load(endless_zeros)
    assert endless_zeros.served == 8  # a zero-length header: nothing more was asked for
    trailing = Stream(seed.data, b"x")
    with pytest.raises(CheckpointError, match="bytes follow the header"):
        load(trailing)
    assert trailing.served == len(seed.data) + 1  # one byte past the end shows the extra data
    lying = huge_consistent_tensor(random.Random(0), seed)  # declares up to 2**61 bytes
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="truncated or corrupted"):
            load(Stream(lying.data))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < allowance(lying.data)
