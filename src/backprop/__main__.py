"""``python -m backprop``: the ``backprop`` command."""

from .cli import entry_point

entry_point()
