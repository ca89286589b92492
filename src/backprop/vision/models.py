"""``torchvision.models`` is outside what backprop serves: importing this module raises
ImportError."""

from ._out_of_scope import refuse

raise refuse("models")
