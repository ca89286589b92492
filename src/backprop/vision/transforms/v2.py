"""``torchvision.transforms.v2`` is outside what backprop serves (the v1 ``transforms`` are
served): importing this module raises ImportError."""

from .._out_of_scope import refuse

raise refuse("transforms.v2")
