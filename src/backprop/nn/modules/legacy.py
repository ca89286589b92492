"""``nn.Container``: PyTorch's deprecated module holder, kept so old code still loads."""

from __future__ import annotations

import warnings

from ..module import Module

__all__ = ["Container"]


class Container(Module):
    """A ``Module`` whose keyword arguments become its children (deprecated, as in PyTorch:
    subclass ``Module`` instead).

    >>> import warnings, backprop as bp
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     holder = bp.nn.Container(fc=bp.nn.Linear(2, 1))
    >>> list(holder.state_dict())
    ['fc.weight', 'fc.bias']
    """

    def __init__(self, **kwargs: Module) -> None:
        super().__init__()
        warnings.warn("`nn.Container` is deprecated. All of its functionality is now "
                      "implemented in `nn.Module`. Subclass that instead.", FutureWarning,
                      stacklevel=2)
        for name, module in kwargs.items():
            self.add_module(name, module)
