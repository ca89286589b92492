"""The scheduler base class ``LRScheduler`` and the helpers the schedulers share."""

from __future__ import annotations

import warnings
from typing import Any

from ...capture.state import replayable
from ..optimizer import Optimizer

_EPOCH_DEPRECATION = ("The epoch parameter in `scheduler.step()` is deprecated (as in PyTorch); "
                      "call `scheduler.step()` without it. With an epoch, the closed form is used "
                      "where the scheduler has one.")


def _group_values(optimizer: Optimizer, key: str) -> list[Any]:
    return [group[key] for group in optimizer.param_groups]


def _per_group(name: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """``value`` repeated for each parameter group, or checked to have one entry per group."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups: got "
                             f"{len(value)} values for {len(optimizer.param_groups)} groups")
        return list(value)
    return [value] * len(optimizer.param_groups)


def _check_optimizer(scheduler: str, optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{scheduler}: {type(optimizer).__name__} is not an Optimizer")


def _set_momentum(group: dict[str, Any], use_beta1: bool, momentum: float) -> None:
    """Set a group's momentum, or beta1 for Adam-like optimizers."""
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _start_momentum_cycle(scheduler: str, optimizer: Optimizer, base_momentum: Any,
                          max_momentum: Any, last_epoch: int) -> tuple[bool, list, list]:
    """Check that ``optimizer`` has a momentum (or beta1) to cycle and, on a fresh start, set it
    to ``max_momentum`` and record both bounds in the groups. Returns ``(use_beta1,
    base_momentums, max_momentums)``."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{scheduler}: optimizer must support momentum or beta1 with the "
                         "`cycle_momentum` option enabled (pass cycle_momentum=False)")
    use_beta1 = "betas" in optimizer.defaults
    base_momentums = _per_group("base_momentum", optimizer, base_momentum)
    max_momentums = _per_group("max_momentum", optimizer, max_momentum)
    if last_epoch == -1:
        for top, bottom, group in zip(max_momentums, base_momentums, optimizer.param_groups):
            _set_momentum(group, use_beta1, top)
            group["max_momentum"] = top
            group["base_momentum"] = bottom
    return use_beta1, base_momentums, max_momentums


class LRScheduler:
    """Base class of the schedulers: subclasses implement ``get_lr``.

    Building a scheduler records ``group["initial_lr"]`` (the learning rate it starts from, in
    ``base_lrs``) and performs an initial step, so the optimizer's learning rates are those of
    epoch 0. ``last_epoch`` counts the ``step()`` calls; pass it (>= 0) only when resuming, with
    ``initial_lr`` already in the groups.

    >>> import backprop as bp
    >>> from backprop import optim
    >>> opt = optim.SGD([bp.zeros(1, requires_grad=True)], lr=0.1)
    >>> sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    >>> opt.step(); sched.step()
    >>> sched.get_last_lr(), sched.last_epoch, sched.base_lrs
    ([0.05], 1, [0.1])
    """

    _get_lr_called_within_step: bool = False
    _is_initial: bool = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param 'initial_lr' is not specified "
                                   f"in param_groups[{i}] when resuming with last_epoch="
                                   f"{last_epoch}; load the optimizer's state_dict first, or "
                                   "use last_epoch=-1 for a fresh run")
        self.base_lrs: list[float] = _group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self) -> dict[str, Any]:
        """Everything in the scheduler except its optimizer."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``."""
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list[float]:
        """The learning rates of the parameter groups set by the last ``step()``."""
        return self._last_lr

    def get_lr(self) -> list[float]:
        """The learning rates for the current ``last_epoch`` (called by ``step``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def _warn_if_called_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=3)

    @replayable  # Python state of the run: a captured step calls it again
    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or batch) and set the optimizer's learning rates; call it after
        ``optimizer.step()``."""
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", True):
            warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
                          "Call them in the opposite order: `optimizer.step()` before "
                          "`lr_scheduler.step()`, otherwise the first value of the schedule is "
                          "skipped.", UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATION, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = _group_values(self.optimizer, "lr")
