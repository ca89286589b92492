"""``torchvision.tv_tensors`` is outside what backprop serves: importing this module raises
ImportError."""

from ._out_of_scope import refuse

raise refuse("tv_tensors")
