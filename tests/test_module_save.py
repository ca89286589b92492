"""Whole modules through ``save``/``load`` as data (``torch.save(model, f)``, PyTorch >= 2.6's
``torch.load`` with ``safe_globals``): the tree, its state and its output come back; classes come
only from backprop and the user's allowlist; nothing a file names is imported or run."""

from __future__ import annotations

import dataclasses
import inspect
import io
import json
import math
import os
import pathlib
import random
import subprocess
import sys
from collections import OrderedDict
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop import nn, serialization
from backprop.nn import functional as F
from backprop.serialization import CHECKSUM_KEY, FORMAT_KEY, CheckpointError, load, save

pytest.importorskip("safetensors")


class Encoder(nn.Module):
    """A user module whose __init__ takes arguments (load must not call it)."""

    def __init__(self, ntoken: int, ninp: int, nhid: int, *, tie: bool) -> None:
        super().__init__()
        self.ntoken, self.nhid, self.tie = ntoken, nhid, tie
        self.drop = nn.Dropout(0.5)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, 2)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie:
            self.decoder.weight = self.encoder.weight  # word_language_model's --tied
        self.head = nn.Sequential(nn.Linear(ntoken, 6), nn.Sequential(nn.BatchNorm1d(6),
                                                                      nn.ReLU()))
        self.blocks = nn.ModuleList([nn.Linear(6, 6), nn.Tanh()])
        self.gates = nn.ModuleDict(OrderedDict([("b", nn.Identity()), ("a", nn.Sigmoid())]))
        self.register_buffer("steps", bp.zeros(1, dtype=bp.int64))
        self.register_buffer("scratch", bp.ones(2), persistent=False)
        self.act = F.relu  # a backprop function stored as an attribute
        self.act_class = nn.ReLU  # a backprop class
        self.options = {"dtype": bp.float64, "device": bp.device("cpu"), "shape": bp.Size([2, 3]),
                        "names": ["a", "b"], "pair": (1, 2.5), "none": None, "big": 2**70,
                        "nan": math.nan}

    def forward(self, tokens: Any) -> Any:
        out, _ = self.rnn(self.drop(self.encoder(tokens)))
        logits = self.decoder(out).reshape(-1, self.ntoken)
        x = self.head(logits)
        for block in self.blocks:
            x = block(x)
        return self.gates["a"](self.gates["b"](self.act(x)))


class Renamed(nn.Module):
    def forward(self, x: Any) -> Any:
        return x + 1


def trained_model(tie: bool = True) -> Encoder:
    bp.manual_seed(0)
    model = Encoder(11, 4, 4, tie=tie)
    model.train()
    for _ in range(2):  # BatchNorm's running statistics and num_batches_tracked move
        model(bp.randint(0, 11, (5, 3))).sum().backward()
    model.steps += 2
    model.encoder.weight.requires_grad_(True)
    model.blocks[0].bias.requires_grad_(False)  # a frozen parameter stays frozen
    return model


def round_trip(obj: Any, allow: list | None = None, **load_args: Any) -> Any:
    buffer = io.BytesIO()
    save(obj, buffer)
    buffer.seek(0)
    with serialization.safe_globals(allow or []):
        return load(buffer, **load_args)


@pytest.fixture(autouse=True)
def _no_leftover_allowlist():
    serialization.clear_safe_globals()
    yield
    serialization.clear_safe_globals()


# -- round trips ----------------------------------------------------------------------------------


def test_a_model_comes_back_with_its_tree_state_and_output():
    model = trained_model().eval()
    tokens = bp.randint(0, 11, (5, 3))
    loaded = round_trip(model, [Encoder])
    assert type(loaded) is Encoder and not loaded.training
    assert loaded.ntoken == 11 and loaded.nhid == 4 and loaded.tie is True
    assert [n for n, _ in loaded.named_modules()] == [n for n, _ in model.named_modules()]
    assert [type(m) for m in loaded.modules()] == [type(m) for m in model.modules()]
    assert list(loaded.gates.keys()) == ["b", "a"]  # ModuleDict order
    ours, theirs = model.state_dict(), loaded.state_dict()
    assert list(ours) == list(theirs)  # scratch stays non-persistent: not in either
    for key in ours:
        assert ours[key].dtype == theirs[key].dtype
        np.testing.assert_array_equal(ours[key].detach().numpy(), theirs[key].detach().numpy())
    assert int(loaded.head[1][0].num_batches_tracked.item()) == 2
    assert loaded._non_persistent_buffers == {"scratch"}
    for (name, p), (_, q) in zip(model.named_parameters(), loaded.named_parameters()):
        assert type(q) is nn.Parameter and q.requires_grad == p.requires_grad, name
    assert loaded.blocks[0].bias.requires_grad is False
    np.testing.assert_array_equal(loaded(tokens).detach().numpy(), model(tokens).detach().numpy())


def test_plain_attributes_come_back_as_they_were():
    loaded = round_trip(trained_model(), [Encoder])
    options = loaded.options
    assert options["dtype"] is bp.float64 and options["device"] == bp.device("cpu")
    assert type(options["device"]) is type(bp.device("cpu"))
    assert type(options["shape"]) is bp.Size and options["shape"] == (2, 3)
    assert options["names"] == ["a", "b"] and options["pair"] == (1, 2.5)
    assert options["none"] is None and options["big"] == 2**70 and math.isnan(options["nan"])
    assert loaded.act is F.relu and loaded.act_class is nn.ReLU


def test_training_and_eval_modes_come_back_per_module():
    model = trained_model()
    model.train()
    model.head.eval()  # a mixed tree
    loaded = round_trip(model, [Encoder])
    assert [m.training for m in loaded.modules()] == [m.training for m in model.modules()]
    assert loaded.drop.training and not loaded.head[1][0].training
    bp.manual_seed(3)
    first = loaded.drop(bp.ones(1000))
    assert 0 < int((first.detach().numpy() == 0).sum()) < 1000  # dropout is live in train mode
    loaded.eval()
    np.testing.assert_array_equal(loaded.drop(bp.ones(4)).detach().numpy(), np.ones(4))


def test_tied_weights_come_back_as_one_parameter():
    model = trained_model(tie=True)
    loaded = round_trip(model, [Encoder])
    assert loaded.decoder.weight is loaded.encoder.weight
    assert len(list(loaded.parameters())) == len(list(model.parameters()))
    with bp.no_grad():
        loaded.encoder.weight[0, 0] = 42.0
    assert loaded.decoder.weight[0, 0].item() == 42.0
    untied = round_trip(trained_model(tie=False), [Encoder])
    assert untied.decoder.weight is not untied.encoder.weight


def test_a_shared_submodule_and_a_reference_back_stay_one_object():
    shared = nn.Linear(2, 2)
    outer = nn.Sequential(shared, nn.ReLU(), shared)
    outer[1].owner = [outer]  # a plain attribute pointing back up the tree
    loaded = round_trip(outer)
    assert loaded[0] is loaded[2] and loaded[1].owner[0] is loaded
    x = bp.randn(3, 2)
    np.testing.assert_array_equal(loaded(x).detach().numpy(), outer(x).detach().numpy())


def test_a_checkpoint_dict_may_hold_a_whole_model_and_an_optimizer_state():
    model = trained_model()
    optimizer = bp.optim.Adam(model.parameters(), lr=0.01)
    model(bp.randint(0, 11, (5, 3))).sum().backward()
    optimizer.step()
    state = round_trip({"model": model, "epoch": 3, "optimizer": optimizer.state_dict()},
                       [Encoder])
    assert state["epoch"] == 3 and type(state["model"]) is Encoder
    assert state["optimizer"]["param_groups"][0]["lr"] == 0.01
    fresh = bp.optim.Adam(state["model"].parameters(), lr=0.5)
    fresh.load_state_dict(state["optimizer"])
    assert fresh.param_groups[0]["lr"] == 0.01


def test_a_pair_in_the_allowlist_maps_a_saved_name_to_a_class():
    buffer = io.BytesIO()
    save(nn.Sequential(Renamed()), buffer)
    saved_as = f"{Renamed.__module__}.Renamed"

    class Replacement(Renamed):
        pass

    buffer.seek(0)
    with serialization.safe_globals([(Replacement, saved_as)]):
        loaded = load(buffer)
    assert type(loaded[0]) is Replacement


def test_map_location_applies_to_a_models_tensors():
    model = nn.Linear(3, 2)
    moved = round_trip(model, map_location="strict:1")
    assert moved.weight.device == "strict:1" and type(moved.weight) is nn.Parameter
    seen: list = []
    called = round_trip(model, map_location=lambda t, where: seen.append(where) or t)
    assert seen == ["cpu", "cpu"] and type(called) is nn.Linear


@pytest.mark.parametrize("target", ["bytes", "str", "path"])
def test_tensors_and_optimizer_states_save_to_buffers_and_paths(target, tmp_path):
    model = nn.Linear(2, 2)
    optimizer = bp.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(bp.ones(1, 2)).sum().backward()
    optimizer.step()
    for obj in (bp.arange(6.0).reshape(2, 3), optimizer.state_dict()):
        where: Any = {"bytes": io.BytesIO(), "str": str(tmp_path / "a.pt"),
                      "path": pathlib.Path(tmp_path / "b.pt")}[target]
        save(obj, where)
        if isinstance(where, io.BytesIO):
            where.seek(0)
        loaded = load(where)
        if isinstance(obj, bp.Tensor):
            np.testing.assert_array_equal(loaded.detach().numpy(), obj.detach().numpy())
        else:
            assert loaded["param_groups"] == obj["param_groups"]
            np.testing.assert_array_equal(loaded["state"][0]["momentum_buffer"].detach().numpy(),
                                          obj["state"][0]["momentum_buffer"].detach().numpy())


def test_plain_trees_stay_format_1_and_modules_write_format_2():
    def version(obj: Any) -> int:
        buffer = io.BytesIO()
        save(obj, buffer)
        import safetensors  # noqa: F401 - the reader below is safetensors' own

        header_length = int.from_bytes(buffer.getvalue()[:8], "little")
        header = json.loads(buffer.getvalue()[8:8 + header_length])
        return json.loads(header["__metadata__"][FORMAT_KEY])["version"]

    assert version({"w": bp.ones(2)}) == 1
    assert version(nn.Linear(2, 2)) == 2


# -- refusals -------------------------------------------------------------------------------------


def test_a_class_not_allowed_is_refused_by_name_with_the_fix():
    buffer = io.BytesIO()
    save({"model": trained_model()}, buffer)
    buffer.seek(0)
    with pytest.raises(CheckpointError) as info:
        load(buffer)
    message = str(info.value)
    assert f"{Encoder.__module__}.Encoder" in message
    assert "safe_globals([Encoder])" in message and "add_safe_globals([Encoder])" in message
    buffer.seek(0)
    assert serialization.get_unsafe_globals_in_checkpoint(buffer) == [
        f"{Encoder.__module__}.Encoder"]
    serialization.add_safe_globals([Encoder])
    buffer.seek(0)
    assert type(load(buffer)["model"]) is Encoder
    buffer.seek(0)
    assert serialization.get_unsafe_globals_in_checkpoint(buffer) == []


def test_the_allowlist_api_matches_pytorchs(torch):
    for name in ("add_safe_globals", "get_safe_globals", "clear_safe_globals",
                 "get_unsafe_globals_in_checkpoint", "load", "save"):
        ours = list(inspect.signature(getattr(serialization, name)).parameters)
        theirs = list(inspect.signature(getattr(torch.serialization, name)).parameters)
        assert ours == theirs, name
    assert list(inspect.signature(serialization.safe_globals).parameters) == list(
        inspect.signature(torch.serialization.safe_globals).parameters)
    with serialization.safe_globals([Encoder, (Renamed, "x.Y")]):
        assert serialization.get_safe_globals() == [Encoder, (Renamed, "x.Y")]
    serialization.add_safe_globals([Renamed])
    with serialization.safe_globals([Renamed]):  # already allowed: kept after the block
        pass
    assert serialization.get_safe_globals() == [Renamed]
    with pytest.raises(TypeError, match="safe_globals: each entry"):
        serialization.safe_globals(["__main__.Net"])
    with pytest.raises(TypeError, match="add_safe_globals: safe_globals must be a list"):
        serialization.add_safe_globals("__main__.Net")


def test_weights_only_false_and_pickle_arguments_are_refused():
    buffer = io.BytesIO()
    save(nn.Linear(2, 2), buffer)
    buffer.seek(0)
    with pytest.raises(ValueError, match="never does: nothing in a file may run code.*"
                                         "safe_globals"):
        load(buffer, weights_only=False)
    with pytest.raises(ValueError, match="encoding only apply to pickle files"):
        load(buffer, encoding="latin1")
    with pytest.raises(ValueError, match="pickle_module must be None"):
        save(nn.Linear(2, 2), io.BytesIO(), pickle_module=json)
    buffer.seek(0)
    assert type(load(buffer, weights_only=None, mmap=True)) is nn.Linear


def test_a_pytorch_pickle_checkpoint_is_refused_clearly(torch, tmp_path):
    for zipped in (True, False):
        path = tmp_path / f"torch{zipped}.pt"
        torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=zipped)
        with pytest.raises(CheckpointError, match="is a PyTorch checkpoint.*never unpickles"):
            load(path)


def resigned(data: bytes, edit: Any) -> bytes:
    """The checkpoint ``data`` with its document changed by ``edit`` and signed again, as a
    hostile writer would make it."""
    import safetensors.numpy

    length = int.from_bytes(data[:8], "little")
    metadata = json.loads(data[8:8 + length])["__metadata__"]
    document = json.loads(metadata[FORMAT_KEY])
    edit(document)
    text = json.dumps(document)
    from backprop._checkpoint_format import sha256_text

    return safetensors.numpy.save(dict(safetensors.numpy.load(data)),
                                  metadata={FORMAT_KEY: text, CHECKSUM_KEY: sha256_text(text)})


def saved_linear() -> bytes:
    buffer = io.BytesIO()
    save({"model": nn.Linear(2, 2), "act": F.relu}, buffer)
    return buffer.getvalue()


def set_module_class(name: str) -> Any:
    def edit(document: dict) -> None:
        document["tree"]["$dict"][0][1]["$module"] = name
    return edit


def set_global(name: str) -> Any:
    def edit(document: dict) -> None:
        document["tree"]["$dict"][1][1]["$global"] = name
    return edit


@pytest.mark.parametrize("edit, names", [
    (set_module_class("os.system"), ["os.system"]),
    (set_global("builtins.eval"), ["builtins.eval"]),
    (set_module_class("antigravity.Fly"), ["antigravity.Fly"]),
    (lambda d: (set_module_class("this.Zen")(d), set_global("antigravity.fly")(d)),
     ["this.Zen", "antigravity.fly"]),
])
def test_a_hostile_file_naming_code_is_refused_without_importing_it(edit, names):
    assert "antigravity" not in sys.modules and "this" not in sys.modules
    data = resigned(saved_linear(), edit)
    with pytest.raises(CheckpointError) as info:
        load(io.BytesIO(data))
    assert all(name in str(info.value) for name in names) and "safe_globals" in str(info.value)
    assert serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(data)) == names
    assert "antigravity" not in sys.modules and "this" not in sys.modules


def test_an_allowed_function_is_not_a_module_class():
    data = resigned(saved_linear(), set_module_class("os.system"))
    refused = pytest.raises(CheckpointError, match="names os.system as a module's class, but "
                                                   "it is not a class")
    with serialization.safe_globals([(os.system, "os.system")]), refused:
        load(io.BytesIO(data))


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["tree"]["$dict"][0][1].update(extra=1), "fields"),
    (lambda d: d["tree"]["$dict"][0][1]["attributes"].append(["__class__", 1]), "__class__"),
    (lambda d: d["tree"]["$dict"][0][1]["attributes"].append(["_parameters", 1]),
     "module's own field"),
    (lambda d: d["tree"]["$dict"][0][1]["attributes"].append(["weight", 1]), "twice"),
    (lambda d: d["tree"]["$dict"][0][1].update(training="yes"), "yes"),
    (lambda d: d["tree"]["$dict"][0][1].update(non_persistent=["nope"]), "nope"),
    (lambda d: d["tree"]["$dict"][0][1]["parameters"][0].__setitem__(1, 3), "is a int"),
    (lambda d: d["tree"]["$dict"].append(["r", {"$moduleref": 7}]), "moduleref"),
    (lambda d: d["tree"]["$dict"].append(["t", {"$dtype": "object"}]), "object"),
    (lambda d: d["tree"]["$dict"].append(["s", {"$size": [-1]}]), "size"),
])
def test_malformed_module_nodes_are_refused(edit, message):
    with pytest.raises(CheckpointError, match=message):
        load(io.BytesIO(resigned(saved_linear(), edit)))


class WithLambda(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Linear(2, 2))
        self.block[0].act = lambda x: x  # not data: cannot be saved


def test_a_lambda_attribute_fails_naming_its_path_and_leaves_the_file(tmp_path):
    path = tmp_path / "model.pt"
    save({"old": 1}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"obj\['model'\]\.block\.0\.act is a function "
                                        r"\(WithLambda\.__init__\.<locals>\.<lambda>\)"):
        save({"model": WithLambda(), "epoch": 1}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.pt"]


def test_an_open_file_attribute_fails_naming_its_path(tmp_path):
    path = tmp_path / "model.pt"
    model = nn.Sequential(nn.Linear(1, 1))
    with open(os.devnull) as log:
        model[0].log = log
        with pytest.raises(TypeError, match=r"obj\.0\.log is a TextIOWrapper"):
            save(model, path)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_hooks_are_refused_and_nested_functions_too(tmp_path):
    model = nn.Linear(2, 2)
    handle = model.register_forward_hook(lambda *args: None)
    with pytest.raises(TypeError, match=r"obj \(Linear\) has forward hooks"):
        save(model, io.BytesIO())
    handle.remove()

    def local(x: Any) -> Any:
        return x

    model.act = local
    with pytest.raises(TypeError, match=r"obj\.act is a function \(.*<locals>\.local\)"):
        save(model, io.BytesIO())
    model.act = len
    with pytest.raises(TypeError, match=r"obj\.act is a builtin_function_or_method"):
        save(model, io.BytesIO())


def positions(node: Any, path: tuple = ()) -> list[tuple]:
    """Every place in a document's tree, as a path of keys and indices."""
    found = [path]
    if isinstance(node, list):
        for i, item in enumerate(node):
            found += positions(item, path + (i,))
    elif isinstance(node, dict):
        for key, item in node.items():
            found += positions(item, path + (key,))
    return found


JUNK = [None, True, 0, -1, 1.5, "x", [], {}, [["a", None]], [[1, 2]], {"$moduleref": 0},
        {"$module": "os.system"}, {"$global": "backprop.save"}, {"$size": [True]},
        {"$device": "nowhere"}, {"$tuple": [1]}]


def test_a_mutated_module_document_raises_checkpoint_error_or_loads():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.ModuleList([nn.ReLU()]))
    model.tag = {"act": F.relu, "dtype": bp.float32, "shape": bp.Size([1])}
    model[0].again = model[1]
    buffer = io.BytesIO()
    save({"model": model}, buffer)
    length = int.from_bytes(buffer.getvalue()[:8], "little")
    header = json.loads(buffer.getvalue()[8:8 + length])
    places = positions(json.loads(header["__metadata__"][FORMAT_KEY])["tree"])
    rng = random.Random(0)
    outcomes = set()
    for path in rng.sample(places, min(len(places), 60)):
        for junk in rng.sample(JUNK, 5):
            def edit(document: dict, path: tuple = path, junk: Any = junk) -> None:
                node = document["tree"]
                for part in path[:-1]:
                    node = node[part]
                if path:
                    node[path[-1]] = junk
                else:
                    document["tree"] = junk

            try:
                load(io.BytesIO(resigned(buffer.getvalue(), edit)))
                outcomes.add("loaded")
            except CheckpointError as err:
                assert str(err).startswith("load: <BytesIO> "), err
                outcomes.add("raised")
    assert outcomes == {"loaded", "raised"}


@dataclasses.dataclass(frozen=True)
class Config:
    width: int = 3
    names: tuple = ("a",)


class Configured(nn.Module):
    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.fc = nn.Linear(config.width, 1)


def test_a_dataclass_config_comes_back_when_its_class_is_allowed():
    model = Configured(Config(4, ("x", "y")))
    buffer = io.BytesIO()
    save(model, buffer)
    buffer.seek(0)
    assert serialization.get_unsafe_globals_in_checkpoint(buffer) == [
        f"{Configured.__module__}.Configured", f"{Config.__module__}.Config"]
    buffer.seek(0)
    with serialization.safe_globals([Configured, Config]):
        loaded = load(buffer)
    assert loaded.config == Config(4, ("x", "y")) and loaded.fc.in_features == 4


def test_our_own_model_loads_in_a_process_that_never_imported_it(tmp_path):
    # backprop.models is imported here only to save; the loading process imports backprop
    # alone, so the class must come from our own fixed list, not from a name in the file.
    from backprop.models.gpt import GPT, GPTConfig

    bp.manual_seed(0)
    model = GPT(GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8)).eval()
    path = tmp_path / "gpt.pt"
    save(model, path)
    tokens = bp.randint(0, 11, (2, 5))
    expected = model(tokens).detach().numpy()
    np.save(tmp_path / "tokens.npy", tokens.numpy())
    script = ("import sys, numpy as np, backprop as bp\n"
              "assert 'backprop.models.gpt' not in sys.modules\n"
              f"m = bp.load({str(path)!r})\n"
              f"t = bp.tensor(np.load({str(tmp_path / 'tokens.npy')!r}, allow_pickle=False))\n"
              "print(type(m).__module__, type(m.config).__name__, m.config.n_embd)\n"
              f"np.save({str(tmp_path / 'out.npy')!r}, m(t).detach().numpy())\n")
    src = pathlib.Path(bp.__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True,
                            text=True,
                            env={**os.environ, "PYTHONPATH": str(src)}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["backprop.models.gpt", "GPTConfig", "8"]
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), expected)


@dataclasses.dataclass
class Loop:
    again: Any = None


def test_dunder_attributes_and_self_holding_dataclasses_are_refused():
    model = nn.Linear(1, 1)
    model.__dict__["__magic__"] = 1
    with pytest.raises(TypeError, match=r"obj has the attribute '__magic__'"):
        save(model, io.BytesIO())
    loop = Loop()
    loop.again = loop
    with pytest.raises(ValueError, match="nests dataclasses more than 100 deep"):
        save({"config": loop}, io.BytesIO())
