"""``export``: trace a model and write it as an ONNX file.

The model runs once (twice with ``dynamic_axes``: the second time with each dynamic axis
resized) under an engine observer, without gradients and in eval mode; each traced primitive
becomes ONNX nodes through its converter, parameters and buffers become initializers named as
in the state dict, and the graph is checked with ``onnx.checker.check_model``.
"""

from __future__ import annotations

import enum
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import _ops, _ops_shape  # noqa: F401  (they fill the converters' table)
from ._arguments import flatten, input_names_of, read_dynamic_axes, replaced, resized, split_args
from ._compare import check_same_arguments, check_same_ops
from ._context import Context, Event, host
from ._graph import Graph, OnnxExporterError, require_onnx, tensor_type
from ._modules import captured, convert_module
from ._registry import CONVERTERS, HINTS
from ._trace import ModuleEvent, trace

# PyTorch 2.13's default; 17 is the first with LayerNormalization, 20 the first with Gelu.
DEFAULT_OPSET = 20
MIN_OPSET, MAX_OPSET = 17, 23


class TrainingMode(enum.IntEnum):
    """Which mode the model is exported in (PyTorch's ``torch.onnx.TrainingMode``)."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class OperatorExportTypes(enum.IntEnum):
    """PyTorch's ``torch.onnx.OperatorExportTypes``; only ``ONNX`` is exported."""

    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


_exporting = [0]


def is_in_onnx_export() -> bool:
    """Whether an ONNX export is tracing the model now.

    >>> import backprop as bp
    >>> bp.onnx.is_in_onnx_export()
    False
    """
    return _exporting[0] > 0


def export(model: Any, args: Any = (), f: Any = None, *, kwargs: dict | None = None,
           verbose: bool | None = None, input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None, opset_version: int | None = None,
           dynamo: bool = True, external_data: bool = True, dynamic_shapes: Any = None,
           custom_translation_table: Any = None, report: bool = False, optimize: bool = True,
           verify: bool = False, profile: bool = False, dump_exported_program: bool = False,
           artifacts_dir: Any = ".", export_params: bool = True,
           keep_initializers_as_inputs: bool = False,
           dynamic_axes: Mapping[str, Mapping[int, str] | Sequence[int]] | None = None,
           training: TrainingMode = TrainingMode.EVAL, operator_export_type: Any = None,
           do_constant_folding: bool = True, custom_opsets: Mapping[str, int] | None = None,
           export_modules_as_functions: Any = False, autograd_inlining: bool = True) -> Any:
    """Write ``model`` called on ``args`` as an ONNX graph to ``f`` (a path or a binary file);
    returns the ``onnx.ModelProto``. Needs the onnx extra (``pip install 'backprop[onnx]'``).

    ``dynamic_axes`` maps input and output names to the axes (a list, or {axis: name}) that
    may change size, such as the batch. ``verify=True`` runs the file in ONNX Runtime on
    ``args`` and compares with the model. ``export_params=False`` makes the parameters graph
    inputs; ``keep_initializers_as_inputs`` lists them as inputs too. ``dynamo``,
    ``external_data`` (the graph is one file), ``report``, ``optimize``, ``profile``,
    ``dump_exported_program``, ``artifacts_dir``, ``do_constant_folding`` and
    ``autograd_inlining`` are accepted and change nothing; ``dynamic_shapes``,
    ``custom_translation_table``, ``custom_opsets``, ``export_modules_as_functions``, an
    ``operator_export_type`` other than ONNX and ``training=TrainingMode.TRAINING`` are refused.

    >>> import io, backprop as bp
    >>> buffer = io.BytesIO()
    >>> proto = bp.onnx.export(bp.nn.Linear(3, 2), (bp.ones(4, 3),), buffer,
    ...                        input_names=["x"], dynamic_axes={"x": {0: "batch"}})  # doctest: +SKIP
    >>> [n.op_type for n in proto.graph.node]  # doctest: +SKIP
    ['Gemm', 'Identity']
    """
    onnx = require_onnx()
    _refuse(dynamic_shapes, custom_translation_table, custom_opsets,
            export_modules_as_functions, operator_export_type, training)
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise OnnxExporterError(f"onnx.export: opset_version={opset_version} is not supported "
                                f"(from {MIN_OPSET} to {MAX_OPSET}; default {DEFAULT_OPSET})")
    if not callable(model) or not hasattr(model, "named_modules"):
        raise TypeError(f"onnx.export: model must be a backprop.nn.Module, got "
                        f"{type(model).__name__}")
    args, kwargs = split_args(args, kwargs)
    inputs = flatten(args) + flatten(list(kwargs.values()))
    names = input_names_of(model, args, kwargs, inputs, input_names)
    axes = read_dynamic_axes(dynamic_axes)
    modes = {id(m): m.training for m in model.modules()}
    if getattr(training, "name", None) == "EVAL" or training == TrainingMode.EVAL:
        model.eval()
    from ..random import default_generator

    drawn = repr(default_generator.get_state())
    _exporting[0] += 1
    try:
        proto, outputs = _build(onnx, model, args, kwargs, inputs, names, output_names, axes,
                                opset,
                       export_params, keep_initializers_as_inputs)
    finally:
        _exporting[0] -= 1
        for m in model.modules():
            m.training = modes.get(id(m), m.training)
    if repr(default_generator.get_state()) != drawn:
        warnings.warn("onnx.export: the model drew random numbers in forward (randn_like, "
                      "rand, ...): the exported graph holds the values drawn while tracing as "
                      "constants", stacklevel=2)
    if verify:
        _verify(proto, inputs, names, outputs, export_params)
    if verbose:
        print(onnx.helper.printable_graph(proto.graph))
    if f is not None:
        data = proto.SerializeToString()
        if hasattr(f, "write"):
            f.write(data)
        else:
            with open(os.fspath(f), "wb") as file:
                file.write(data)
    return proto


def _refuse(dynamic_shapes: Any, table: Any, opsets: Any, functions: Any, export_type: Any,
            training: Any) -> None:
    refusals = []
    if dynamic_shapes is not None:
        refusals.append("dynamic_shapes (torch.export's specs) is not supported: name the "
                        "dynamic axes with dynamic_axes={'input': {0: 'batch'}}")
    if table:
        refusals.append("custom_translation_table is not supported")
    if opsets:
        refusals.append("custom_opsets is not supported (only the default ONNX domain is used)")
    if functions:
        refusals.append("export_modules_as_functions is not supported")
    if export_type is not None and getattr(export_type, "name", export_type) not in ("ONNX", 0):
        refusals.append(f"operator_export_type={export_type} is not supported (only ONNX)")
    if training not in (TrainingMode.EVAL, TrainingMode.PRESERVE) and \
            getattr(training, "name", None) not in ("EVAL", "PRESERVE"):
        refusals.append("training=TrainingMode.TRAINING is not supported (dropout would be "
                        "random); use TrainingMode.EVAL")
    if refusals:
        raise OnnxExporterError("onnx.export: " + "; ".join(refusals))


def _verify(proto: Any, inputs: list[Tensor], names: list[str], outputs: list[Tensor],
            export_params: bool) -> None:
    """Run the graph in ONNX Runtime on the traced inputs and compare with the model's outputs
    (float32 to a few ulps per op: ONNX Runtime fuses and orders sums its own way)."""
    try:
        import onnxruntime  # type: ignore[import-untyped]
    except ImportError:
        raise ImportError("onnx.export(verify=True) runs the graph in ONNX Runtime: pip install "
                          "onnxruntime (or 'backprop[dev]')") from None
    if not export_params:
        raise OnnxExporterError("onnx.export: verify=True needs export_params=True (the graph "
                                "takes its parameters as inputs otherwise)")
    session = onnxruntime.InferenceSession(proto.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    got = session.run(None, {n: host(t) for n, t in zip(names, inputs)})
    for k, (a, want) in enumerate(zip(got, outputs)):
        b = host(want)
        if a.shape != b.shape or not np.allclose(a, b, rtol=1e-4, atol=1e-5, equal_nan=True):
            worst = float(np.max(np.abs(a - b))) if a.shape == b.shape else float("nan")
            raise OnnxExporterError(f"onnx.export(verify=True): output {k} differs from the "
                                    f"model's: shapes {a.shape} and {b.shape}, largest "
                                    f"difference {worst:.3g}")


def _build(onnx: Any, model: Any, args: tuple, kwargs: dict, inputs: list[Tensor],
           names: list[str], output_names: Sequence[str] | None,
           axes: dict[str, dict[int, str]], opset: int, export_params: bool,
           keep_initializers_as_inputs: bool) -> tuple[Any, list[Tensor]]:
    """The checked ModelProto, and the model's outputs at ``args``."""
    labels = {id(m): (f"{q} ({type(m).__name__})" if q else type(m).__name__)
              for q, m in model.named_modules()}
    parameters: dict[int, tuple[str, Tensor]] = {}
    for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
        parameters.setdefault(id(tensor), (name, tensor))
    events, out = trace(model, args, kwargs, labels, captured)
    out_names = list(output_names or [])
    count = len(flatten(out))
    if len(out_names) > count:
        raise ValueError(f"onnx.export: {len(out_names)} output_names for {count} output "
                         "tensors")
    out_names += [("output" if count == 1 else f"output_{i}") for i in range(len(out_names), count)]
    unknown = [n for n in axes if n not in names and n not in out_names]
    if unknown:
        raise ValueError(f"onnx.export: dynamic_axes names {unknown} are neither inputs "
                         f"{names} nor outputs {out_names}")
    sizes = _new_sizes(inputs, names, axes)
    events, out, other_events, other_out = _second_run(model, args, kwargs, inputs, names, axes,
                                                       sizes, labels, events, out)
    ctx = Context(Graph(opset), parameters, {})
    ctx.qualnames = {id(m): q for q, m in model.named_modules()}
    pair_labels: dict[tuple[int, int], str] = {}
    for tensor, name in zip(inputs, names):
        ctx.bind(tensor, name)
        for axis, label in axes.get(name, {}).items():
            ctx.dynamic.setdefault(sizes[label], (name, axis % tensor.ndim))
            pair_labels.setdefault(sizes[label], label)
    _convert(ctx, events, other_events)

    outputs, other_outputs = flatten(out), flatten(other_out)
    graph_outputs = []
    for i, (tensor, name) in enumerate(zip(outputs, out_names)):
        ctx.node("Identity", [ctx.value(tensor)], [name])
        dims: list[Any] = [int(n) for n in tensor.shape]
        if len(other_outputs) == len(outputs):  # sizes that followed the dynamic axes
            for axis, (a, b) in enumerate(zip(tensor.shape, other_outputs[i].shape)):
                if a != b:
                    dims[axis] = pair_labels.get((int(a), int(b)), f"{name}_dim_{axis}")
        for axis, label in axes.get(name, {}).items():
            dims[axis % max(tensor.ndim, 1)] = label
        graph_outputs.append(onnx.helper.make_tensor_value_info(
            name, tensor_type(np.dtype(tensor.dtype)), dims))
    graph_inputs = []
    for tensor, name in zip(inputs, names):
        dims = [int(n) for n in tensor.shape]
        for axis, label in axes.get(name, {}).items():
            dims[axis % tensor.ndim] = label
        graph_inputs.append(onnx.helper.make_tensor_value_info(
            name, tensor_type(np.dtype(tensor.dtype)), dims))
    state_names = {name for name, _ in parameters.values()}
    initializers = []
    for name, array in ctx.graph.initializers.items():
        parameter_input = onnx.helper.make_tensor_value_info(name, tensor_type(array.dtype),
                                                             list(array.shape))
        if not export_params and name in state_names:
            graph_inputs.append(parameter_input)
            continue
        initializers.append(onnx.numpy_helper.from_array(array, name))
        if keep_initializers_as_inputs and name in state_names:
            graph_inputs.append(parameter_input)
    onnx_graph = onnx.helper.make_graph(ctx.graph.nodes, "main_graph", graph_inputs,
                                        graph_outputs, initializer=initializers)
    opsets = [onnx.helper.make_opsetid("", opset)]
    from .. import __version__

    proto = onnx.helper.make_model(onnx_graph, opset_imports=opsets, producer_name="backprop",
                                   producer_version=str(__version__),
                                   ir_version=onnx.helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(proto)
    return proto, outputs


def _new_sizes(inputs: list[Tensor], names: list[str],
               axes: dict[str, dict[int, str]]) -> dict[str, tuple[int, int]]:
    """Per dynamic axis name: (its size in ``args``, another size for the second run), the
    other sizes distinct, so that a size seen in both runs tells which axis it follows."""
    sizes: dict[str, tuple[int, int]] = {}
    for tensor, name in zip(inputs, names):
        for axis, label in axes.get(name, {}).items():
            if not -tensor.ndim <= axis < tensor.ndim:
                raise ValueError(f"onnx.export: dynamic axis {axis} of input {name!r} is out of "
                                 f"range for its shape {tuple(tensor.shape)}")
            first = int(tensor.shape[axis])
            if label not in sizes:
                sizes[label] = (first, first + 3 + len(sizes))
            elif sizes[label][0] != first:
                raise ValueError(f"onnx.export: dynamic axes named {label!r} have sizes "
                                 f"{sizes[label][0]} and {first}")
    return sizes


def _second_run(model: Any, args: tuple, kwargs: dict, inputs: list[Tensor], names: list[str],
                axes: dict[str, dict[int, str]], sizes: dict[str, tuple[int, int]],
                labels: dict[int, str], events: list, out: Any) -> tuple:
    """(events, out, other events, other out): the model run again with every dynamic axis
    resized (the first run's events themselves when there are none)."""
    swap: dict[int, Tensor] = {}
    for tensor, name in zip(inputs, names):
        resize = {axis % tensor.ndim: sizes[label][1]
                  for axis, label in axes.get(name, {}).items()}
        if resize:
            swap[id(tensor)] = resized(tensor, resize)
    if not swap:
        return events, out, events, out
    try:
        other_events, other_out = trace(model, replaced(args, swap), replaced(kwargs, swap),
                                        labels, captured)
    except Exception as err:
        raise OnnxExporterError(
            f"onnx.export: the model failed when run with the dynamic axes resized "
            f"({ {k: v[1] for k, v in sizes.items()} }): {type(err).__name__}: {err}. "
            "Name every input axis that must change with them in dynamic_axes") from err
    try:
        check_same_ops(events, other_events)
    except OnnxExporterError:
        # A model that caches what its first call made (word_language_model's mask) runs
        # fewer ops the second time: a third run, at the exported sizes, may match the second.
        again, again_out = trace(model, args, kwargs, labels, captured)
        try:
            check_same_ops(again, other_events)
        except OnnxExporterError:
            pass
        else:
            events, out = again, again_out
    check_same_ops(events, other_events)
    return events, out, other_events, other_out


def _convert(ctx: Context, events: list, other_events: list) -> None:
    """Each traced call's nodes, in the order of the calls."""
    for first, second in zip(events, other_events):
        event = _event(first, second)
        writes = getattr(first, "writes", None)
        if writes is not None:  # in place: the fresh tensor holds the target's value
            ctx.bind(writes[0], ctx.value(writes[1]))
        for fresh, owner in getattr(first, "aliases", ()):
            if not ctx.known(fresh):
                ctx.bind(fresh, ctx.value(owner))
        check_same_arguments(ctx, event)
        if isinstance(first, ModuleEvent):
            result = convert_module(ctx, event)
        else:
            convert = CONVERTERS.get(event.name)
            if convert is None:
                hint = HINTS.get(event.name, "there is no ONNX converter for it; "
                                 "see backprop.onnx for the ops that are exported")
                raise event.fail(hint)
            result = convert(ctx, event)
        _bind(ctx, event.out, result, event.name)
        if writes is not None and isinstance(event.out, Tensor):
            ctx.bind(writes[1], ctx.value(event.out))  # the target now holds the result
            if writes[1]._view is not None:
                ctx.written_through(writes[1], event)


def _event(first: Any, second: Any) -> Event:
    if isinstance(first, ModuleEvent):
        return Event(type(first.module).__name__, first.args, first.kwargs, first.out,
                     first.where, second.args, second.kwargs, module=first.module)
    return Event(first.name, first.args, first.params, first.out, first.where, second.args,
                 second.params)


def _bind(ctx: Context, out: Any, result: Any, maker: str) -> None:
    if isinstance(out, Tensor):
        if isinstance(result, (list, tuple)):
            result = result[0]
        ctx.bind(out, result, maker)
        return
    if isinstance(out, (tuple, list)):
        results = result if isinstance(result, (tuple, list)) else [result]
        for k, item in enumerate(out):
            _bind(ctx, item, results[k] if k < len(results) else None, maker)
