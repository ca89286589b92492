"""The ``Module`` API as a PyTorch user relies on it: registration, traversal order and
deduplication, buffers, ``state_dict`` round trips and their errors, modes, hooks (full backward
hooks against PyTorch's), dtype conversion and the printed tree.

Where a structure exists in both libraries, the same model is built in each and names, orders and
printed text are compared directly.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop import nn


def build_small_cnn(lib: Any) -> Any:
    """The same small model in bp or torch (``lib`` is ``bp`` or ``torch``)."""
    n = lib.nn
    return n.Sequential(
        n.Conv2d(3, 8, kernel_size=3, padding=1, bias=False),
        n.BatchNorm2d(8),
        n.ReLU(inplace=True),
        n.MaxPool2d(2),
        n.Conv2d(8, 4, 3, stride=2, padding="same" if False else 1, groups=2,
                 padding_mode="reflect"),
        n.Flatten(),
        n.Dropout(0.25),
        n.Linear(4 * 2 * 2, 10),
        n.LogSoftmax(dim=1),
    )


def build_nested(lib: Any) -> Any:
    """Nested containers, a shared (tied) layer and a module registered twice."""
    n = lib.nn

    class Block(n.Module):
        def __init__(self, hidden: int) -> None:
            super().__init__()
            self.norm = n.LayerNorm(6)
            self.attn = n.MultiheadAttention(6, 2, batch_first=True)
            self.mlp = n.Sequential(n.Linear(6, hidden), n.GELU(approximate="tanh"),
                                    n.Linear(hidden, 6))

    class Net(n.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = n.Embedding(20, 6, padding_idx=0)
            self.blocks = n.ModuleList([Block(12), Block(8)])
            self.heads = n.ModuleDict({"cls": n.Linear(6, 3), "reg": n.Linear(6, 1, bias=False)})
            self.head_alias = self.heads["cls"]
            self.out = n.Linear(6, 20, bias=False)
            self.out.weight = self.embed.weight  # tied
            self.gn = n.GroupNorm(2, 6, affine=False)
            self.rms = n.RMSNorm([3, 6], eps=1e-6)

    return Net()


# -- registration ------------------------------------------------------------------------------

class TwoLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(3, 4)
        self.scale = nn.Parameter(bp.ones(4))
        self.register_buffer("steps", bp.zeros(1))
        self.register_buffer("cache", bp.zeros(2), persistent=False)
        self.second = nn.Linear(4, 2)
        self.plain = bp.ones(3)  # a plain tensor attribute is neither parameter nor buffer

    def forward(self, x: bp.Tensor) -> bp.Tensor:
        return self.second(self.first(x).relu() * self.scale)


def test_parameters_and_buffers_are_registered_in_order() -> None:
    m = TwoLayer()
    assert [name for name, _ in m.named_parameters()] == [
        "scale", "first.weight", "first.bias", "second.weight", "second.bias"]
    assert [name for name, _ in m.named_buffers()] == ["steps", "cache"]
    assert list(m.state_dict()) == ["scale", "steps", "first.weight", "first.bias",
                                    "second.weight", "second.bias"]
    assert [name for name, _ in m.named_children()] == ["first", "second"]
    assert m.scale is m._parameters["scale"] and m.first is m._modules["first"]


def test_parameter_order_matches_torch(torch: Any) -> None:
    ours, theirs = build_nested(bp), build_nested(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert ([tuple(p.shape) for p in ours.parameters()]
            == [tuple(p.shape) for p in theirs.parameters()])
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert ([type(m).__name__ for m in ours.modules()]
            == [type(m).__name__ for m in theirs.modules()])
    cnn_ours, cnn_theirs = build_small_cnn(bp), build_small_cnn(torch)
    assert list(cnn_ours.state_dict()) == list(cnn_theirs.state_dict())
    assert [n for n, _ in cnn_ours.named_buffers()] == [n for n, _ in cnn_theirs.named_buffers()]


def test_shared_parameters_and_modules_come_once() -> None:
    net = build_nested(bp)
    names = [n for n, _ in net.named_parameters()]
    assert "embed.weight" in names and "out.weight" not in names  # tied weight listed once
    assert len(names) == len({id(p) for p in net.parameters()})
    everything = [n for n, _ in net.named_parameters(remove_duplicate=False)]
    assert "out.weight" in everything
    module_names = [n for n, _ in net.named_modules()]
    assert "heads.cls" in module_names and "head_alias" not in module_names
    # named_children dedups only among direct children: the alias of a grandchild stays.
    assert [n for n, _ in net.named_children()] == ["embed", "blocks", "heads", "head_alias",
                                                    "out", "gn", "rms"]


def test_named_parameters_without_dedup_matches_torch(torch: Any) -> None:
    ours, theirs = build_nested(bp), build_nested(torch)
    assert ([n for n, _ in ours.named_parameters(remove_duplicate=False)]
            == [n for n, _ in theirs.named_parameters(remove_duplicate=False)])


def test_non_recursive_and_prefixed_traversal() -> None:
    m = TwoLayer()
    assert [n for n, _ in m.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in m.named_parameters(prefix="model")][:2] == ["model.scale",
                                                                      "model.first.weight"]
    assert m.get_submodule("first") is m.first and m.get_submodule("") is m
    with pytest.raises(AttributeError, match="has no submodule 'third'"):
        m.get_submodule("third")


def test_reassigning_and_deleting_attributes() -> None:
    m = TwoLayer()
    m.first = nn.Identity()  # a module replaces a module
    assert isinstance(m._modules["first"], nn.Identity)
    m.second = None  # an optional child slot
    assert m._modules["second"] is None and m.second is None
    assert [n for n, _ in m.named_parameters()] == ["scale"]
    m.steps = bp.ones(1)  # a tensor into a buffer slot stays a buffer
    assert m._buffers["steps"] is m.steps
    del m.scale
    assert "scale" not in m._parameters and not hasattr(m, "scale")
    m.scale = bp.ones(4)  # after deletion: a plain attribute
    assert "scale" not in m._parameters


def build_surgery(lib: Any) -> Any:
    """A small ResNet-like model, then the surgery real programs do: replace the head, a
    parameter, a buffer and a block in place (issue 16: a reassigned child moved to the end)."""
    n = lib.nn

    class Net(n.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = n.Conv2d(1, 2, 3, padding=1, bias=False)
            self.bn1 = n.BatchNorm2d(2)
            self.layer1 = n.Sequential(n.Conv2d(2, 2, 3, padding=1), n.ReLU())
            self.scale = n.Parameter(lib.ones(2))
            self.register_buffer("steps", lib.zeros(1))
            self.register_buffer("cache", lib.zeros(2), persistent=False)
            self.pool = n.AdaptiveAvgPool2d(1)
            self.fc = n.Linear(2, 10)

        def forward(self, x: Any) -> Any:
            x = self.layer1(self.bn1(self.conv1(x)) * self.scale.reshape(1, 2, 1, 1))
            return self.fc(self.pool(x).flatten(1))

    net = Net()
    net.conv1 = n.Conv2d(1, 2, 3, padding=1, bias=True)  # a child replaced by a child
    net.fc = n.Linear(2, 3)
    net.scale = n.Parameter(lib.full((2,), 2.0))  # a parameter replaced by a parameter
    net.steps = lib.ones(1)  # a buffer slot keeps its place and its persistence
    net.register_buffer("cache", lib.ones(2), persistent=False)  # re-registered in place
    net.register_parameter("scale", n.Parameter(lib.full((2,), 3.0)))
    net.add_module("bn1", n.BatchNorm2d(2, affine=False))
    net.layer1[0] = n.Conv2d(2, 2, 1)  # Sequential.__setitem__ keeps the block's order
    return net


def test_reassigning_keeps_the_place_like_torch(torch: Any) -> None:
    ours, theirs = build_surgery(bp), build_surgery(torch)
    assert ([n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
            == ["conv1", "bn1", "layer1", "pool", "fc"])
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(ours.state_dict())[:4] == ["scale", "steps", "conv1.weight", "conv1.bias"]
    assert repr(ours) == repr(theirs)
    # Our state dict loads into PyTorch's model by name, and both compute the same numbers.
    ours.double()
    theirs.double().load_state_dict({k: torch.from_numpy(v.numpy().copy())
                                     for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4))
    ours_x, theirs_x = bp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(ours_x).pow(2).sum().backward()
    theirs(theirs_x).pow(2).sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-10)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)  # conv1.bias before batch norm: 0 in theory


def test_non_persistent_buffer_like_torch(torch: Any) -> None:
    ours, theirs = build_surgery(bp), build_surgery(torch)
    assert "cache" in dict(ours.named_buffers()) and "cache" not in ours.state_dict()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    result = ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert repr(result) == repr(theirs.load_state_dict(theirs.state_dict()))
    ours.to(bp.float64).to("strict:0")  # still moved and cast with the module
    assert ours.cache.dtype == bp.float64 and ours.cache.device == bp.device("strict:0")
    ours.register_buffer("cache", bp.ones(2))  # re-registered as persistent: saved
    assert list(ours.state_dict())[:3] == ["scale", "steps", "cache"]


@pytest.mark.parametrize("action,error,match", [
    (lambda m: setattr(m, "scale", bp.ones(4)), TypeError, "cannot assign Tensor as parameter"),
    (lambda m: setattr(m, "first", bp.ones(4)), TypeError, "as child module 'first'"),
    (lambda m: setattr(m, "steps", 3.0), TypeError, "cannot assign float as buffer 'steps'"),
    (lambda m: m.register_parameter("w", bp.ones(2)), TypeError, "must be a bp.nn.Parameter"),
    (lambda m: m.register_buffer("b", np.ones(2)), TypeError, "must be a Tensor or None"),
    (lambda m: m.add_module("c", bp.ones(2)), TypeError, "must be a Module or None"),
])
def test_registration_errors(action: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        action(TwoLayer())


def test_assignment_before_init_is_explained() -> None:
    class Forgetful(nn.Module):
        def __init__(self) -> None:
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="call super\\(\\).__init__\\(\\) first"):
        Forgetful()


# -- buffers and state_dict ---------------------------------------------------------------------

def test_non_persistent_buffers() -> None:
    m = TwoLayer()
    assert "cache" in dict(m.named_buffers()) and "cache" not in m.state_dict()
    m.register_buffer("cache", bp.ones(2))  # re-registering as persistent
    assert "cache" in m.state_dict()


def test_state_dict_is_detached_and_shares_storage() -> None:
    m = TwoLayer()
    state = m.state_dict()
    assert not state["first.weight"].requires_grad
    state["first.weight"]._data[0, 0] = 42.0
    assert m.first.weight._data[0, 0] == 42.0
    kept = m.state_dict(keep_vars=True)
    assert kept["first.weight"] is m.first.weight


def test_load_state_dict_round_trip() -> None:
    source, target = TwoLayer(), TwoLayer()
    source.steps.fill_(7.0)
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    weight = target.first.weight
    target.load_state_dict(source.state_dict())
    assert target.first.weight is weight  # values copied into the existing parameters
    assert target.first.weight._data is not source.first.weight._data


def test_load_state_dict_accepts_numpy_arrays_and_torch_checkpoints(torch: Any) -> None:
    ours, theirs = build_small_cnn(bp).double(), build_small_cnn(torch).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[name].numpy(), value.numpy())
    assert ours.state_dict()["1.num_batches_tracked"].dtype == bp.int64


def test_load_state_dict_strict_errors_name_the_keys() -> None:
    m = TwoLayer()
    state = m.state_dict()
    del state["first.bias"]
    state["extra.weight"] = bp.zeros(2)
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(state)
    message = str(info.value)
    assert "missing keys: 'first.bias'" in message
    assert "unexpected keys: 'extra.weight'" in message
    result = m.load_state_dict(state, strict=False)
    assert result.missing_keys == ["first.bias"] and result.unexpected_keys == ["extra.weight"]
    missing, unexpected = result  # unpacks like PyTorch's named tuple
    assert (missing, unexpected) == (["first.bias"], ["extra.weight"])


def test_load_state_dict_result_prints_like_torch(torch: Any) -> None:
    ours, theirs = bp.nn.Linear(2, 1), torch.nn.Linear(2, 1)
    for state in ({"weight": np.zeros((1, 2))}, {"weight": np.zeros((1, 2)), "extra": np.ones(1)},
                  {"weight": np.zeros((1, 2)), "bias": np.zeros(1)}):
        got = ours.load_state_dict(state, strict=False)
        expected = theirs.load_state_dict({k: torch.tensor(v, dtype=torch.float32)
                                           for k, v in state.items()}, strict=False)
        assert (repr(got), str(got)) == (repr(expected), str(expected))
        assert got == tuple(expected) and got._fields == expected._fields
    assert repr(got) == "<All keys matched successfully>"
    assert str(ours.load_state_dict({}, strict=False)) == (
        "_IncompatibleKeys(missing_keys=['weight', 'bias'], unexpected_keys=[])")


def test_load_state_dict_shape_mismatch_is_an_error_even_when_not_strict() -> None:
    m = TwoLayer()
    state = m.state_dict()
    state["second.weight"] = bp.zeros(3, 4)
    before = m.second.weight.detach().numpy().copy()
    for strict in (True, False):
        with pytest.raises(RuntimeError, match=r"size mismatch for second.weight: copying a "
                                               r"param with shape \(3, 4\) from the checkpoint, "
                                               r"the shape in the current model is \(2, 4\)"):
            m.load_state_dict(state, strict=strict)
    np.testing.assert_array_equal(m.second.weight.detach().numpy(), before)  # nothing loaded


# -- modes, grads, dtype ------------------------------------------------------------------------

def test_train_and_eval_recurse() -> None:
    net = build_small_cnn(bp)
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net[6].eval()  # one child only
    assert not net[6].training and net.training and net[7].training
    with pytest.raises(ValueError, match="mode must be a bool"):
        net.train("yes")


def test_zero_grad_and_requires_grad_() -> None:
    m = TwoLayer()
    m(bp.ones(5, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    grad = m.first.weight.grad
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in m.parameters())
    assert m.first.weight.grad is not grad or not grad.numpy().any()
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())


def test_apply_visits_children_first_like_torch(torch: Any) -> None:
    ours, theirs = [], []
    build_nested(bp).apply(lambda m: ours.append(type(m).__name__))
    build_nested(torch).apply(lambda m: theirs.append(type(m).__name__))
    assert ours == theirs


def test_apply_for_custom_initialisation() -> None:
    def init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    m = TwoLayer().apply(init_weights)
    assert (m.first.weight.detach().numpy() == 1).all()
    assert (m.second.bias.detach().numpy() == 0).all()


def test_to_float64_casts_floating_parameters_buffers_and_grads() -> None:
    net = build_small_cnn(bp)
    net[7].weight.grad = bp.ones(10, 16)
    weight = net[7].weight
    assert net.to(bp.float64) is net
    assert net[7].weight is weight  # same Parameter objects
    assert all(p.dtype == bp.float64 for p in net.parameters())
    assert net[1].running_mean.dtype == bp.float64
    assert net[1].num_batches_tracked.dtype == bp.int64  # integer buffers are left alone
    assert net[7].weight.grad.dtype == bp.float64
    out = net.eval()(bp.randn(2, 3, 8, 8, dtype=bp.float64))
    assert out.dtype == bp.float64
    assert net.float()[7].weight.dtype == bp.float32
    assert net.double()[0].weight.dtype == bp.float64
    assert net.to("cpu") is net
    with pytest.raises(TypeError, match="only floating-point dtypes"):
        net.to(bp.int32)


def test_constructing_with_a_dtype() -> None:
    layer = nn.Linear(2, 3, dtype=bp.float64)
    assert layer.weight.dtype == bp.float64 and layer.bias.dtype == bp.float64
    bn = nn.BatchNorm1d(3, dtype=bp.float64)
    assert bn.running_var.dtype == bp.float64 and bn.num_batches_tracked.dtype == bp.int64


# -- hooks ----------------------------------------------------------------------------------------

def test_forward_pre_hook_and_forward_hook_can_replace_values() -> None:
    layer = nn.Linear(2, 2, dtype=bp.float64)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = layer.register_forward_hook(lambda m, args, out: calls.append(args[0].sum().item()))
    x = bp.ones(1, 2, dtype=bp.float64)
    out = layer(x)
    np.testing.assert_allclose(out.detach().numpy()[0], layer.bias.detach().numpy())
    assert calls == [0.0]  # the forward hook saw the replaced input
    pre.remove()
    layer(x)
    assert calls == [0.0, 2.0]
    post.remove()
    layer(x)
    assert calls == [0.0, 2.0]
    replace = layer.register_forward_hook(lambda m, args, out: out * 0 + 5)
    assert layer(x).tolist() == [[5.0, 5.0]]
    replace.remove()
    pre2 = layer.register_forward_pre_hook(lambda m, args: args[0] * 2)  # a bare value works
    np.testing.assert_allclose(layer(x).detach().numpy(),
                               layer.forward(x * 2).detach().numpy())
    pre2.remove()


def test_hook_handle_as_context_manager() -> None:
    layer, seen = nn.Identity(), []
    with layer.register_forward_hook(lambda m, a, o: seen.append(1)):
        layer(bp.ones(1))
    layer(bp.ones(1))
    assert seen == [1]


def _hook_records(lib: Any, module: Any, inputs: list,
                  upstream: np.ndarray) -> tuple[list, list]:
    records = []

    def to_numpy(g: Any) -> Any:
        return None if g is None else g.detach().numpy().copy()

    def hook(m: Any, grad_input: tuple, grad_output: tuple) -> None:
        records.append(([to_numpy(g) for g in grad_input], [to_numpy(g) for g in grad_output]))

    module.register_full_backward_hook(hook)
    out = module(*inputs)
    out = out[0] if isinstance(out, tuple) else out
    (out * lib.tensor(upstream)).sum().backward()
    grads = [to_numpy(x.grad) for x in inputs]
    return records, grads


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")  # torch's, for no-grad inputs
@pytest.mark.parametrize("case", ["linear", "bilinear", "input-without-grad", "sequential"])
def test_full_backward_hook_matches_torch(torch: Any, case: str) -> None:
    rng = np.random.default_rng(0)

    def make(lib: Any) -> Any:
        n = lib.nn
        if case == "bilinear":
            return n.Bilinear(3, 2, 4)
        if case == "sequential":
            return n.Sequential(n.Linear(3, 5), n.Tanh(), n.Linear(5, 4))
        return n.Linear(3, 4)

    ours, theirs = make(bp).double(), make(torch).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x1, x2 = rng.standard_normal((2, 3)), rng.standard_normal((2, 2))
    upstream = rng.standard_normal((2, 4))
    needs_grad = case != "input-without-grad"

    def inputs(lib: Any) -> list:
        first = lib.tensor(x1, requires_grad=needs_grad)
        return [first, lib.tensor(x2, requires_grad=True)] if case == "bilinear" else [first]

    our_records, our_grads = _hook_records(bp, ours, inputs(bp), upstream)
    their_records, their_grads = _hook_records(torch, theirs, inputs(torch), upstream)
    assert len(our_records) == len(their_records) == 1
    for ours_part, theirs_part in zip(our_records[0], their_records[0]):
        assert len(ours_part) == len(theirs_part)
        for a, b in zip(ours_part, theirs_part):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-12)
    for a, b in zip(our_grads, their_grads):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_full_backward_hook_can_replace_grad_input_and_be_removed() -> None:
    layer = nn.Linear(2, 2, dtype=bp.float64)
    handle = layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    x = bp.ones(1, 2, dtype=bp.float64, requires_grad=True)
    layer(x).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0]]
    assert layer.weight.grad is not None  # parameter gradients are unaffected
    handle.remove()
    x.grad = None
    layer(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), layer.weight.detach().numpy().sum(0,
                                                                                 keepdims=True))


# -- printing -----------------------------------------------------------------------------------

@pytest.mark.parametrize("builder", [build_small_cnn, build_nested], ids=["cnn", "nested"])
def test_repr_matches_torch(torch: Any, builder: Any) -> None:
    assert repr(builder(bp)) == repr(builder(torch))


def test_module_list_repr_folds_repeats_like_torch(torch: Any) -> None:
    def make(lib: Any) -> Any:
        n = lib.nn
        return n.ModuleList([n.Linear(2, 2), n.Linear(2, 2), n.Linear(2, 2), n.ReLU(),
                             n.Linear(2, 2)])

    assert repr(make(bp)) == repr(make(torch))


def test_repr_of_an_empty_module_and_ordered_dict_sequential(torch: Any) -> None:
    assert repr(nn.Module()) == "Module()"

    def make(lib: Any) -> Any:
        return lib.nn.Sequential(OrderedDict([("fc", lib.nn.Linear(2, 2)),
                                              ("act", lib.nn.ReLU()),
                                              ("inner", lib.nn.Sequential())]))

    assert repr(make(bp)) == repr(make(torch))
