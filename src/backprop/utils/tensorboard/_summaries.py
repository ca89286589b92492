"""The ``Summary`` protocol buffers PyTorch's writer puts in event files, built from host NumPy
arrays with tensorboardX's message classes, or TensorBoard's own where tensorboardX is missing
(the same messages and wire format).

Where tensorboardX's summary helpers differ from PyTorch's writer (they rewrite tags, do not clip
image values, write ``add_scalars`` runs under other folder names), these follow PyTorch, so a
ported script's event files read the same in TensorBoard.
"""

from __future__ import annotations

import functools
import io
import types
import warnings
import wave
from typing import Any

import numpy as np

from ._convert import to_float, to_hwc, to_numpy, to_pixels
from ._png import encode_png

# The hparams plugin's tags and version (TensorBoard's hparams plugin metadata).
_HPARAMS_PLUGIN = "hparams"
_HPARAMS_VERSION = 0
EXPERIMENT_TAG = "_hparams_/experiment"
SESSION_START_INFO_TAG = "_hparams_/session_start_info"
SESSION_END_INFO_TAG = "_hparams_/session_end_info"


MISSING = ("SummaryWriter needs tensorboardX to write TensorBoard event files: pip install "
           "'backprop[tensorboard]' (TensorBoard's own package, pip install tensorboard, also "
           "serves for all but add_pr_curve, add_mesh, add_custom_scalars, add_embedding, "
           "add_video, add_image_with_boxes and add_onnx_graph)")


@functools.lru_cache(maxsize=1)
def protos() -> types.SimpleNamespace:
    """The message classes and the record checksum, from tensorboardX (the extra) or else from
    TensorBoard's own package (same messages, same wire format); imported on first use."""
    try:
        return _tensorboardx_protos()
    except ImportError:
        pass
    try:
        return _tensorboard_protos()
    except ImportError as error:
        raise ImportError(MISSING) from error


def _tensorboardx_protos() -> types.SimpleNamespace:
    from tensorboardX.proto import (  # optional extra
        api_pb2,
        event_pb2,
        plugin_hparams_pb2,
        plugin_text_pb2,
        summary_pb2,
        tensor_pb2,
        tensor_shape_pb2,
    )
    from tensorboardX.record_writer import masked_crc32c

    return _namespace(summary_pb2, tensor_pb2, tensor_shape_pb2, event_pb2, api_pb2,
                      plugin_hparams_pb2, plugin_text_pb2, masked_crc32c)


def _tensorboard_protos() -> types.SimpleNamespace:
    from tensorboard.compat.proto import (  # TensorBoard's package
        event_pb2,
        summary_pb2,
        tensor_pb2,
        tensor_shape_pb2,
    )
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
    from tensorboard.plugins.hparams import api_pb2
    from tensorboard.plugins.hparams import plugin_data_pb2 as hparams_pb2
    from tensorboard.plugins.text import plugin_data_pb2 as text_pb2

    return _namespace(summary_pb2, tensor_pb2, tensor_shape_pb2, event_pb2, api_pb2, hparams_pb2,
                      text_pb2, masked_crc32c)


def _namespace(summary_pb2: Any, tensor_pb2: Any, tensor_shape_pb2: Any, event_pb2: Any,
               api_pb2: Any, hparams_pb2: Any, text_pb2: Any,
               masked_crc32c: Any) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        Summary=summary_pb2.Summary, SummaryMetadata=summary_pb2.SummaryMetadata,
        HistogramProto=summary_pb2.HistogramProto, TensorProto=tensor_pb2.TensorProto,
        TensorShapeProto=tensor_shape_pb2.TensorShapeProto, Event=event_pb2.Event,
        SessionLog=event_pb2.SessionLog, TextPluginData=text_pb2.TextPluginData,
        HParamsPluginData=hparams_pb2.HParamsPluginData,
        SessionStartInfo=hparams_pb2.SessionStartInfo, SessionEndInfo=hparams_pb2.SessionEndInfo,
        Experiment=api_pb2.Experiment, HParamInfo=api_pb2.HParamInfo,
        MetricInfo=api_pb2.MetricInfo, MetricName=api_pb2.MetricName,
        DataType=api_pb2.DataType, Status=api_pb2.Status, masked_crc32c=masked_crc32c)


def require_tensorboardx(where: str) -> Any:
    """The tensorboardX package, for the methods that delegate to it."""
    try:
        import tensorboardX  # optional extra
    except ImportError as error:
        raise ImportError(f"SummaryWriter.{where} needs tensorboardX: pip install "
                          f"'backprop[tensorboard]'") from error
    return tensorboardX


@functools.lru_cache(maxsize=1)
def tensorflow_bins() -> np.ndarray:
    """The default histogram bucket edges (``bins='tensorflow'``): +-1e-12 growing by 10% a step
    up to 1e20 in magnitude, and 0, as TensorFlow's histogram and PyTorch's writer use."""
    edges = [1e-12]
    while edges[-1] * 1.1 < 1e20:
        edges.append(edges[-1] * 1.1)
    positive = np.array(edges)
    return np.concatenate([-positive[::-1], [0.0], positive])


def check_tag(tag: Any, where: str, argument: str = "tag") -> str:
    if not isinstance(tag, str):
        raise TypeError(f"{where}: {argument} must be a str, got {type(tag).__name__}")
    return tag


def scalar(tag: str, value: Any, new_style: bool = False, double_precision: bool = False,
           where: str = "add_scalar", argument: str = "scalar_value") -> Any:
    """One number: ``simple_value``, or with ``new_style`` a one-element tensor for the scalars
    plugin (float32, or float64 with ``double_precision``)."""
    p = protos()
    tag = check_tag(tag, where)
    number = to_float(value, where, argument)
    if not new_style:
        return p.Summary(value=[p.Summary.Value(tag=tag, simple_value=number)])
    tensor = (p.TensorProto(double_val=[number], dtype="DT_DOUBLE") if double_precision
              else p.TensorProto(float_val=[number], dtype="DT_FLOAT"))
    metadata = p.SummaryMetadata(plugin_data=p.SummaryMetadata.PluginData(plugin_name="scalars"))
    return p.Summary(value=[p.Summary.Value(tag=tag, tensor=tensor, metadata=metadata)])


def histogram(tag: str, values: Any, bins: Any, max_bins: int | None = None) -> Any:
    """A histogram of every entry of ``values`` (``np.histogram``'s ``bins``), trimmed to the
    buckets that hold values plus one empty bucket on the left (TensorBoard keeps only right
    edges), and with ``max_bins``, neighbouring buckets merged to at most about that many."""
    tag = check_tag(tag, "add_histogram")
    flat = to_numpy(values, "add_histogram", "values").astype(np.float64).reshape(-1)
    if flat.size == 0:
        raise ValueError("add_histogram: values is empty; a histogram needs at least one value")
    counts, edges = np.histogram(flat, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        group = len(counts) // max_bins
        padded = np.pad(counts, (0, -len(counts) % group))
        counts = padded.reshape(-1, group).sum(axis=1)
        edges = np.append(edges[:-1:group], edges[-1])
    filled = np.flatnonzero(counts)
    if filled.size == 0:
        raise ValueError(f"add_histogram: none of the {flat.size} values falls inside the bins "
                         f"[{edges[0]}, {edges[-1]}] (values span [{np.nanmin(flat)}, "
                         f"{np.nanmax(flat)}])")
    first, last = int(filled[0]), int(filled[-1])
    if first > 0:
        kept_counts = counts[first - 1:last + 1]
    else:
        kept_counts = np.concatenate([[0], counts[:last + 1]])
    limits = edges[first:last + 2]
    return histogram_raw(tag, flat.min(), flat.max(), flat.size, flat.sum(),
                         float(np.dot(flat, flat)), limits.tolist(), kept_counts.tolist())


def histogram_raw(tag: str, min: Any, max: Any, num: Any, sum: Any, sum_squares: Any,
                  bucket_limits: Any, bucket_counts: Any) -> Any:
    """A histogram from its figures; each bucket's count with its right edge."""
    p = protos()
    limits = [float(x) for x in to_numpy(bucket_limits, "add_histogram_raw", "bucket_limits")]
    counts = [float(x) for x in to_numpy(bucket_counts, "add_histogram_raw", "bucket_counts")]
    if len(limits) != len(counts):
        raise ValueError(f"add_histogram_raw: bucket_limits and bucket_counts must have the same "
                         f"length (one right edge per bucket), got {len(limits)} and "
                         f"{len(counts)}")
    histo = p.HistogramProto(min=float(min), max=float(max), num=float(num), sum=float(sum),
                             sum_squares=float(sum_squares), bucket_limit=limits,
                             bucket=counts)
    return p.Summary(value=[p.Summary.Value(tag=tag, histo=histo)])


def image(tag: str, img_tensor: Any, dataformats: str, where: str = "add_image",
          rescale: float = 1) -> Any:
    """A PNG of ``img_tensor``: uint8 pixels as they are, other types read as [0, 1] and scaled
    to [0, 255] (clipped); a batch is tiled into a grid. ``rescale`` resizes the picture (Pillow's
    Lanczos filter); the summary keeps the size before, as PyTorch's."""
    p = protos()
    tag = check_tag(tag, where)
    pixels = to_pixels(to_hwc(to_numpy(img_tensor, where, "img_tensor"), dataformats, where))
    height, width, channels = pixels.shape
    if rescale != 1:
        pixels = _resized(pixels, rescale, where)
    picture = p.Summary.Image(height=height, width=width, colorspace=channels,
                              encoded_image_string=encode_png(pixels))
    return p.Summary(value=[p.Summary.Value(tag=tag, image=picture)])


def _resized(pixels: np.ndarray, rescale: float, where: str) -> np.ndarray:
    try:
        from PIL import Image  # optional extra
    except ImportError as error:
        raise ImportError(f"{where}: rescale needs Pillow: pip install 'backprop[vision]'") \
            from error
    height, width = pixels.shape[:2]
    size = (int(width * rescale), int(height * rescale))
    if min(size) < 1:
        raise ValueError(f"{where}: rescale={rescale} shrinks the {height}x{width} image to "
                         f"nothing")
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS))


def audio(tag: str, snd_tensor: Any, sample_rate: int) -> Any:
    """A mono 16-bit WAV of the samples (any shape with one axis longer than 1, values in
    [-1, 1]; louder samples are clipped with a warning)."""
    p = protos()
    tag = check_tag(tag, "add_audio")
    samples = to_numpy(snd_tensor, "add_audio", "snd_tensor").astype(np.float64).squeeze()
    if samples.ndim != 1:
        raise ValueError(f"add_audio: snd_tensor must hold one channel of samples (shape (1, L) "
                         f"or (L,)), got shape {tuple(np.shape(snd_tensor))}")
    if samples.size and np.abs(samples).max() > 1:
        warnings.warn("add_audio: amplitudes outside [-1, 1] were clipped", stacklevel=3)
        samples = samples.clip(-1, 1)
    frames = (samples * np.iinfo(np.int16).max).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(int(sample_rate))
        wav.writeframes(frames.tobytes())
    sound = p.Summary.Audio(sample_rate=sample_rate, num_channels=1, length_frames=frames.size,
                            encoded_audio_string=buffer.getvalue(), content_type="audio/wav")
    return p.Summary(value=[p.Summary.Value(tag=tag, audio=sound)])


# NumPy dtype -> (TensorProto dtype, the TensorProto field holding the values), as TensorFlow's
# tensor.proto assigns them (and TensorBoard's make_ndarray reads them). PyTorch's writer differs
# for float16 (it stores float32 bit patterns) and uint8 (uint32_val): those read back wrong or
# not at all in TensorBoard, so we follow the format rather than PyTorch there.
_TENSOR_FIELDS = {
    "float16": ("DT_HALF", "half_val"), "float32": ("DT_FLOAT", "float_val"),
    "float64": ("DT_DOUBLE", "double_val"), "int8": ("DT_INT8", "int_val"),
    "int16": ("DT_INT16", "int_val"), "int32": ("DT_INT32", "int_val"),
    "int64": ("DT_INT64", "int64_val"), "uint8": ("DT_UINT8", "int_val"),
    "bool": ("DT_BOOL", "bool_val"), "complex64": ("DT_COMPLEX64", "scomplex_val"),
    "complex128": ("DT_COMPLEX128", "dcomplex_val")}


def tensor(tag: str, values: Any) -> Any:
    """A whole tensor (values, dtype and shape) for the tensor plugin."""
    p = protos()
    tag = check_tag(tag, "add_tensor")
    array = to_numpy(values, "add_tensor", "tensor")
    if array.dtype.name not in _TENSOR_FIELDS:
        raise ValueError(f"add_tensor: {tag} has unsupported dtype {array.dtype.name}; "
                         f"supported: {', '.join(_TENSOR_FIELDS)}")
    if array.nbytes >= 1 << 31:
        raise ValueError(f"add_tensor: {tag} holds {array.nbytes} bytes, over the 2 GB limit "
                         f"of a protocol buffer")
    dtype, field = _TENSOR_FIELDS[array.dtype.name]
    flat = array.reshape(-1)
    if dtype == "DT_HALF":  # half values travel as their 16-bit patterns
        flat = flat.view(np.uint16)
    elif dtype.startswith("DT_COMPLEX"):  # complex values as (real, imaginary) pairs
        flat = np.stack([flat.real, flat.imag], axis=1).reshape(-1)
    shape = p.TensorShapeProto(dim=[p.TensorShapeProto.Dim(size=n) for n in array.shape])
    proto = p.TensorProto(dtype=dtype, tensor_shape=shape, **{field: flat.tolist()})
    metadata = p.SummaryMetadata(plugin_data=p.SummaryMetadata.PluginData(plugin_name="tensor"))
    return p.Summary(value=[p.Summary.Value(tag=tag, metadata=metadata, tensor=proto)])


def image_with_boxes(tag: str, img_tensor: Any, box_tensor: Any, rescale: float,
                     dataformats: str, labels: list[str] | None) -> Any:
    """An image with boxes ``(x_min, y_min, x_max, y_max)`` in pixels drawn on it (and their
    labels); the pixels are made as ``image``'s, the drawing is tensorboardX's (Pillow)."""
    where = "add_image_with_boxes"
    p = protos()
    tag = check_tag(tag, where)
    pixels = to_pixels(to_hwc(to_numpy(img_tensor, where, "img_tensor"), dataformats, where))
    boxes = to_numpy(box_tensor, where, "box_tensor")
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{where}: box_tensor must be (boxes, 4) as x_min, y_min, x_max, y_max; "
                         f"got shape {tuple(boxes.shape)}")
    require_tensorboardx(where)
    try:
        from tensorboardX.summary import make_image  # draws with Pillow

        picture = make_image(pixels, rescale=rescale, rois=boxes, labels=labels)
    except ImportError as error:
        raise ImportError(f"{where} needs Pillow to draw the boxes: pip install "
                          f"'backprop[vision]'") from error
    return p.Summary(value=[p.Summary.Value(tag=tag, image=picture)])


def text(tag: str, text_string: str) -> Any:
    """A string for the text plugin, under ``<tag>/text_summary`` (as PyTorch's writer)."""
    p = protos()
    tag = check_tag(tag, "add_text")
    if not isinstance(text_string, str):
        raise TypeError(f"add_text: text_string must be a str, got {type(text_string).__name__}")
    metadata = p.SummaryMetadata(plugin_data=p.SummaryMetadata.PluginData(
        plugin_name="text", content=p.TextPluginData(version=0).SerializeToString()))
    tensor = p.TensorProto(dtype="DT_STRING", string_val=[text_string.encode("utf_8")],
                           tensor_shape=p.TensorShapeProto(dim=[p.TensorShapeProto.Dim(size=1)]))
    return p.Summary(value=[p.Summary.Value(tag=tag + "/text_summary", metadata=metadata,
                                            tensor=tensor)])


def hparams(hparam_dict: dict, metric_dict: dict,
            hparam_domain_discrete: dict | None = None) -> tuple[Any, Any, Any]:
    """The hparams plugin's three summaries: the experiment (hyperparameter and metric names),
    the session start (this run's values) and the session end."""
    from google.protobuf import struct_pb2  # protobuf: both packages need it

    p = protos()
    if type(hparam_dict) is not dict or type(metric_dict) is not dict:
        raise TypeError(f"add_hparams: hparam_dict and metric_dict must be dicts, got "
                        f"{type(hparam_dict).__name__} and {type(metric_dict).__name__}")
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise TypeError(f"add_hparams: hparam_domain_discrete must be a dict of lists, got "
                        f"{type(domains).__name__}")
    for name, domain in domains.items():
        if (name not in hparam_dict or not isinstance(domain, list)
                or not all(isinstance(d, type(hparam_dict[name])) for d in domain)):
            raise TypeError(f"add_hparams: hparam_domain_discrete[{name!r}] must be a list of "
                            f"values of the same type as hparam_dict[{name!r}]")
    start = p.SessionStartInfo()
    infos = []
    for name, value in hparam_dict.items():
        if value is None:
            continue
        stored: float | str
        # PyTorch tests int/float before bool, so True and False are logged as numbers 1 and 0.
        if isinstance(value, (int, float, np.number)):
            field, kind, stored = "number_value", "DATA_TYPE_FLOAT64", float(value)
        elif isinstance(value, str):
            field, kind, stored = "string_value", "DATA_TYPE_STRING", value
        elif hasattr(value, "shape"):  # a Tensor or array: its first number
            array = to_numpy(value, "add_hparams", f"hparam_dict[{name!r}]").reshape(-1)
            if array.size == 0:
                raise ValueError(f"add_hparams: hparam_dict[{name!r}] is an empty tensor")
            field, kind, stored = "number_value", "DATA_TYPE_FLOAT64", float(array[0])
        else:
            raise ValueError(f"add_hparams: hparam_dict[{name!r}] must be an int, float, str, "
                             f"bool or Tensor, got {type(value).__name__}")
        setattr(start.hparams[name], field, stored)
        domain = None
        if name in domains:
            domain = struct_pb2.ListValue(values=[
                struct_pb2.Value(**{field: float(d) if field == "number_value" else d})
                for d in domains[name]])
        infos.append(p.HParamInfo(name=name, type=p.DataType.Value(kind),
                                  domain_discrete=domain))
    experiment = p.Experiment(hparam_infos=infos,
                              metric_infos=[p.MetricInfo(name=p.MetricName(tag=k))
                                            for k in metric_dict])
    end = p.SessionEndInfo(status=p.Status.Value("STATUS_SUCCESS"))
    return (_hparams_summary(EXPERIMENT_TAG, p.HParamsPluginData(experiment=experiment)),
            _hparams_summary(SESSION_START_INFO_TAG, p.HParamsPluginData(session_start_info=start)),
            _hparams_summary(SESSION_END_INFO_TAG, p.HParamsPluginData(session_end_info=end)))


def _hparams_summary(tag: str, content: Any) -> Any:
    p = protos()
    content.version = _HPARAMS_VERSION
    metadata = p.SummaryMetadata(plugin_data=p.SummaryMetadata.PluginData(
        plugin_name=_HPARAMS_PLUGIN, content=content.SerializeToString()))
    return p.Summary(value=[p.Summary.Value(tag=tag, metadata=metadata)])
