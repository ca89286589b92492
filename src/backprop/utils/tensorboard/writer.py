"""``SummaryWriter``: PyTorch's TensorBoard writer (``torch.utils.tensorboard``) for backprop.

Event files hold tensorboardX's message classes (the ``tensorboard`` extra: ``pip install
'backprop[tensorboard]'``, imported when the first writer is built; without it, TensorBoard's own
package serves for all but the methods that delegate to tensorboardX); the summaries in them are
built as PyTorch's writer builds them (``_summaries``), from our Tensors on any device, NumPy
arrays or Python numbers.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import time
from datetime import datetime
from typing import Any

import numpy as np

from . import _summaries
from ._convert import to_numpy
from ._event_file import EventFile

__all__ = ["SummaryWriter"]


def default_log_dir(comment: str = "") -> str:
    """``runs/<month><day>_<hh-mm-ss>_<host><comment>``, PyTorch's default folder for a run.

    >>> default_log_dir("_lr0.1").startswith("runs")
    True
    """
    stamp = datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", stamp + "_" + socket.gethostname() + comment)


class SummaryWriter:
    """Write scalars, histograms, images, text and hyperparameters for TensorBoard.

    Each ``add_*`` call queues one event; events reach the file in ``log_dir`` every
    ``flush_secs`` seconds, when ``max_queue`` are pending, on ``flush()`` and on ``close()``
    (or on leaving a ``with`` block). ``tensorboard --logdir runs`` shows them.

    Args:
        log_dir: the folder of the event files; default ``runs/<datetime>_<host><comment>``.
        comment: appended to the default ``log_dir`` (ignored when ``log_dir`` is given).
        purge_step: after a crash, resume at this step: TensorBoard hides the events of this
            and later steps written by the run before.
        max_queue: events held in memory before a write to disk.
        flush_secs: seconds between writes to disk.
        filename_suffix: appended to the event file names.

    >>> import tempfile, backprop as bp
    >>> from backprop.utils.tensorboard import SummaryWriter
    >>> with tempfile.TemporaryDirectory() as folder:  # doctest: +SKIP
    ...     with SummaryWriter(folder) as writer:
    ...         for step in range(3):
    ...             writer.add_scalar("loss", 1.0 / (step + 1), step)
    ...         writer.add_histogram("weights", bp.randn(100), 0)
    """

    def __init__(self, log_dir: str | os.PathLike[str] | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        _summaries.protos()  # the optional extra: a clear ImportError now if it is missing
        if not log_dir:
            log_dir = default_log_dir(comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        # The writers of the run and of add_scalars' sub-runs, by folder; dropped by close()
        # and made again by the next add_* call.
        self.file_writer: Any = None
        self.all_writers: dict[str, Any] | None = None
        self._get_file_writer()

    @property
    def default_bins(self) -> list[float]:
        """The bucket edges of ``bins='tensorflow'`` (as PyTorch's attribute)."""
        return _summaries.tensorflow_bins().tolist()

    def _get_file_writer(self) -> Any:
        """The run's file writer, made (with the purge events, once) if there is none."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = EventFile(os.fspath(self.log_dir), self.max_queue,
                                         self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                p = _summaries.protos()
                step = int(self.purge_step)
                # A session start at step T tells TensorBoard to drop earlier files' events
                # from step T on.
                self.file_writer.add_event(p.Event(step=step, file_version="brain.Event:2"))
                self.file_writer.add_event(p.Event(
                    step=step, session_log=p.SessionLog(status=p.SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> str | os.PathLike[str]:
        """The folder this writer writes to."""
        return self.log_dir

    def _add(self, summary: Any, global_step: Any, walltime: float | None) -> None:
        step = None if global_step is None else _step(global_step)
        self._get_file_writer().add_summary(summary, step, walltime)

    # -- the common ones -------------------------------------------------------------------------

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """Log one number (a Python number, or a one-element Tensor or array) under ``tag``."""
        self._add(_summaries.scalar(tag, scalar_value, new_style, double_precision),
                  global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict[str, Any],
                    global_step: int | None = None, walltime: float | None = None) -> None:
        """Log several numbers drawn on one chart: each goes to the sub-run
        ``<log_dir>/<main_tag with / as _>_<key>`` under the tag ``main_tag``."""
        if not isinstance(tag_scalar_dict, dict):
            raise TypeError(f"add_scalars: tag_scalar_dict must be a dict of tag -> number, got "
                            f"{type(tag_scalar_dict).__name__}")
        _summaries.check_tag(main_tag, "add_scalars", "main_tag")
        # every value is checked before any sub-run is made
        summaries = {tag: _summaries.scalar(main_tag, value, where="add_scalars",
                                            argument=f"tag_scalar_dict[{tag!r}]")
                     for tag, value in tag_scalar_dict.items()}
        step = None if global_step is None else _step(global_step)
        walltime = time.time() if walltime is None else walltime
        root = self._get_file_writer().get_logdir()
        assert self.all_writers is not None
        for tag, summary in summaries.items():
            folder = root + "/" + main_tag.replace("/", "_") + "_" + str(tag)
            writer = self.all_writers.get(folder)
            if writer is None:
                writer = EventFile(folder, self.max_queue, self.flush_secs,
                                   self.filename_suffix)
                self.all_writers[folder] = writer
            writer.add_summary(summary, step, walltime)

    def add_histogram(self, tag: str, values: Any, global_step: int | None = None,
                      bins: Any = "tensorflow", walltime: float | None = None,
                      max_bins: int | None = None) -> None:
        """Log the distribution of ``values`` (any shape). ``bins`` is as ``np.histogram``'s
        (a count, edges, or a rule such as ``'auto'``), or ``'tensorflow'`` for TensorBoard's
        default edges (``default_bins``)."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = _summaries.tensorflow_bins()
        self._add(_summaries.histogram(tag, values, bins, max_bins), global_step, walltime)

    def add_histogram_raw(self, tag: str, min: float, max: float, num: int, sum: float,
                          sum_squares: float, bucket_limits: Any, bucket_counts: Any,
                          global_step: int | None = None, walltime: float | None = None) -> None:
        """Log a histogram already counted: each bucket's right edge and count."""
        self._add(_summaries.histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits,
                                           bucket_counts), global_step, walltime)

    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None,
                  walltime: float | None = None, dataformats: str = "CHW") -> None:
        """Log one image, ``(3, H, W)`` by default (``dataformats`` names the axes: ``'HWC'``,
        ``'HW'``...). uint8 values are pixels; other types are read as [0, 1] and scaled by
        255 (values outside are clipped)."""
        self._add(_summaries.image(tag, img_tensor, dataformats), global_step, walltime)

    def add_images(self, tag: str, img_tensor: Any, global_step: int | None = None,
                   walltime: float | None = None, dataformats: str = "NCHW") -> None:
        """Log a batch of images ``(N, 3, H, W)`` (or ``'NHWC'``...) as one grid, 8 a row."""
        self._add(_summaries.image(tag, img_tensor, dataformats, "add_images"), global_step,
                  walltime)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Log a string (TensorBoard renders Markdown) under ``<tag>/text_summary``."""
        self._add(_summaries.text(tag, text_string), global_step, walltime)

    def add_hparams(self, hparam_dict: dict[str, Any], metric_dict: dict[str, Any],
                    hparam_domain_discrete: dict[str, list[Any]] | None = None,
                    run_name: str | None = None, global_step: int | None = None) -> None:
        """Log a run's hyperparameters and final metrics for TensorBoard's HPARAMS tab, into the
        sub-run ``<log_dir>/<run_name>`` (default: the current time in seconds); each metric is
        also logged there as a scalar."""
        summaries = _summaries.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        if not run_name:
            run_name = str(time.time())
        folder = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=folder) as run:
            for summary in summaries:
                run._add(summary, global_step, None)
            for name, value in metric_dict.items():
                run.add_scalar(name, value, global_step)

    def add_tensor(self, tag: str, tensor: Any, global_step: int | None = None,
                   walltime: float | None = None) -> None:
        """Log a whole tensor (values, dtype, shape) for the tensor plugin."""
        self._add(_summaries.tensor(tag, tensor), global_step, walltime)

    # -- the rarer ones ---------------------------------------------------------------------------

    def add_figure(self, tag: str, figure: Any, global_step: int | None = None,
                   close: bool = True, walltime: float | None = None) -> None:
        """Log a matplotlib figure (or a list of them, as a grid) as an image; needs
        matplotlib."""
        if isinstance(figure, list):
            pictures = np.stack([_render(f, close) for f in figure])
            self.add_image(tag, pictures, global_step, walltime, dataformats="NHWC")
        else:
            self.add_image(tag, _render(figure, close), global_step, walltime,
                           dataformats="HWC")

    def add_video(self, tag: str, vid_tensor: Any, global_step: int | None = None,
                  fps: float = 4, walltime: float | None = None) -> None:
        """Log videos ``(N, T, C, H, W)`` as an animated GIF; needs moviepy (as PyTorch)."""
        import importlib.util

        _summaries.require_tensorboardx("add_video")
        from tensorboardX.summary import video

        # tensorboardX only logs an error without moviepy; say so here instead
        if importlib.util.find_spec("moviepy") is None:
            raise ImportError("SummaryWriter.add_video needs moviepy to encode the GIF: pip "
                              "install moviepy")

        self._add(video(tag, to_numpy(vid_tensor, "add_video", "vid_tensor"), fps=fps),
                  global_step, walltime)

    def add_audio(self, tag: str, snd_tensor: Any, global_step: int | None = None,
                  sample_rate: int = 44100, walltime: float | None = None) -> None:
        """Log a sound ``(1, L)`` with values in [-1, 1] as a WAV file."""
        self._add(_summaries.audio(tag, snd_tensor, sample_rate), global_step, walltime)

    def add_image_with_boxes(self, tag: str, img_tensor: Any, box_tensor: Any,
                             global_step: int | None = None, walltime: float | None = None,
                             rescale: float = 1, dataformats: str = "CHW",
                             labels: list[str] | str | None = None) -> None:
        """Log an image with boxes ``(N, 4)`` (``x_min, y_min, x_max, y_max`` in pixels) drawn on
        it, labelled by ``labels`` when there is one per box; needs Pillow."""
        if isinstance(labels, str):
            labels = [labels]
        boxes = to_numpy(box_tensor, "add_image_with_boxes", "box_tensor")
        if labels is not None and len(labels) != boxes.shape[0]:
            labels = None  # as PyTorch: labels that do not match the boxes are not drawn
        self._add(_summaries.image_with_boxes(tag, img_tensor, boxes, rescale, dataformats,
                                              labels), global_step, walltime)

    def add_pr_curve(self, tag: str, labels: Any, predictions: Any,
                     global_step: int | None = None, num_thresholds: int = 127,
                     weights: Any = None, walltime: float | None = None) -> None:
        """Log a precision-recall curve of binary ``labels`` against ``predictions`` in
        [0, 1]."""
        _summaries.require_tensorboardx("add_pr_curve")
        from tensorboardX.summary import pr_curve

        self._add(pr_curve(tag, to_numpy(labels, "add_pr_curve", "labels"),
                           to_numpy(predictions, "add_pr_curve", "predictions"), num_thresholds,
                           None if weights is None
                           else to_numpy(weights, "add_pr_curve", "weights")),
                  global_step, walltime)

    def add_pr_curve_raw(self, tag: str, true_positive_counts: Any, false_positive_counts: Any,
                         true_negative_counts: Any, false_negative_counts: Any, precision: Any,
                         recall: Any, global_step: int | None = None, num_thresholds: int = 127,
                         weights: Any = None, walltime: float | None = None) -> None:
        """Log a precision-recall curve already counted, one entry per threshold."""
        _summaries.require_tensorboardx("add_pr_curve_raw")
        from tensorboardX.summary import pr_curve_raw

        counts = [to_numpy(v, "add_pr_curve_raw", name) for v, name in (
            (true_positive_counts, "true_positive_counts"),
            (false_positive_counts, "false_positive_counts"),
            (true_negative_counts, "true_negative_counts"),
            (false_negative_counts, "false_negative_counts"), (precision, "precision"),
            (recall, "recall"))]
        self._add(pr_curve_raw(tag, *counts, num_thresholds, weights), global_step, walltime)

    def add_mesh(self, tag: str, vertices: Any, colors: Any = None, faces: Any = None,
                 config_dict: dict | None = None, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Log a 3-D mesh or point cloud: ``vertices (B, N, 3)``, optional ``colors`` and
        ``faces``."""
        _summaries.require_tensorboardx("add_mesh")
        from tensorboardX.summary import mesh

        def arrays(value: Any, name: str) -> Any:
            return None if value is None else to_numpy(value, "add_mesh", name)

        self._add(mesh(tag, arrays(vertices, "vertices"), arrays(colors, "colors"),
                       arrays(faces, "faces"), config_dict), global_step, walltime)

    def add_custom_scalars(self, layout: dict) -> None:
        """Lay out the Custom Scalars tab: ``{category: {title: ['Multiline' or 'Margin',
        tags]}}``."""
        _summaries.require_tensorboardx("add_custom_scalars")
        from tensorboardX.summary import custom_scalars

        self._get_file_writer().add_summary(custom_scalars(layout))

    def add_custom_scalars_multilinechart(self, tags: list[str], category: str = "default",
                                          title: str = "untitled") -> None:
        """One Custom Scalars chart drawing ``tags`` together."""
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags: list[str], category: str = "default",
                                       title: str = "untitled") -> None:
        """One Custom Scalars chart of a value between a lower and an upper bound
        (``tags``: value, lower, upper)."""
        if len(tags) != 3:
            raise ValueError(f"add_custom_scalars_marginchart: tags must be 3 (value, lower, "
                             f"upper), got {len(tags)}")
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_embedding(self, mat: Any, metadata: list | None = None, label_img: Any = None,
                      global_step: int | None = None, tag: str = "default",
                      metadata_header: list | None = None) -> None:
        """Save ``mat (N, D)`` for TensorBoard's projector, with optional labels (``metadata``)
        and thumbnails (``label_img (N, C, H, W)``, needs Pillow), under
        ``<log_dir>/<step:05d>/<tag>``."""
        _summaries.require_tensorboardx("add_embedding")
        from tensorboardX import embedding

        mat = to_numpy(mat, "add_embedding", "mat")
        if mat.ndim != 2:
            raise ValueError(f"add_embedding: mat must be 2-D (points, features), got shape "
                             f"{tuple(mat.shape)}")
        step = 0 if global_step is None else _step(global_step)
        subdir = f"{str(step).zfill(5)}/{tag.replace('/', '_')}"
        folder = os.path.join(self._get_file_writer().get_logdir(), subdir)
        os.makedirs(folder, exist_ok=True)
        if metadata is not None:
            if len(metadata) != mat.shape[0]:
                raise ValueError(f"add_embedding: metadata has {len(metadata)} labels for "
                                 f"{mat.shape[0]} points")
            embedding.make_tsv(metadata, folder, metadata_header=metadata_header)
        if label_img is not None:
            label_img = to_numpy(label_img, "add_embedding", "label_img")
            if label_img.shape[0] != mat.shape[0]:
                raise ValueError(f"add_embedding: label_img has {label_img.shape[0]} images for "
                                 f"{mat.shape[0]} points")
            try:
                embedding.make_sprite(label_img, folder)
            except ImportError as error:
                raise ImportError("add_embedding: label_img needs Pillow: pip install "
                                  "'backprop[vision]'") from error
        embedding.make_mat(mat, folder)
        embedding.append_pbtxt(metadata, label_img, self._get_file_writer().get_logdir(),
                               subdir, step, tag)

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """Not available: backprop has no TorchScript tracer to build TensorBoard's graph."""
        raise NotImplementedError(
            "SummaryWriter.add_graph: backprop cannot trace a model into TensorBoard's graph "
            "format; draw the autograd graph of an output instead with "
            "bp.diagnostics.draw_graph(output, 'graph.svg') (or bp.diagnostics.graph_to_dot), "
            "or export the model with bp.onnx.export and log that file with add_onnx_graph")

    def add_onnx_graph(self, prototxt: str | os.PathLike[str]) -> None:
        """Show the graph of an ONNX file (``bp.onnx.export``'s output) in the GRAPHS tab;
        needs onnx (``pip install 'backprop[onnx]'``)."""
        try:
            import onnx  # noqa: F401 - optional extra
        except ImportError as error:
            raise ImportError("SummaryWriter.add_onnx_graph needs onnx: pip install "
                              "'backprop[onnx]'") from error
        _summaries.require_tensorboardx("add_onnx_graph")
        from tensorboardX.onnx_graph import load_onnx_graph

        with contextlib.redirect_stdout(io.StringIO()):  # it prints every input's name
            graph = load_onnx_graph(os.fspath(prototxt))
        p = _summaries.protos()
        self._get_file_writer().add_event(p.Event(graph_def=graph.SerializeToString()))

    # -- lifetime --------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write every pending event to disk."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()

    def close(self) -> None:
        """Flush and close the event files; a later ``add_*`` call opens new ones."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.all_writers is None else "open"
        return f"SummaryWriter(log_dir={os.fspath(self.log_dir)!r}, {state})"


def _step(global_step: Any) -> int:
    """A step as an int (a Python or NumPy integer, or a one-element integer Tensor)."""
    if isinstance(global_step, (int, np.integer)) and not isinstance(global_step, bool):
        return int(global_step)
    array = to_numpy(global_step, "SummaryWriter", "global_step")
    if array.size != 1 or array.dtype.kind not in "iuf" or float(array.reshape(())) % 1:
        raise ValueError(f"SummaryWriter: global_step must be an integer, got {global_step!r}")
    return int(array.reshape(()))


def _render(figure: Any, close: bool) -> np.ndarray:
    """A matplotlib figure's pixels ``(H, W, 3)`` uint8, drawn off-screen (Agg)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError as error:
        raise ImportError("SummaryWriter.add_figure needs matplotlib: pip install matplotlib "
                          "(or backprop[plot])") from error
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[:, :, :3].copy()
    if close:
        import matplotlib.pyplot as plt  # only to drop the figure

        plt.close(figure)
    return pixels
