"""The same computation on the CPU and on another device must agree: the checks behind
``test_device_strict.py`` (the CPU stand-in with CuPy's rules) and ``test_gpu.py`` (CuPy).

Each check runs an op-table row, a layer case or an optimizer in float64 on the CPU, then again
on ``device`` from the same values, and compares the outputs and gradients brought back to the
host. It also asserts that results and gradients stayed on the device.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import backprop as bp
import moduletable.spec as layers
from moduletable import CASES as LAYER_CASES
from optable import ROWS
from optable.spec import OpSpec, Sample

# Every row but ``ndarray @ Tensor``: a host array mixed into a device op is refused by design.
OP_CASES = [(row, sample) for row in ROWS for sample in row.samples(np.random.default_rng(0))
            if "__rmatmul__" not in row.aliases]

OPTIMIZERS = {
    "SGD": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "Adam": dict(lr=0.01, amsgrad=True),
    "AdamW": dict(lr=0.01, weight_decay=0.1),
    "RMSprop": dict(lr=0.01, momentum=0.5, centered=True),
    "Adagrad": dict(lr=0.1, lr_decay=0.01),
    "Adadelta": dict(lr=0.5, weight_decay=0.01),
    "Adamax": dict(lr=0.01, weight_decay=0.01),
    "NAdam": dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    "RAdam": dict(lr=0.01, weight_decay=0.01),
    "Rprop": dict(lr=0.05),
    "ASGD": dict(lr=0.1, lambd=0.01, t0=2),
    "Adafactor": dict(lr=0.05, weight_decay=0.01),
    "LBFGS": dict(max_iter=4, history_size=2, line_search_fn="strong_wolfe"),
}


def case_id(case: tuple[OpSpec, Sample]) -> str:
    row, sample = case
    return f"{row.name}-{sample.name or OP_CASES.index(case)}"


def _tensors(sample: Sample, device: Any) -> list[Any]:
    differentiable = sample.differentiable()
    args = []
    for i, a in enumerate(sample.args):
        if isinstance(a, np.ndarray):
            args.append(bp.tensor(a, device=device,
                                  requires_grad=i in differentiable and a.dtype.kind == "f"))
        else:
            args.append(a)
    return args


def _outputs(result: Any) -> list[Any]:
    items = list(result) if isinstance(result, (tuple, list)) else [result]
    return [o for o in items if isinstance(o, bp.Tensor)]


def _host(t: bp.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _run_row(row: OpSpec, sample: Sample, device: Any) -> tuple[list, list]:
    args = _tensors(sample, device)
    kwargs = sample.kwargs
    if device is not None and not any(isinstance(a, np.ndarray) for a in sample.args):
        kwargs = {**kwargs, "device": device}  # a factory (a window): it makes what it is told
    outs = _outputs(row.op(*args, **kwargs))
    rng = np.random.default_rng(1)
    terms = [(o * bp.tensor(rng.standard_normal(o.shape), device=o.device)).sum()
             for o in outs if o.requires_grad]
    if row.grad and terms:
        sum(terms[1:], terms[0]).backward()
    grads = [a.grad for a in args if isinstance(a, bp.Tensor) and a.requires_grad]
    return outs, grads


def check_op(row: OpSpec, sample: Sample, device: str, rtol: float = 1e-9) -> None:
    """Forward values and input gradients of one op-table sample on ``device`` vs the CPU."""
    expected_outs, expected_grads = _run_row(row, sample, None)
    outs, grads = _run_row(row, sample, device)
    assert len(outs) == len(expected_outs)
    for ours, ref in zip(outs, expected_outs):
        assert ours.device == device, f"{row.name}: result on {ours.device}, not {device}"
        np.testing.assert_allclose(_host(ours), _host(ref), rtol=rtol, atol=1e-12,
                                   err_msg=f"{row.name} forward on {device}")
    for ours, ref in zip(grads, expected_grads):
        if ref is None:
            assert ours is None
            continue
        assert ours.device == device, f"{row.name}: gradient on {ours.device}, not {device}"
        np.testing.assert_allclose(_host(ours), _host(ref), rtol=rtol, atol=1e-12,
                                   err_msg=f"{row.name} gradient on {device}")


class _OnDevice:
    """``bp`` as ``moduletable.spec.run`` uses it, making its tensors on one device."""

    def __init__(self, device: Any) -> None:
        self.device = device
        self.nn = bp.nn

    def tensor(self, value: Any, **kwargs: Any) -> bp.Tensor:
        return bp.tensor(value, **{"device": self.device, **kwargs})


def check_layer(case: layers.Case, device: str, rtol: float = 1e-9) -> None:
    """A layer's outputs, input gradients and parameter gradients on ``device`` vs the CPU."""
    bp.manual_seed(0)
    reference = case.build(bp).double()
    bp.manual_seed(0)
    module = case.build(bp).double()
    module.load_state_dict(reference.state_dict())
    module.to(device)
    for p in module.parameters():
        assert p.device == device
    expected_outs, expected_inputs = layers.run(_OnDevice(None), reference, case, 0)
    outs, inputs = layers.run(_OnDevice(device), module, case, 0)
    pairs = [(o, r, "output") for o, r in zip(outs, expected_outs)]
    pairs += [(i.grad, r.grad, "input gradient") for i, r in zip(inputs, expected_inputs)
              if isinstance(i, bp.Tensor)]
    pairs += [(p.grad, r.grad, f"gradient of {name}") for (name, p), r in
              zip(module.named_parameters(), reference.parameters())]
    pairs += [(b, r, f"buffer {name}") for (name, b), r in
              zip(module.named_buffers(), reference.buffers())]
    for ours, ref, what in pairs:
        if ref is None:
            assert ours is None, f"{case.id}: {what} is set on {device} only"
            continue
        assert ours.device == device, f"{case.id}: {what} on {ours.device}, not {device}"
        np.testing.assert_allclose(_host(ours), _host(ref), rtol=rtol, atol=1e-12,
                                   err_msg=f"{case.id}: {what} on {device}")


def check_optimizer(name: str, device: str, steps: int = 5) -> None:
    """Five steps of an optimizer on a small regression on ``device`` vs the CPU; its state
    must live on the device too."""
    rng = np.random.default_rng(0)
    x, y, w0 = rng.standard_normal((8, 3)), rng.standard_normal((8, 1)), rng.standard_normal((3, 1))
    results = []
    for where in (None, device):
        w = bp.tensor(w0, device=where, requires_grad=True)
        opt = getattr(bp.optim, name)([w], **OPTIMIZERS[name])
        xs, ys = bp.tensor(x, device=where), bp.tensor(y, device=where)

        def closure() -> bp.Tensor:   # LBFGS needs it; the others take it too
            opt.zero_grad()
            loss = ((xs @ w - ys) ** 2).mean()
            loss.backward()
            return loss

        for _ in range(steps):
            opt.step(closure)
        results.append(w)
        for entry in opt.state[w].values():
            for value in entry if isinstance(entry, list) else [entry]:   # LBFGS keeps lists
                if isinstance(value, bp.Tensor):
                    assert value.device == (where or "cpu"), f"{name} state on {value.device}"
    assert results[1].device == device
    np.testing.assert_allclose(_host(results[1]), _host(results[0]), rtol=1e-9,
                               err_msg=f"{name} on {device}")


def train_digits_cnn(device: str, epochs: int, folder: Any) -> list[dict[str, float]]:
    """``backprop train --model cnn --device DEVICE``: the history of each epoch (no timings)."""
    from backprop.train.config import TrainConfig
    from backprop.train.loop import train

    config = TrainConfig(model="cnn", epochs=epochs, out=str(folder / device.replace(":", "-")),
                         progress=False, device=device)
    history = train(config, log=lambda line: None).history
    return [{k: v for k, v in record.items() if k != "seconds"} for record in history]
