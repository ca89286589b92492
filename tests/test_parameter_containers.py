"""``nn.ParameterList`` and ``nn.ParameterDict`` against PyTorch's: the same container is built
and edited in both libraries, and the parameter names, ``state_dict`` keys, printed text,
indexing and errors are compared; a model keeping its weights in them trains to PyTorch's
numbers from the same start (float64 and float32).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop import nn


def printed(module: Any) -> str:
    return repr(module).replace("torch.", "")  # PyTorch prints torch.float32, torch.FloatTensor


def names(module: Any) -> list[tuple[str, tuple[int, ...]]]:
    return [(name, tuple(p.shape)) for name, p in module.named_parameters()]


def build_list(lib: Any) -> Any:
    """A ParameterList grown every way PyTorch allows, with a non-tensor entry."""
    weights = lib.nn.ParameterList([lib.ones(2, 3), lib.nn.Parameter(lib.zeros(3))])
    weights.append(lib.ones(4))  # a plain tensor becomes a Parameter
    weights.extend([lib.zeros(1, 1)])
    weights += [lib.ones(()), lib.zeros(2, dtype=lib.float64)]
    weights.append("a note")  # kept as it is, outside the parameters
    weights[1] = lib.full((5,), 2.0)
    weights[-3] = lib.nn.Parameter(lib.ones(2), requires_grad=False)
    return weights


def build_dict(lib: Any) -> Any:
    """A ParameterDict from a plain dict (added sorted), then an OrderedDict and pairs (in their
    order), edited as a dict is."""
    scales = lib.nn.ParameterDict({"zeta": lib.ones(2), "alpha": lib.zeros(3)})
    scales.update(OrderedDict([("y", lib.ones(1)), ("x", lib.ones(2, 2))]))
    scales.update([("m", lib.nn.Parameter(lib.zeros(4, dtype=lib.float64)))])
    scales["alpha"] = lib.ones(6)  # replaced where it is
    scales["note"] = 3
    scales.setdefault("d", lib.ones(1))
    del scales["y"]
    return scales


def test_parameter_list_matches_torch(torch32: Any) -> None:
    torch = torch32  # float32 by default, as we are
    ours, theirs = build_list(bp), build_list(torch)
    assert names(ours) == names(theirs) == [("0", (2, 3)), ("1", (5,)), ("2", (4,)),
                                            ("3", (1, 1)), ("4", (2,)), ("5", (2,))]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert printed(ours) == printed(theirs)
    assert len(ours) == len(theirs) == 7 and ours[6] == theirs[6] == "a note"
    assert [type(p).__name__ for p in ours] == [type(p).__name__ for p in theirs]
    assert all(isinstance(p, nn.Parameter) for p in list(ours)[:6])
    assert [p.requires_grad for p in list(ours)[:6]] == [p.requires_grad for p in list(theirs)[:6]]
    assert ours[-1] is ours[6] and ours[0] is getattr(ours, "0")
    assert printed(ours[1:4]) == printed(theirs[1:4]) and ours[1:4][0] is ours[1]
    assert printed(ours[::-2]) == printed(theirs[::-2])
    assert "0" not in dir(ours) and "0" not in dir(theirs)
    assert printed(nn.ParameterList()) == printed(torch.nn.ParameterList()) == "ParameterList()"
    one = (nn.ParameterList([bp.ones(2)]), torch.nn.ParameterList([torch.ones(2)]))
    assert printed(one[0]) == printed(one[1])


def test_parameter_dict_matches_torch(torch32: Any) -> None:
    torch = torch32
    ours, theirs = build_dict(bp), build_dict(torch)
    assert list(ours.keys()) == list(theirs.keys()) == ["alpha", "zeta", "x", "m", "note", "d"]
    assert names(ours) == names(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert printed(ours) == printed(theirs)
    assert list(reversed(ours)) == list(reversed(theirs))
    assert len(ours) == 6 and "x" in ours and "y" not in ours and ours.get("y", 7) == 7
    assert ours["note"] == 3 and ours.get("x") is ours["x"]
    assert [k for k, _ in ours.items()] == list(ours) == [k for k, _ in theirs.items()]
    assert ours.pop("m") is not None and theirs.pop("m") is not None
    assert ours.popitem()[0] == theirs.popitem()[0] == "d"
    assert names(ours) == names(theirs)
    copied, copied_theirs = ours.copy(), theirs.copy()
    assert copied["x"] is ours["x"] and printed(copied) == printed(copied_theirs)
    merged = ours | nn.ParameterDict({"extra": bp.ones(1)})
    merged_theirs = theirs | torch.nn.ParameterDict({"extra": torch.ones(1)})
    assert printed(merged) == printed(merged_theirs) and "extra" not in ours
    ours |= nn.ParameterDict({"extra": bp.ones(1)})
    assert list(ours) == ["alpha", "zeta", "x", "note", "extra"]
    assert list(ours.fromkeys(["p", "q"], bp.ones(1))) == ["p", "q"]
    ours.clear()
    assert len(ours) == 0 and list(ours.parameters()) == [] and printed(ours) == "ParameterDict()"


@pytest.mark.parametrize("action,error,match", [
    (lambda: nn.ParameterList([bp.ones(2)])[1], IndexError,
     "ParameterList: index 1 is out of range for 1 entries"),
    (lambda: nn.ParameterList([bp.ones(2)])["0"], TypeError,
     "ParameterList: indices must be integers or slices, got str"),
    (lambda: nn.ParameterList().extend(bp.ones(2)), TypeError,
     "ParameterList.extend: values must be an iterable of parameters, got Tensor"),
    (lambda: nn.ParameterList([bp.ones(2)])(bp.ones(2)), RuntimeError,
     "ParameterList should not be called"),
    (lambda: nn.ParameterDict({"a": bp.ones(1)})["b"], KeyError,
     r"ParameterDict has no parameter 'b' \(keys: \['a'\]\)"),
    (lambda: nn.ParameterDict().__setitem__(1, bp.ones(1)), TypeError,
     "ParameterDict: keys must be strings, got int 1"),
    (lambda: nn.ParameterDict(5), TypeError, "ParameterDict.update: parameters must be a "
     "mapping or an iterable of \\(key, value\\) pairs, got int"),
    (lambda: nn.ParameterDict([("a", bp.ones(1), 3)]), ValueError,
     "ParameterDict.update: element #0 must be a \\(key, value\\) pair"),
    (lambda: nn.ParameterDict().popitem(), KeyError, "the dictionary is empty"),
    (lambda: nn.ParameterDict()(bp.ones(2)), RuntimeError, "ParameterDict should not be called"),
])
def test_errors_name_the_container(action: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        action()


def build_mixture(lib: Any, dtype: Any) -> Any:
    """A model whose weights live in a ParameterList and a ParameterDict."""
    n = lib.nn

    class Mixture(n.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = n.ParameterList([lib.zeros(3, 4, dtype=dtype),
                                           lib.zeros(4, 2, dtype=dtype)])
            self.gates = n.ParameterDict({"out": lib.zeros(2, dtype=dtype),
                                          "in": lib.zeros(3, dtype=dtype)})

        def forward(self, x: Any) -> Any:
            x = x * self.gates["in"]
            for weight in self.layers:
                x = (x @ weight).tanh()
            return x * self.gates["out"]

    return Mixture()


@pytest.mark.parametrize("np_dtype,rtol", [(np.float64, 1e-10), (np.float32, 1e-5)],
                         ids=["float64", "float32"])
def test_training_through_the_containers_matches_torch(torch: Any, np_dtype: Any,
                                                       rtol: float) -> None:
    ours = build_mixture(bp, getattr(bp, np.dtype(np_dtype).name))
    theirs = build_mixture(torch, getattr(torch, np.dtype(np_dtype).name))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "layers.0", "layers.1", "gates.in", "gates.out"]
    rng = np.random.default_rng(0)
    theirs.load_state_dict({k: torch.from_numpy(rng.standard_normal(tuple(v.shape))
                                                .astype(np_dtype))
                            for k, v in theirs.state_dict().items()})
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((5, 3)).astype(np_dtype)
    ours_opt = bp.optim.SGD(ours.parameters(), lr=0.1)
    theirs_opt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(3):
        ours_opt.zero_grad(), theirs_opt.zero_grad()
        ours(bp.tensor(x)).pow(2).sum().backward()
        theirs(torch.tensor(x)).pow(2).sum().backward()
        for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert p.grad.dtype == getattr(bp, np.dtype(np_dtype).name)
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=rtol,
                                       err_msg=name)
        ours_opt.step(), theirs_opt.step()
    for name, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name].numpy(), value.numpy(), rtol=rtol,
                                   err_msg=name)
