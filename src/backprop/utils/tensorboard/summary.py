"""``bp.utils.tensorboard.summary`` (``torch.utils.tensorboard.summary``): the ``Summary``
protocol buffers ``SummaryWriter`` writes, for programs that build one themselves and hand it to
``writer.file_writer.add_summary(summary, step)`` (as many do with ``hparams`` to keep the
hyperparameters in the run's own folder). Each needs the ``tensorboard`` extra.

>>> import backprop as bp
>>> from backprop.utils.tensorboard.summary import scalar
>>> scalar("loss", bp.tensor(0.5)).value[0].simple_value  # doctest: +SKIP
0.5
"""

from __future__ import annotations

from typing import Any

from . import _summaries

__all__ = ["audio", "histogram", "histogram_raw", "hparams", "image", "scalar", "tensor_proto",
           "text"]


def scalar(name: str, tensor: Any, collections: Any = None, new_style: bool = False,
           double_precision: bool = False) -> Any:
    """One number (``collections`` is ignored, as PyTorch's)."""
    return _summaries.scalar(name, tensor, new_style, double_precision, where="summary.scalar",
                             argument="tensor")


def histogram(name: str, values: Any, bins: Any, max_bins: int | None = None) -> Any:
    """The histogram of ``values`` over ``bins`` (as ``np.histogram``'s)."""
    return _summaries.histogram(name, values, bins, max_bins)


def histogram_raw(name: str, min: float, max: float, num: int, sum: float, sum_squares: float,
                  bucket_limits: Any, bucket_counts: Any) -> Any:
    """A histogram already counted."""
    return _summaries.histogram_raw(name, min, max, num, sum, sum_squares, bucket_limits,
                                    bucket_counts)


def image(tag: str, tensor: Any, rescale: float = 1, dataformats: str = "NCHW") -> Any:
    """An image (or a batch, as a grid) as a PNG."""
    return _summaries.image(tag, tensor, dataformats, "summary.image", rescale)


def text(tag: str, text: str) -> Any:
    """A string for the text plugin."""
    return _summaries.text(tag, text)


def audio(tag: str, tensor: Any, sample_rate: int = 44100) -> Any:
    """Mono samples in [-1, 1] as a WAV."""
    return _summaries.audio(tag, tensor, sample_rate)


def tensor_proto(tag: str, tensor: Any) -> Any:
    """A whole tensor for the tensor plugin."""
    return _summaries.tensor(tag, tensor)


def hparams(hparam_dict: dict | None = None, metric_dict: dict | None = None,
            hparam_domain_discrete: dict | None = None) -> tuple[Any, Any, Any]:
    """The hparams plugin's experiment, session-start and session-end summaries."""
    return _summaries.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
