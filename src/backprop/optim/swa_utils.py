"""``optim.swa_utils``: stochastic weight averaging (Izmailov et al., 2018) and exponential moving
averages of a model's weights, as PyTorch's ``torch.optim.swa_utils``.

``AveragedModel`` keeps a copy of a model whose parameters are the running average (equal
weights by default, or an EMA) of the model's parameters at each ``update_parameters`` call;
``SWALR`` anneals the learning rate to a constant SWA rate; ``update_bn`` recomputes the batch
norm statistics of the averaged weights with one pass over the data.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import backend, creation, dtypes
from ..autograd import grad_mode
from ..capture.state import replayable
from ..nn.module import Module
from ..nn.modules.norm import _BatchNorm
from ..tensor import Tensor
from .lr_scheduler.base import LRScheduler, _per_group
from .optimizer import Optimizer, _bump_version, lerp_

__all__ = ["SWALR", "AveragedModel", "get_ema_avg_fn", "get_ema_multi_avg_fn", "get_swa_avg_fn",
           "get_swa_multi_avg_fn", "update_bn"]

ParamList = list[Tensor]


def _is_float(tensor: Tensor) -> bool:
    return tensor._data.dtype.kind in "fc"


def _assign(target: Tensor, value: Tensor) -> None:
    """Write ``value`` into ``target``'s array (cast to its dtype: a float into an integer buffer
    truncates, as PyTorch's ``copy_`` does)."""
    target._data[...] = value._data


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable[[ParamList, ParamList, Any], None]:
    """An in-place exponential moving average for ``AveragedModel(multi_avg_fn=...)``:
    :math:`\\bar p \\leftarrow \\text{decay}\\, \\bar p + (1 - \\text{decay})\\, p`.

    >>> import backprop as bp
    >>> from backprop.optim.swa_utils import get_ema_multi_avg_fn
    >>> ema, current = bp.tensor([0.0, 10.0]), bp.tensor([1.0, 0.0])
    >>> get_ema_multi_avg_fn(0.5)([ema], [current], 1); ema.tolist()
    [0.5, 5.0]
    """
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"get_ema_multi_avg_fn: invalid decay value {decay} provided; please "
                         "provide a value in [0, 1] range")

    def ema_update(ema_param_list: ParamList, current_param_list: ParamList, _: Any) -> None:
        for ema, current in zip(ema_param_list, current_param_list):
            if _is_float(ema):
                lerp_(ema._data, current._data, 1.0 - decay, np.empty_like(ema._data))
            else:
                _assign(ema, ema * decay + current * (1.0 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable[[ParamList, ParamList, Any], None]:
    """The in-place equal-weight average for ``AveragedModel(multi_avg_fn=...)``: after
    ``n`` models, :math:`\\bar p \\leftarrow \\bar p + (p - \\bar p) / (n + 1)`.

    >>> import backprop as bp
    >>> from backprop.optim.swa_utils import get_swa_multi_avg_fn
    >>> avg, current = bp.tensor([1.0]), bp.tensor([4.0])
    >>> get_swa_multi_avg_fn()([avg], [current], 2); avg.tolist()
    [2.0]
    """

    def swa_update(averaged_param_list: ParamList, current_param_list: ParamList,
                   num_averaged: Any) -> None:
        for averaged, current in zip(averaged_param_list, current_param_list):
            if _is_float(averaged):
                diff = current._data - averaged._data
                if isinstance(num_averaged, Tensor):
                    diff /= num_averaged._data + 1
                else:
                    diff *= 1.0 / (num_averaged + 1)
                averaged._data += diff
            else:
                _assign(averaged, get_swa_avg_fn()(averaged, current, num_averaged))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable[[Tensor, Tensor, Any], Tensor]:
    """The exponential moving average for ``AveragedModel(avg_fn=...)``, one parameter at a
    time: returns :math:`\\text{decay}\\, \\bar p + (1 - \\text{decay})\\, p`.

    >>> import backprop as bp
    >>> from backprop.optim.swa_utils import get_ema_avg_fn
    >>> get_ema_avg_fn(0.5)(bp.tensor([0.0]), bp.tensor([1.0]), 1).tolist()
    [0.5]
    """
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"get_ema_avg_fn: invalid decay value {decay} provided; please "
                         "provide a value in [0, 1] range")

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable[[Tensor, Tensor, Any], Tensor]:
    """The equal-weight average for ``AveragedModel(avg_fn=...)``, one parameter at a time:
    returns :math:`\\bar p + (p - \\bar p) / (n + 1)`.

    >>> import backprop as bp
    >>> from backprop.optim.swa_utils import get_swa_avg_fn
    >>> get_swa_avg_fn()(bp.tensor([1.0]), bp.tensor([4.0]), 2).tolist()
    [2.0]
    """

    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    r"""A copy of ``model`` whose parameters average those ``model`` had at each
    ``update_parameters(model)`` call (SWA's equal weights by default; an EMA with
    ``multi_avg_fn=get_ema_multi_avg_fn(decay)`` or ``avg_fn=get_ema_avg_fn(decay)``).

    The first update copies the model; the ``n``-th after it combines the average with the
    model's values through ``multi_avg_fn(averaged_list, model_list, n_averaged)`` (in place) or
    ``avg_fn(averaged, model, n_averaged)`` (returning the new value). Buffers are averaged too
    with ``use_buffers=True``; otherwise they are copied from the model at each update. The
    number of updates is the buffer ``n_averaged`` (an int64 scalar, in the state dict).
    Calling the averaged model calls the copy.

    Args:
        model: the module to average.
        device: where the copy lives (default: where the model is).
        avg_fn: per-tensor averaging function.
        multi_avg_fn: in-place averaging function over lists of tensors.
        use_buffers: average the buffers as well as the parameters (default False).

    >>> import backprop as bp
    >>> from backprop.optim.swa_utils import AveragedModel
    >>> model = bp.nn.Linear(1, 1, bias=False)
    >>> swa = AveragedModel(model)
    >>> for value in (1.0, 2.0, 6.0):
    ...     with bp.no_grad():
    ...         _ = model.weight.fill_(value)
    ...     swa.update_parameters(model)
    >>> swa.module.weight.item(), swa.n_averaged.item()
    (3.0, 3)
    """

    n_averaged: Tensor

    def __init__(self, model: Module, device: Any = None,
                 avg_fn: Callable[[Tensor, Tensor, Any], Tensor] | None = None,
                 multi_avg_fn: Callable[[ParamList, ParamList, Any], None] | None = None,
                 use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: only one of avg_fn and multi_avg_fn should be "
                             "provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        # On ``device``, or the CPU when none is given (as PyTorch's, whatever the model's).
        self.register_buffer("n_averaged", creation.tensor(0, dtype=dtypes.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def _averaged(self, model: Module) -> tuple[list[Tensor], list[Tensor]]:
        if self.use_buffers:
            return ([*self.module.parameters(), *self.module.buffers()],
                    [*model.parameters(), *model.buffers()])
        return list(self.parameters()), list(model.parameters())

    @replayable  # Python state of the run: a captured step calls it again
    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters (and buffers, with ``use_buffers``) into the
        average, and count the update in ``n_averaged``."""
        averaged, current = self._averaged(model)
        if len(averaged) != len(current):
            raise ValueError(f"AveragedModel.update_parameters: the model has {len(current)} "
                             f"parameters{' and buffers' * self.use_buffers}, the averaged copy "
                             f"{len(averaged)}; pass the model this average was built from")
        n_averaged = int(backend.to_host(self.n_averaged._data))
        # The model's values on the copy's device, as plain tensors sharing no graph.
        on_device = [Tensor._wrap(backend.to_device(p._data, backend.device_of(a._data)))
                     for a, p in zip(averaged, current)]
        targets = [Tensor._wrap(a._data) for a in averaged]
        with grad_mode.no_grad():
            if n_averaged == 0:
                for target, value in zip(targets, on_device):
                    target._data[...] = value._data
            elif self.avg_fn is not None:
                count = Tensor._wrap(self.n_averaged._data)
                for target, value in zip(targets, on_device):
                    _assign(target, self.avg_fn(target, value, count))
            else:
                # The default is the equal-weight average, one tensor at a time (PyTorch's CPU
                # path: the same arithmetic as get_swa_avg_fn).
                average = self.multi_avg_fn or _swa_one_by_one
                average(targets, on_device, Tensor._wrap(self.n_averaged._data))
            if not self.use_buffers:
                # Buffers are not averaged: keep them in step with the model's.
                for mine, theirs in zip(self.module.buffers(), model.buffers()):
                    mine._data[...] = backend.to_device(theirs._data,
                                                        backend.device_of(mine._data))
        for a in averaged:
            _bump_version(a)
        self.n_averaged._data[...] = n_averaged + 1


def _swa_one_by_one(averaged_list: ParamList, current_list: ParamList, num_averaged: Any) -> None:
    average = get_swa_avg_fn()
    for averaged, current in zip(averaged_list, current_list):
        _assign(averaged, average(averaged, current, num_averaged))


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute the running mean and variance of every batch norm layer of ``model`` with one
    pass over ``loader`` (each batch, or its first element if it is a list or tuple, is fed to
    ``model`` in training mode): the statistics of averaged weights are not the average of the
    statistics. Each layer keeps a cumulative average over the pass (its ``momentum`` is
    ``None`` meanwhile); the model's training mode and the momenta are restored.

    >>> import backprop as bp
    >>> from backprop.optim.swa_utils import update_bn
    >>> model = bp.nn.BatchNorm1d(2)
    >>> update_bn([bp.tensor([[0.0, 1.0], [2.0, 5.0]])], model)
    >>> model.running_mean.tolist(), model.running_var.tolist()
    ([1.0, 3.0], [2.0, 8.0])
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    r"""Anneal each group's learning rate to ``swa_lr`` over ``anneal_epochs`` steps, then hold
    it (the schedule of stochastic weight averaging).

    At step :math:`s`, with :math:`t = \operatorname{clip}(s / \max(1, \text{anneal\_epochs}),
    0, 1)` and :math:`\alpha = (1 - \cos \pi t) / 2` (``"cos"``) or :math:`t` (``"linear"``),
    the rate is :math:`\alpha\, \text{swa\_lr} + (1 - \alpha)\, \eta_0`, computed recursively from
    the current rate as PyTorch does (so it composes with changes made by others).

    >>> import backprop as bp
    >>> from backprop import optim
    >>> from backprop.optim.swa_utils import SWALR
    >>> opt = optim.SGD([bp.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = SWALR(opt, swa_lr=0.1, anneal_epochs=2, anneal_strategy="linear")
    >>> lrs = []
    >>> for _ in range(3):
    ...     opt.step(); sched.step(); lrs.append(round(sched.get_last_lr()[0], 6))
    >>> lrs
    [0.55, 0.1, 0.1]
    """

    def __init__(self, optimizer: Optimizer, swa_lr: float, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        for value, group in zip(_per_group("SWALR: swa_lr", optimizer, swa_lr),
                                optimizer.param_groups):
            group["swa_lr"] = value
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"SWALR: anneal_strategy must be one of 'cos' or 'linear', "
                             f"instead got {anneal_strategy!r}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"SWALR: anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self._anneal_strategy = anneal_strategy
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _anneal(self, t: float) -> float:
        if self._anneal_strategy == "cos":
            return (1 - math.cos(math.pi * t)) / 2
        return t

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        # The rate this schedule set last time, undone to the rate it annealed from.
        prev_alpha = self._anneal(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        alpha = self._anneal(max(0, min(1, step / max(1, self.anneal_epochs))))
        lrs = []
        for group in self.optimizer.param_groups:
            swa_lr = group["swa_lr"]
            start = (swa_lr if prev_alpha == 1
                     else (group["lr"] - prev_alpha * swa_lr) / (1 - prev_alpha))
            lrs.append(swa_lr * alpha + start * (1 - alpha))
        return lrs
