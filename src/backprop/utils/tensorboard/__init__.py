"""``bp.utils.tensorboard`` (``torch.utils.tensorboard``): ``SummaryWriter`` writes TensorBoard
event files; it needs the ``tensorboard`` extra (``pip install 'backprop[tensorboard]'``)."""

from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
