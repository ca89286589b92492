"""``bp.utils.tensorboard.SummaryWriter``: what it writes, read back with TensorBoard's own event
reader, and compared with what PyTorch's ``SummaryWriter`` writes for the same calls; and the
gradient monitor's figures sent to a writer."""

from __future__ import annotations

import gc
import inspect
import io
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.diagnostics import GradientMonitor
from backprop.utils.tensorboard import SummaryWriter, _summaries

pytest.importorskip("tensorboardX")
pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing import event_accumulator


def read(folder: Path | str) -> Any:
    """Every event of the run in ``folder`` (TensorBoard's reader, keeping everything)."""
    reader = event_accumulator.EventAccumulator(
        str(folder), size_guidance=event_accumulator.STORE_EVERYTHING_SIZE_GUIDANCE)
    reader.Reload()
    return reader


def scalars(reader: Any, tag: str) -> list[tuple[int, float]]:
    return [(e.step, e.value) for e in reader.Scalars(tag)]


def plugin_content(reader: Any, plugin: str) -> dict[str, bytes]:
    """The plugin's tag -> content map, empty where the run has no data of that plugin."""
    try:
        return reader.PluginTagToContent(plugin)
    except KeyError:
        return {}


def pixels(encoded: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(encoded)))


# -- scalars ---------------------------------------------------------------------------------------

def test_scalars_of_every_kind_read_back(tmp_path: Path) -> None:
    values = [0.5, bp.tensor(1.25, requires_grad=True) * 2, np.float64(3.0), np.array([[4.5]]),
              bp.tensor([7], dtype=bp.int64), 8]
    with SummaryWriter(tmp_path) as writer:
        for step, value in enumerate(values):
            writer.add_scalar("loss/train", value, step * 10)
        writer.add_scalar("lr", 0.1, bp.tensor(3))
    reader = read(tmp_path)
    assert reader.Tags()["scalars"] == ["loss/train", "lr"]
    assert scalars(reader, "loss/train") == [(0, 0.5), (10, 2.5), (20, 3.0), (30, 4.5), (40, 7.0),
                                             (50, 8.0)]
    assert scalars(reader, "lr") == [(3, pytest.approx(0.1))]


def test_values_on_a_device_are_copied_to_the_host(tmp_path: Path) -> None:
    # the strict device keeps CuPy's rules: np.asarray on its arrays is refused, as on a GPU
    values = bp.linspace(0, 1, 12, device="strict:0", requires_grad=True)
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalar("mean", values.mean(), 0)
        writer.add_histogram("values", values, 0)
        writer.add_image("picture", values.reshape(1, 3, 4), 0)
        writer.add_tensor("raw", values, 0)
        writer.add_hparams({"lr": bp.tensor([0.25], device="strict:1")}, {"acc": values.max()},
                           run_name="hp")
    reader = read(tmp_path)
    assert scalars(reader, "mean") == [(0, 0.5)]
    assert reader.Histograms("values")[0].histogram_value.num == 12
    assert reader.Images("picture")[0].width == 4
    assert scalars(read(tmp_path / "hp"), "acc") == [(0, 1.0)]


@pytest.mark.parametrize("double", [False, True])
def test_new_style_scalars_are_tensors_of_the_scalars_plugin(tmp_path: Path,
                                                             double: bool) -> None:
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalar("x", 1 / 3, 2, new_style=True, double_precision=double)
    reader = read(tmp_path)
    (event,) = reader.Tensors("x")
    assert event.step == 2
    assert reader.SummaryMetadata("x").plugin_data.plugin_name == "scalars"
    stored = list(event.tensor_proto.double_val if double else event.tensor_proto.float_val)
    assert stored == [pytest.approx(1 / 3, rel=1e-15 if double else 1e-7)]


def test_add_scalars_writes_one_sub_run_per_key_as_pytorch_names_them(tmp_path: Path) -> None:
    with SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalars("loss/all", {"train": step, "val": 10 + step}, step)
    runs = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert runs == ["loss_all_train", "loss_all_val"]
    assert scalars(read(tmp_path / "loss_all_train"), "loss/all") == [(0, 0), (1, 1), (2, 2)]
    assert scalars(read(tmp_path / "loss_all_val"), "loss/all") == [(0, 10), (1, 11), (2, 12)]


def test_bad_scalars_are_refused_with_the_shape(tmp_path: Path) -> None:
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match=r"add_scalar: scalar_value .* shape \(3,\)"):
            writer.add_scalar("x", bp.ones(3), 0)
        with pytest.raises(TypeError, match="add_scalar: scalar_value"):
            writer.add_scalar("x", "fast", 0)
        with pytest.raises(TypeError, match="add_scalar: tag must be a str"):
            writer.add_scalar(3, 1.0, 0)
        with pytest.raises(ValueError, match="global_step must be an integer"):
            writer.add_scalar("x", 1.0, 1.5)
        with pytest.raises(ValueError, match=r"add_scalars: tag_scalar_dict\['b'\] must hold "
                                             r"exactly one number, got shape \(2,\)"):
            writer.add_scalars("pair", {"a": 1.0, "b": np.ones(2)}, 0)
    assert not (tmp_path / "pair_a").exists()


# -- histograms ------------------------------------------------------------------------------------

def test_histogram_figures(tmp_path: Path) -> None:
    values = np.random.default_rng(0).normal(size=(40, 25)).astype(np.float32)
    with SummaryWriter(tmp_path) as writer:
        writer.add_histogram("w", bp.tensor(values, requires_grad=True), 5)
        writer.add_histogram("w_auto", values, 5, bins="auto")
        writer.add_histogram("w_few", values, 5, bins=100, max_bins=10)
    reader = read(tmp_path)
    flat = values.astype(np.float64).ravel()
    for tag in ("w", "w_auto", "w_few"):
        (event,) = reader.Histograms(tag)
        histo = event.histogram_value
        assert event.step == 5
        assert (histo.num, histo.min, histo.max) == (1000, flat.min(), flat.max())
        assert histo.sum == pytest.approx(flat.sum(), rel=1e-12)
        assert histo.sum_squares == pytest.approx(flat @ flat, rel=1e-12)
        assert sum(histo.bucket) == 1000 and histo.bucket[0] == 0
        assert histo.bucket_limit[-1] >= flat.max()
    assert len(reader.Histograms("w_few")[0].histogram_value.bucket) <= 11


def test_histogram_of_nothing_is_refused(tmp_path: Path) -> None:
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match="add_histogram: values is empty"):
            writer.add_histogram("w", np.zeros(0), 0)
        with pytest.raises(ValueError, match="none of the 2 values falls inside the bins"):
            writer.add_histogram("w", np.array([5.0, 6.0]), 0, bins=[0.0, 1.0])


# -- images ----------------------------------------------------------------------------------------

def test_float_images_are_scaled_clipped_and_truncated_as_pytorch(tmp_path: Path) -> None:
    image = np.linspace(-0.5, 1.5, 3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)
    with SummaryWriter(tmp_path) as writer:
        writer.add_image("chw", bp.tensor(image, requires_grad=True), 1)
        writer.add_image("hwc", image.transpose(1, 2, 0), 1, dataformats="HWC")
        writer.add_image("u8", (np.arange(4 * 5 * 3) % 256).astype(np.uint8).reshape(4, 5, 3), 1,
                         dataformats="HWC")
        writer.add_image("grey", image[0], 1, dataformats="HW")
    reader = read(tmp_path)
    expected = np.clip(image.transpose(1, 2, 0) * np.float32(255), 0, 255).astype(np.uint8)
    for tag in ("chw", "hwc"):
        (event,) = reader.Images(tag)
        assert (event.step, event.height, event.width) == (1, 4, 5)
        np.testing.assert_array_equal(pixels(event.encoded_image_string), expected)
    u8 = pixels(reader.Images("u8")[0].encoded_image_string)
    np.testing.assert_array_equal(u8, (np.arange(60) % 256).astype(np.uint8).reshape(4, 5, 3))
    grey = pixels(reader.Images("grey")[0].encoded_image_string)
    np.testing.assert_array_equal(grey, np.stack([expected[:, :, 0]] * 3, axis=2))


def test_add_images_tiles_a_batch_eight_a_row(tmp_path: Path) -> None:
    batch = np.random.default_rng(1).random((10, 1, 3, 2))
    with SummaryWriter(tmp_path) as writer:
        writer.add_images("batch", batch, 0)
        writer.add_images("nhwc", batch.transpose(0, 2, 3, 1), 0, dataformats="NHWC")
    reader = read(tmp_path)
    grid = pixels(reader.Images("batch")[0].encoded_image_string)
    assert grid.shape == (6, 16, 3)
    np.testing.assert_array_equal(grid[3:6, 2:4, 1],
                                  np.clip(batch[9, 0].astype(np.float32) * 255, 0, 255)
                                  .astype(np.uint8))
    assert not grid[3:6, 4:].any()  # the cells after the last picture stay black
    np.testing.assert_array_equal(grid, pixels(reader.Images("nhwc")[0].encoded_image_string))


def test_rgba_and_bad_layouts(tmp_path: Path) -> None:
    with SummaryWriter(tmp_path) as writer:
        writer.add_image("rgba", np.full((4, 2, 2), 255, np.uint8), 0)
        with pytest.raises(ValueError, match=r"add_image: dataformats 'CHW' needs a 3-D image, "
                                             r"got shape \(2, 2\)"):
            writer.add_image("x", np.zeros((2, 2)), 0)
        with pytest.raises(ValueError, match="add_image: dataformats must name"):
            writer.add_image("x", np.zeros((3, 2, 2)), 0, dataformats="CHH")
        with pytest.raises(ValueError, match="needs 1 .*, 3 .* or 4 .* channels, got 5"):
            writer.add_image("x", np.zeros((5, 2, 2)), 0)
    assert pixels(read(tmp_path).Images("rgba")[0].encoded_image_string).shape == (2, 2, 4)


# -- text and hyperparameters ----------------------------------------------------------------------

def test_text(tmp_path: Path) -> None:
    with SummaryWriter(tmp_path) as writer:
        writer.add_text("notes", "**lr** = 0.1 — ok", 7)
    reader = read(tmp_path)
    (event,) = reader.Tensors("notes/text_summary")
    assert event.step == 7
    assert event.tensor_proto.string_val == ["**lr** = 0.1 — ok".encode()]
    assert reader.SummaryMetadata("notes/text_summary").plugin_data.plugin_name == "text"


def test_hparams_go_to_a_sub_run_with_the_plugin_data(tmp_path: Path) -> None:
    from tensorboard.plugins.hparams import plugin_data_pb2

    with SummaryWriter(tmp_path) as writer:
        writer.add_hparams({"lr": 0.1, "batch": 32, "opt": "adam", "nesterov": True,
                            "skipped": None},
                           {"hparam/accuracy": bp.tensor(0.75)},
                           hparam_domain_discrete={"opt": ["adam", "sgd"]}, run_name="trial1")
        writer.add_hparams({"lr": 0.2}, {"hparam/accuracy": 0.5})  # run named by the time
    runs = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert runs[-1] == "trial1" and float(runs[0]) > 1e9
    reader = read(tmp_path / "trial1")
    content = reader.PluginTagToContent("hparams")
    assert set(content) == {"_hparams_/experiment", "_hparams_/session_start_info",
                            "_hparams_/session_end_info"}
    start = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]).session_start_info
    assert start.hparams["lr"].number_value == 0.1
    assert start.hparams["batch"].number_value == 32
    assert start.hparams["opt"].string_value == "adam"
    assert start.hparams["nesterov"].number_value == 1.0  # as PyTorch: a bool is a number
    assert "skipped" not in start.hparams
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/experiment"]).experiment
    assert [m.name.tag for m in experiment.metric_infos] == ["hparam/accuracy"]
    infos = {info.name: info for info in experiment.hparam_infos}
    assert [v.string_value for v in infos["opt"].domain_discrete.values] == ["adam", "sgd"]
    assert scalars(reader, "hparam/accuracy") == [(0, 0.75)]
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(TypeError, match="add_hparams: hparam_dict and metric_dict must be "
                                            "dicts"):
            writer.add_hparams([("lr", 0.1)], {})
        with pytest.raises(ValueError, match=r"add_hparams: hparam_dict\['f'\]"):
            writer.add_hparams({"f": object()}, {})


# -- the rest --------------------------------------------------------------------------------------

def test_figure_pr_curve_audio_mesh_and_custom_scalars(tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 1), dpi=50)
    figure.add_subplot().plot([0, 1], [1, 0])
    rng = np.random.default_rng(2)
    with SummaryWriter(tmp_path) as writer:
        writer.add_figure("fig", figure, 0, close=False)
        writer.add_pr_curve("pr", bp.tensor(rng.integers(0, 2, 50)), bp.tensor(rng.random(50)), 0)
        writer.add_audio("sound", bp.tensor(np.sin(np.linspace(0, 30, 800)))[None], 0,
                         sample_rate=8000)
        writer.add_mesh("cloud", bp.rand(1, 10, 3), global_step=0)
        writer.add_custom_scalars_multilinechart(["loss/train", "loss/val"])
    reader = read(tmp_path)
    (image,) = reader.Images("fig")
    assert (image.width, image.height) == (100, 50)
    assert reader.Audio("sound")[0].sample_rate == 8000
    assert "pr" in reader.PluginTagToContent("pr_curves")
    assert reader.PluginTagToContent("mesh")
    assert reader.PluginTagToContent("custom_scalars")


def test_onnx_graph(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])])
    onnx.save(helper.make_model(graph), tmp_path / "tiny.onnx")
    with SummaryWriter(tmp_path / "run") as writer:
        writer.add_onnx_graph(tmp_path / "tiny.onnx")
    nodes = read(tmp_path / "run").Graph().node
    assert sorted(node.op for node in nodes) == ["Relu", "Variable", "Variable"]
    (relu,) = (node for node in nodes if node.op == "Relu")
    assert list(relu.input) == ["x"]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int32,
                                   np.int64, np.uint8, np.bool_, np.complex64])
def test_tensors_read_back_with_tensorboards_converter(tmp_path: Path, dtype: Any) -> None:
    # Half values are stored as TensorFlow's TensorProto says, their 16-bit patterns (PyTorch's
    # writer stores float32 bit patterns there, which TensorBoard's converter cannot read).
    from tensorboard.util import tensor_util

    values = (np.arange(-3, 3).reshape(2, 3) * (1.5 + 0.5j if dtype == np.complex64 else 1))
    values = values.astype(dtype) if dtype != np.uint8 else np.arange(6, dtype=np.uint8)
    with SummaryWriter(tmp_path) as writer:
        writer.add_tensor("t", bp.tensor(values), 2)
    (event,) = read(tmp_path).Tensors("t")
    back = tensor_util.make_ndarray(event.tensor_proto)
    assert back.dtype == values.dtype
    np.testing.assert_array_equal(back, values)


def test_tensors_of_unsupported_dtypes_are_refused(tmp_path: Path) -> None:
    with SummaryWriter(tmp_path) as writer, \
            pytest.raises(ValueError, match="add_tensor: t has unsupported dtype uint16"):
        writer.add_tensor("t", np.zeros(2, np.uint16))


def test_embedding_files(tmp_path: Path) -> None:
    with SummaryWriter(tmp_path) as writer:
        writer.add_embedding(bp.tensor([[1.0, 2.0], [3.0, 4.0]]), metadata=["a", "b"],
                             global_step=3, tag="words")
    folder = tmp_path / "00003" / "words"
    assert (folder / "metadata.tsv").read_text().split() == ["a", "b"]
    assert [line.split("\t") for line in (folder / "tensors.tsv").read_text().split("\n")
            if line] == [["1.0", "2.0"], ["3.0", "4.0"]]
    assert 'tensor_name: "words:00003"' in (tmp_path / "projector_config.pbtxt").read_text()


def test_add_graph_says_what_to_use_instead(tmp_path: Path) -> None:
    with SummaryWriter(tmp_path) as writer, \
            pytest.raises(NotImplementedError, match=r"bp\.diagnostics\.draw_graph"):
        writer.add_graph(bp.nn.Linear(2, 2), bp.ones(1, 2))


def test_purge_step_hides_the_crashed_runs_later_events(tmp_path: Path) -> None:
    with SummaryWriter(tmp_path, filename_suffix=".a") as writer:
        for step in range(5):
            writer.add_scalar("x", step, step)
    with SummaryWriter(tmp_path, purge_step=2, filename_suffix=".b") as writer:
        for step in range(2, 4):
            writer.add_scalar("x", 10 * step, step)
    assert scalars(read(tmp_path), "x") == [(0, 0), (1, 1), (2, 20), (3, 30)]


def test_lifetime_flush_close_and_reopen(tmp_path: Path) -> None:
    writer = SummaryWriter(tmp_path / "run", max_queue=1000, flush_secs=1000)
    assert writer.get_logdir() == writer.log_dir == tmp_path / "run"
    writer.add_scalar("x", 1.0, 0)
    writer.flush()
    assert scalars(read(tmp_path / "run"), "x") == [(0, 1.0)]
    writer.close()
    writer.close()  # twice is fine
    writer.add_scalar("x", 2.0, 1)  # a new event file
    writer.close()
    assert scalars(read(tmp_path / "run"), "x") == [(0, 1.0), (1, 2.0)]
    assert len(list((tmp_path / "run").glob("events.out.tfevents.*"))) == 2


def test_events_reach_the_file_every_flush_secs_and_when_the_writer_is_dropped(
        tmp_path: Path) -> None:
    writer = SummaryWriter(tmp_path / "timed", max_queue=1000, flush_secs=0.05)
    writer.add_scalar("x", 1.0, 0)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not read(tmp_path / "timed").Tags()["scalars"]:
        time.sleep(0.05)
    assert scalars(read(tmp_path / "timed"), "x") == [(0, 1.0)]
    writer.close()
    dropped = SummaryWriter(tmp_path / "dropped", max_queue=1000, flush_secs=1000)
    dropped.add_scalar("x", 2.0, 0)
    del dropped
    gc.collect()
    assert scalars(read(tmp_path / "dropped"), "x") == [(0, 2.0)]


def test_default_log_dir_is_pytorchs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_lr0.1") as writer:
        folder = Path(writer.log_dir)
    assert folder.parent == Path("runs")
    assert folder.name.endswith("_" + socket.gethostname() + "_lr0.1")
    assert (tmp_path / folder).is_dir()


@pytest.fixture
def fresh_protos() -> Any:
    """Forget which package the message classes came from, before and after the test."""
    _summaries.protos.cache_clear()
    yield
    _summaries.protos.cache_clear()


def hide(monkeypatch: pytest.MonkeyPatch, package: str) -> None:
    """Make ``package`` and its already imported modules unimportable for the test."""
    for name in [package] + [n for n in sys.modules if n.startswith(package + ".")]:
        monkeypatch.setitem(sys.modules, name, None)


def test_missing_packages_name_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         fresh_protos: Any) -> None:
    hide(monkeypatch, "tensorboardX")
    hide(monkeypatch, "tensorboard")
    with pytest.raises(ImportError, match=r"pip install 'backprop\[tensorboard\]'"):
        SummaryWriter(tmp_path)


def test_tensorboards_own_package_serves_without_tensorboardx(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_protos: Any) -> None:
    from tensorboard.plugins.hparams import plugin_data_pb2

    hide(monkeypatch, "tensorboardX")
    with SummaryWriter(tmp_path) as writer:
        assert _summaries.protos().Summary.__module__ == "tensorboard.compat.proto.summary_pb2"
        writer.add_scalar("loss", bp.tensor(0.5), 1)
        writer.add_scalars("pair", {"a": 1.0}, 1)
        writer.add_histogram("h", np.arange(10.0), 1)
        writer.add_image("i", np.ones((3, 2, 2)), 1)
        writer.add_text("t", "hi", 1)
        writer.add_tensor("u8", np.arange(3, dtype=np.uint8), 1)
        writer.add_hparams({"lr": 0.1}, {"acc": 1.0}, run_name="hp")
        with pytest.raises(ImportError, match=r"SummaryWriter.add_pr_curve needs tensorboardX: "
                                              r"pip install 'backprop\[tensorboard\]'"):
            writer.add_pr_curve("pr", np.ones(3), np.ones(3), 1)
    reader = read(tmp_path)
    assert scalars(reader, "loss") == [(1, 0.5)]
    assert reader.Histograms("h")[0].histogram_value.num == 10
    assert pixels(reader.Images("i")[0].encoded_image_string).min() == 255
    assert reader.Tensors("t/text_summary")[0].tensor_proto.string_val == [b"hi"]
    assert scalars(read(tmp_path / "pair_a"), "pair") == [(1, 1.0)]
    start = plugin_data_pb2.HParamsPluginData.FromString(
        read(tmp_path / "hp").PluginTagToContent("hparams")["_hparams_/session_start_info"])
    assert start.session_start_info.hparams["lr"].number_value == 0.1


# -- against PyTorch's writer ----------------------------------------------------------------------

def test_signatures_are_pytorchs(torch: Any) -> None:
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    names = [n for n in dir(TorchWriter) if n.startswith("add_")]
    for name in ["__init__", "flush", "close", "get_logdir"] + names:
        theirs = inspect.signature(getattr(TorchWriter, name))
        ours = inspect.signature(getattr(SummaryWriter, name))
        assert [(p.name, p.default) for p in ours.parameters.values()] == \
            [(p.name, p.default) for p in theirs.parameters.values()], name


def _same_calls(writer: Any, lib: Any, folder: Path) -> None:
    image = np.linspace(-0.2, 1.2, 3 * 6 * 4, dtype=np.float32).reshape(3, 6, 4)
    values = np.random.default_rng(3).normal(size=500).astype(np.float32)
    for step in range(3):
        writer.add_scalar("loss", lib.tensor(1.5 / (step + 1)), step)
    writer.add_scalars("pair", {"a": 1.0, "b": 2.0}, 4)
    writer.add_image("picture", lib.tensor(image), 2)
    writer.add_images("batch", lib.tensor(np.stack([image] * 3)), 2)
    writer.add_histogram("values", lib.tensor(values), 1)
    writer.add_text("note", "hello", 1)
    writer.add_tensor("weights", lib.tensor(values[:6].reshape(2, 3)), 1)
    writer.add_tensor("counts", lib.tensor(np.arange(4, dtype=np.int64)), 1)
    writer.add_image_with_boxes("boxes", lib.tensor(image), lib.tensor([[0.0, 1.0, 3.0, 4.0]]), 1)
    writer.add_hparams({"lr": 0.1, "opt": "sgd"}, {"hp/acc": 0.9}, run_name="hp")
    writer.close()


def test_event_content_matches_pytorchs_writer(torch: Any, tmp_path: Path) -> None:
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    _same_calls(SummaryWriter(tmp_path / "ours"), bp, tmp_path / "ours")
    _same_calls(TorchWriter(tmp_path / "theirs"), torch, tmp_path / "theirs")
    ours_runs = sorted(p.name for p in (tmp_path / "ours").iterdir() if p.is_dir())
    assert ours_runs == sorted(p.name for p in (tmp_path / "theirs").iterdir() if p.is_dir())
    for run in ["", *ours_runs]:
        ours, theirs = read(tmp_path / "ours" / run), read(tmp_path / "theirs" / run)
        assert ours.Tags() == theirs.Tags(), run
        for tag in ours.Tags()["scalars"]:
            assert scalars(ours, tag) == scalars(theirs, tag)
        for tag in ours.Tags()["images"]:
            (a,), (b,) = ours.Images(tag), theirs.Images(tag)
            assert (a.step, a.width, a.height) == (b.step, b.width, b.height)
            np.testing.assert_array_equal(pixels(a.encoded_image_string),
                                          pixels(b.encoded_image_string))
        for tag in ours.Tags()["histograms"]:
            assert ours.Histograms(tag)[0].histogram_value == theirs.Histograms(tag)[0] \
                .histogram_value
        for tag in ours.Tags()["tensors"]:
            assert [(e.step, e.tensor_proto) for e in ours.Tensors(tag)] == \
                [(e.step, e.tensor_proto) for e in theirs.Tensors(tag)]
        for plugin in ("hparams", "text", "scalars"):
            assert plugin_content(ours, plugin) == plugin_content(theirs, plugin), (run, plugin)


def test_default_bins_are_pytorchs(torch: Any, tmp_path: Path) -> None:
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    with TorchWriter(tmp_path / "theirs") as theirs, SummaryWriter(tmp_path / "ours") as ours:
        assert ours.default_bins == theirs.default_bins


def test_summary_module_as_pytorchs(torch: Any, tmp_path: Path) -> None:
    # The common idiom: hyperparameters in the run's own folder rather than a sub-run.
    from torch.utils.tensorboard import summary as theirs

    from backprop.utils.tensorboard import summary as ours

    for name in ours.__all__:
        assert [(p.name, p.default) for p in inspect.signature(getattr(ours, name))
                .parameters.values()] == \
            [(p.name, p.default) for p in inspect.signature(getattr(theirs, name))
             .parameters.values()], name
    with SummaryWriter(tmp_path) as writer:
        for summary in ours.hparams({"lr": 0.1}, {"loss": 0.0}):
            writer.file_writer.add_summary(summary)
        writer.file_writer.add_summary(ours.scalar("loss", bp.tensor(0.25)), 3)
        writer.file_writer.add_summary(ours.image("big", np.ones((1, 3, 4, 4)), rescale=2), 3)
    reader = read(tmp_path)
    assert "_hparams_/session_start_info" in reader.PluginTagToContent("hparams")
    assert scalars(reader, "loss") == [(3, 0.25)]
    (event,) = reader.Images("big")
    assert (event.width, pixels(event.encoded_image_string).shape) == (4, (8, 8, 3))


# -- the gradient monitor --------------------------------------------------------------------------

def test_gradient_monitor_logs_its_figures(tmp_path: Path) -> None:
    bp.manual_seed(0)
    model = bp.nn.Sequential(bp.nn.Linear(4, 8), bp.nn.ReLU(), bp.nn.Linear(8, 8), bp.nn.Tanh(),
                             bp.nn.Linear(8, 2))
    optimizer = bp.optim.SGD(model.parameters(), lr=0.1)
    x, y = bp.randn(16, 4), bp.randint(0, 2, (16,))
    with SummaryWriter(tmp_path) as writer, \
            GradientMonitor(model, optimizer, every=2, writer=writer) as monitor:
        for _ in range(5):
            optimizer.zero_grad()
            bp.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    history = monitor.history()
    reader = read(tmp_path)
    layers, modules = ["0", "2", "4"], ["0", "1", "2", "3", "4"]
    expected = ({f"{figure}/{name}" for figure in ("grad_norm", "weight_norm", "update_ratio")
                 for name in layers}
                | {f"{figure}/{name}" for figure in ("activation_mean", "activation_std")
                   for name in modules}
                | {"dead_fraction/1", "saturated_fraction/3"})
    assert set(reader.Tags()["scalars"]) == expected
    for figure in ("grad_norm", "weight_norm", "update_ratio"):
        for column, name in enumerate(layers):
            logged = scalars(reader, f"{figure}/{name}")
            assert [step for step, _ in logged] == list(history.steps) == [0, 2, 4]
            np.testing.assert_allclose([v for _, v in logged],
                                       getattr(history, figure)[:, column], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in scalars(reader, "saturated_fraction/3")],
                               history.saturated_fraction[:, 3], rtol=1e-6)


def test_gradient_monitor_refuses_a_writer_without_add_scalar() -> None:
    with pytest.raises(TypeError, match="GradientMonitor: writer must be a SummaryWriter"):
        GradientMonitor(bp.nn.Linear(2, 2), writer="runs")


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_write_the_parents_buffer_again(tmp_path: Path) -> None:
    import os

    writer = SummaryWriter(tmp_path, max_queue=1000, flush_secs=1000)
    writer.add_scalar("x", 1.0, 0)  # still in the buffer when the process forks
    pid = os.fork()
    if pid == 0:  # the child drops its copy of the writer, then leaves at once
        del writer
        gc.collect()
        os._exit(0)
    os.waitpid(pid, 0)
    writer.close()
    assert scalars(read(tmp_path), "x") == [(0, 1.0)]
