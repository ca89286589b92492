"""Broken and hostile checkpoints for tests/test_load_fuzz.py: three real checkpoints (a model's
state_dict, an optimizer's state, a nested training state) and the mutators that break them.

Each mutator takes a seeded ``random.Random`` and a ``Seed`` and returns a ``Mutant``: the file's
bytes and what loading it must do. ``make_case(index)`` is deterministic, so a failing case can be
replayed by its index.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from typing import Any, Callable

import numpy as np

import backprop as bp
from backprop._checkpoint_reader import _MAX_DECODE_DEPTH
from backprop.serialization import CHECKSUM_KEY, FORMAT_KEY, save


# -- the real checkpoints the mutants come from ---------------------------------------------------


def seed_objects() -> dict[str, Any]:
    bp.manual_seed(0)
    model = bp.nn.Sequential(bp.nn.Linear(4, 8), bp.nn.BatchNorm1d(8), bp.nn.ReLU(),
                             bp.nn.Linear(8, 3))
    optimizer = bp.optim.Adam(model.parameters(), lr=1e-3)
    model(bp.randn(5, 4)).sum().backward()
    optimizer.step()
    shared = bp.arange(6, dtype=bp.float64).reshape(2, 3)
    nested = {
        "step": 7, "epoch": np.int64(2), "loss": float("nan"), "lr": np.float32(0.5),
        "z": 1 - 2j, "rng": np.random.default_rng(0).bit_generator.state,
        "history": [(1, 0.5), (2, float("inf"))], "flags": OrderedDict(done=False, note=None),
        "arrays": [np.array([True, False, True]), np.arange(4, dtype=np.uint64) * 2**61,
                   np.zeros((0, 3), np.float16), np.array(3.5), np.ones(2, np.complex128)],
        "weights": {("w", 1): bp.randn(3, 2, requires_grad=True), "tied": [shared, shared],
                    "ints": bp.tensor([1, -2, 3], dtype=bp.int32)},
    }
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "nested": nested}


@dataclass
class Seed:
    name: str
    obj: Any
    data: bytes
    header: dict  # the safetensors header, parsed
    length: int  # header bytes

    @property
    def body(self) -> bytes:
        return self.data[8 + self.length:]

    @property
    def document(self) -> dict:
        return json.loads(self.header["__metadata__"][FORMAT_KEY])

    def tensors(self) -> dict[str, dict]:
        return {k: v for k, v in self.header.items() if k != "__metadata__"}


@cache
def seeds() -> dict[str, Seed]:
    result = {}
    for name, obj in seed_objects().items():
        buffer = io.BytesIO()
        save(obj, buffer)
        data = buffer.getvalue()
        length = int.from_bytes(data[:8], "little")
        result[name] = Seed(name, obj, data, json.loads(data[8:8 + length]), length)
    return result


# -- building mutants -----------------------------------------------------------------------------


@dataclass
class Mutant:
    data: bytes
    must_raise: bool = True
    match: str | None = None  # a regex the CheckpointError's message must contain
    signed: bool = False  # metadata edited and re-signed: a success may differ from the original


def assemble(header: Any, body: bytes) -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


def signed_metadata(document: Any) -> dict[str, str]:
    text = document if isinstance(document, str) else json.dumps(document)
    return {FORMAT_KEY: text, CHECKSUM_KEY: hashlib.sha256(text.encode()).hexdigest()}


def with_document(seed: Seed, document: Any, body: bytes | None = None) -> bytes:
    return assemble({**seed.header, "__metadata__": signed_metadata(document)},
                    seed.body if body is None else body)


def xor_bytes(data: bytes, rng: random.Random, start: int, end: int, count: int = 1) -> bytes:
    mutable = bytearray(data)
    for _ in range(count):
        mutable[rng.randrange(start, end)] ^= rng.randrange(1, 256)
    return bytes(mutable)


def regions(seed: Seed) -> list[tuple[int, int]]:
    """Byte ranges of the file: the length prefix, the header, and each non-empty tensor."""
    start = 8 + seed.length
    spans = [(0, 8), (8, start)]
    for info in seed.tensors().values():
        begin, end = info["data_offsets"]
        if end > begin:
            spans.append((start + begin, start + end))
    return spans


def truncate(rng, seed):
    begin, end = rng.choice(regions(seed))
    return Mutant(seed.data[:rng.randrange(begin, end)], match=r"truncated|only \d+ bytes")


def flip_length(rng, seed):
    return Mutant(xor_bytes(seed.data, rng, 0, 8))


def set_length(rng, seed):
    size = len(seed.data)
    value = rng.choice([0, 1, 2, 7, seed.length - 1, seed.length + 1, seed.length - 8,
                        size - 8, size - 7, 2**31, 2**32, 2**63 - 1, 2**63, 2**64 - 2, 2**64 - 1])
    return Mutant(value.to_bytes(8, "little") + seed.data[8:])


def flip_header(rng, seed):
    # Mostly fatal, but a flip can turn padding into other whitespace: then it loads, unchanged.
    return Mutant(xor_bytes(seed.data, rng, 8, 8 + seed.length, rng.randint(1, 3)),
                  must_raise=False)


def flip_data(rng, seed):
    name, info = rng.choice([(k, v) for k, v in seed.tensors().items()
                             if v["data_offsets"][1] > v["data_offsets"][0]])
    start = 8 + seed.length
    begin, end = info["data_offsets"]
    data = xor_bytes(seed.data, rng, start + begin, start + end, rng.randint(1, 4))
    if data == seed.data:  # two flips of one byte cancelled out
        data = xor_bytes(data, rng, start + begin, start + end)
    return Mutant(data, match=f"SHA-256 of tensor {re.escape(repr(name))} does not match")


def havoc(rng, seed):
    data = bytearray(xor_bytes(seed.data, rng, 0, len(seed.data), rng.randint(1, 8)))
    for _ in range(rng.randint(0, 2)):
        at = rng.randrange(len(data))
        if rng.random() < 0.5:
            data[at:at] = rng.randbytes(rng.randint(1, 16))
        else:
            del data[at:at + rng.randint(1, 16)]
    # Inserted or deleted bytes always change a size; flips alone may land on harmless padding.
    return Mutant(bytes(data), must_raise=len(data) != len(seed.data))


def garbage_file(rng, seed):
    size = rng.choice([0, 1, 7, 8, 9, 64, len(seed.data)])
    making = rng.choice([lambda: rng.randbytes(size), lambda: bytes(size),
                         lambda: seed.data[:8] + rng.randbytes(max(size - 8, 0)),
                         lambda: b"\xff" * size, lambda: seed.data + seed.data,
                         lambda: seed.data + rng.randbytes(rng.randint(1, 64))])
    return Mutant(making())


def edit_entry(rng, seed, field, values):
    header = dict(seed.header)
    name = rng.choice(list(seed.tensors()))
    header[name] = {**header[name], field: rng.choice([v for v in values
                                                        if v != header[name][field]])}
    return Mutant(assemble(header, seed.body))


def bad_dtype(rng, seed):
    return edit_entry(rng, seed, "dtype", ["BF16", "F8_E4M3", "F8_E5M2", "C64", "F128", "", "f4",
                                           "float32", 5, None, [], "I64", "U8", "BOOL", "F16",
                                           "F32", "I32", "U32", "F64"])


def bad_shape(rng, seed):
    return edit_entry(rng, seed, "shape", [[2**62, 2**62], [2**64], [2**63 - 1], [-1], [1.5],
                                           ["3"], [True], [], [0], [1] * 1000, [2**32, 2**32, 16],
                                           [10**40], None, "3", [[2]], [1, 0, 2**70]])


def bad_offsets(rng, seed):
    name, info = rng.choice(list(seed.tensors().items()))
    begin, end = info["data_offsets"]
    size = len(seed.body)
    choices = [[end, begin], [begin - 1, end - 1], [begin + 1, end + 1], [0, end - begin],
               [begin, end + size], [size, size + end - begin], [2**64 - 1, 2**64 - 1],
               [begin, 2**64 - 1], [2**63, 2**63 + end - begin], [-8, end], [begin, end, end],
               [begin], [float(begin), float(end)], None, [str(begin), str(end)]]
    header = dict(seed.header)
    header[name] = {**info, "data_offsets": rng.choice([c for c in choices if c != [begin, end]])}
    # An empty tensor may legally sit at any tensor boundary: then the file still loads whole.
    return Mutant(assemble(header, seed.body), must_raise=end > begin)


def huge_consistent_tensor(rng, seed):
    """A header (and a re-signed table) agreeing on a tensor far larger than the file: only
    the file's size can expose the lie."""
    document = seed.document
    elements = rng.choice([2**20, 2**30, 2**40, 2**61])
    name = max(seed.tensors(), key=lambda k: seed.header[k]["data_offsets"])  # the last one
    header = dict(seed.header)
    begin = header[name]["data_offsets"][0]
    header[name] = {"dtype": "U8", "shape": [elements], "data_offsets": [begin, begin + elements]}
    document["tensors"][name].update(dtype="uint8", shape=[elements])
    header["__metadata__"] = signed_metadata(document)
    return Mutant(assemble(header, seed.body), match="truncated|corrupted header")


def entry_structure(rng, seed):
    header = dict(seed.header)
    name = rng.choice(list(seed.tensors()))
    info = header[name]
    edit = rng.randrange(7)
    if edit == 0:
        del header[name]
    elif edit == 1:
        header[name + "~extra"] = {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}
    elif edit == 2:
        header[name + "x"] = header.pop(name)
    elif edit == 3:
        dropped = rng.choice(list(info))
        header[name] = {k: v for k, v in info.items() if k != dropped}
    elif edit == 4:
        header[name] = {**info, "extra": 1}
    elif edit == 5:
        header[name] = rng.choice([[], "x", 1, None, list(info.values())])
    else:
        header = {"__metadata__": seed.header["__metadata__"]}
    return Mutant(assemble(header, seed.body))


def duplicate_keys(rng, seed):
    text = json.dumps(seed.header)
    name = rng.choice(list(seed.tensors()))
    entry = json.dumps(seed.header[name])
    metadata = json.dumps(seed.header["__metadata__"])
    edit = rng.randrange(6)
    if edit == 0:  # the same entry twice: harmless to one parser, still refused
        text = text.replace(f"{json.dumps(name)}: {entry}", f"{json.dumps(name)}: {entry}, "
                            f"{json.dumps(name)}: {entry}")
    elif edit == 1:
        text = "{" + f'{json.dumps(name)}: {{"dtype": "U8", "shape": [0], "data_offsets": ' \
               f"[0, 0]}}, " + text[1:]
    elif edit == 2:
        text = '{"__metadata__": {}, ' + text[1:]
    elif edit == 3:
        other = json.dumps(signed_metadata({"version": 1, "tensors": {}, "tree": 1}))
        text = text.replace(metadata, other[:-1] + ", " + metadata[1:])
    elif edit == 4:
        text = text.replace(entry, entry[:-1] + ', "dtype": "U8"}')
    else:  # inside the signed document: json keeps the last "tree", another parser the first
        document = json.dumps(seed.document)
        document = document[:-1] + ', "tree": 1}'
        return Mutant(with_document(seed, document), match="twice")
    return Mutant(assemble(text.encode(), seed.body), match="twice")


def non_utf8(rng, seed):
    header = bytearray(seed.data[8:8 + seed.length])
    strings = [m.start() + 1 for m in re.finditer(rb'"[A-Za-z_]', header)]
    at = rng.choice(strings)
    bad = rng.choice([b"\xff", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xf8\x88"])
    header[at:at + len(bad)] = bad
    return Mutant(assemble(bytes(header), seed.body), match="not UTF-8")


def header_shape(rng, seed):
    metadata = seed.header["__metadata__"]
    tensors = seed.tensors()
    header = rng.choice([
        [], "header", 1, None, [seed.header], {**tensors}, {**tensors, "__metadata__": None},
        {**tensors, "__metadata__": [metadata]}, {**tensors, "__metadata__": {**metadata, "x": 1}},
        {**tensors, "__metadata__": {FORMAT_KEY: 5, CHECKSUM_KEY: "0"}}])
    text = json.dumps(header).encode()
    text = rng.choice([text, b" " + text, text + b" x", text.replace(b"[", b"[NaN, ", 1),
                       b"\x00" + text[1:], text[:-1]])
    return Mutant(assemble(text, seed.body))


def plain_safetensors(rng, seed):
    import safetensors.numpy

    arrays = dict(safetensors.numpy.load(seed.data))
    document = json.dumps(seed.document)
    metadata = rng.choice([None, {"format": "np"}, {FORMAT_KEY: document},
                           {FORMAT_KEY: document, CHECKSUM_KEY: "0" * 64},
                           signed_metadata("not json"), signed_metadata("[1, 2]"),
                           signed_metadata(document.replace('"version": 1', '"version": 0'))])
    return Mutant(safetensors.numpy.save(arrays, metadata=metadata))


def unsigned_document(rng, seed):
    document = seed.document
    document["tree"] = rng.choice([1, None, [], document["tree"], {"$int": "0x1"}])
    document["extra"] = rng.random()
    metadata = {FORMAT_KEY: json.dumps(document)}
    if rng.random() < 0.7:
        metadata[CHECKSUM_KEY] = seed.header["__metadata__"][CHECKSUM_KEY]
    header = {**seed.header, "__metadata__": metadata}
    return Mutant(assemble(header, seed.body), match="SHA-256 of its metadata")


def document_top(rng, seed):
    document = seed.document
    edit = rng.randrange(9)
    if edit < 5:
        document["version"] = [0, -1, 3, 10**30, "1", True, None, 1.0][rng.randrange(8)]
    elif edit == 5:
        document.pop(rng.choice(["tensors", "tree", "version"]))
    elif edit == 6:
        document["tensors"] = rng.choice([[], None, "x", list(document["tensors"])])
    elif edit == 7:
        document = rng.choice([[], "doc", 1, None])
    else:  # unknown top-level keys are allowed (a later format may add some)
        document["comment"] = "written by hand"
        return Mutant(with_document(seed, document), must_raise=False, signed=True)
    return Mutant(with_document(seed, document))


def tensor_table(rng, seed):
    document = seed.document
    table = document["tensors"]
    name = rng.choice(list(table))
    edit = rng.randrange(7)
    match = None
    if edit == 0:
        table[name]["sha256"] = hashlib.sha256(rng.randbytes(8)).hexdigest()
        match = f"SHA-256 of tensor {re.escape(repr(name))}"
    elif edit == 1:
        table[name]["dtype"] = rng.choice([d for d in ("object", "float128", "V8", "<f4",
                                                       "complex256", "int32", "float64", "uint8",
                                                       5, None) if d != table[name]["dtype"]])
    elif edit == 2:
        table[name]["shape"] = rng.choice([s for s in ([2**62, 2**62], [-1], [7, 7], [], [1.0],
                                                       None, "x") if s != table[name]["shape"]])
    elif edit == 3:
        del table[name]
    elif edit == 4:
        table[name + "~ghost"] = dict(table[name])
    elif edit == 5:
        table[name] = rng.choice([None, [], "x", {}])
    else:
        table[name]["sha256"] = rng.choice([None, 5, "", "0" * 63, "z" * 64 + "0"])
    return Mutant(with_document(seed, document), match=match)


def tree_positions(node: Any, path: tuple = ()) -> list[tuple]:
    """Paths to every value in a document tree (list items, dict keys and values, tuple items)."""
    found = [path]
    if isinstance(node, list):
        for i, item in enumerate(node):
            found += tree_positions(item, path + (i,))
    elif isinstance(node, dict) and ("$dict" in node or "$odict" in node):
        tag = "$dict" if "$dict" in node else "$odict"
        for i, (key, value) in enumerate(node[tag]):
            found += tree_positions(key, path + (tag, i, 0))
            found += tree_positions(value, path + (tag, i, 1))
    elif isinstance(node, dict) and "$tuple" in node:
        for i, item in enumerate(node["$tuple"]):
            found += tree_positions(item, path + ("$tuple", i))
    return found


def replace_at(document: dict, path: tuple, value: Any) -> None:
    if not path:
        document["tree"] = value
        return
    node = document["tree"]
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def hostile_nodes(seed: Seed) -> list[tuple[Any, bool]]:
    """(node, must_raise): nodes save never writes, and odd ones it could."""
    keys = list(seed.tensors())
    return [
        ({"$tensor": "nope"}, True), ({"$tensor": 5}, True), ({"$tensor": keys}, True),
        ({"$ndarray": keys[0]}, False), ({"$tensor": keys[-1], "requires_grad": True}, False),
        ({"$tensor": keys[0], "parameter": "yes"}, True), ({"$pickle": "os.system('x')"}, True),
        ({"$dict": "x"}, True), ({"$dict": [[1]]}, True), ({"$dict": [[[1], 2]]}, True),
        ({"$dict": [[{"$dict": []}, 2]]}, True), ({"$odict": [[1, 2, 3]]}, True),
        ({"$int": "zz"}, True), ({"$int": 5}, True), ({"$int": "0x" + "f" * 3000}, False),
        ({"$float": "NaN"}, True), ({"$float": "nan"}, False), ({"$complex": [1]}, True),
        ({"$complex": ["a", 1]}, True), ({"$complex": [1, {"$float": "inf"}]}, False),
        ({"$np": "object", "value": 1}, True), ({"$np": "int8", "value": 300}, True),
        ({"$np": "float16", "value": 1e300}, True), ({"$np": "bool", "value": 2}, True),
        ({"$np": "float32"}, True), ({"$np": "complex64", "value": [1, 2]}, False),
        ({"$np": "uint64", "value": {"$int": hex(2**64 - 1)}}, False),
        ({"$np": "V99999999999", "value": 1}, True), ({"$tuple": {}}, True), ({}, True),
        ({"$a": 1, "$b": 2}, True), ({"$tuple": [], "extra": 1}, True), ("\ud800", False),
        ("x" * 100_000, False), (10**30, False), (1e308, False), ([[[[[]]]]], False),
    ]


def tree_node(rng, seed):
    document = seed.document
    node, must_raise = rng.choice(hostile_nodes(seed))
    replace_at(document, rng.choice(tree_positions(document["tree"])), node)
    return Mutant(with_document(seed, document), must_raise=must_raise, signed=True)


def recursion_bomb(rng, seed):
    depth = rng.choice([_MAX_DECODE_DEPTH + 1, 250, 400, 1000, 5000, 100_000])
    opening, closing = rng.choice([("[", "]"), ('{"$tuple":[', "]}"), ('{"$dict":[[1,', "]]}"),
                                   ('{"$complex":[', ",1]}"), ('{"$odict":[[', ",1]]}")])
    document = seed.document
    replace_at(document, rng.choice(tree_positions(document["tree"])), "BOMB")
    text = json.dumps(document).replace('"BOMB"', opening * depth + "0" + closing * depth)
    return Mutant(with_document(seed, text), match="nest|deeper")


def bad_bool_bytes(rng, seed):
    seed = seeds()["nested"]
    document = seed.document
    name = next(k for k, v in document["tensors"].items() if v["dtype"] == "bool")
    begin, end = seed.header[name]["data_offsets"]
    body = bytearray(seed.body)
    body[rng.randrange(begin, end)] = rng.randrange(2, 256)
    document["tensors"][name]["sha256"] = hashlib.sha256(body[begin:end]).hexdigest()
    return Mutant(with_document(seed, document, bytes(body)), match="bool tensor")


MUTATORS: dict[str, Callable[[random.Random, Seed], Mutant]] = {
    f.__name__: f for f in (
        truncate, flip_length, set_length, flip_header, flip_data, havoc, garbage_file,
        bad_dtype, bad_shape, bad_offsets, huge_consistent_tensor, entry_structure,
        duplicate_keys, non_utf8, header_shape, plain_safetensors, unsigned_document,
        document_top, tensor_table, tree_node, recursion_bomb, bad_bool_bytes)}


@dataclass
class Case:
    index: int
    kind: str
    seed: Seed
    mutant: Mutant

    def __str__(self) -> str:
        return f"case {self.index} ({self.kind} of the {self.seed.name} checkpoint)"


def make_case(index: int) -> Case:
    kinds = list(MUTATORS)
    kind = kinds[index % len(kinds)]
    seed = list(seeds().values())[(index // len(kinds)) % len(seeds())]
    mutant = MUTATORS[kind](random.Random(index), seed)
    return Case(index, kind, seed if kind != "bad_bool_bytes" else seeds()["nested"], mutant)
