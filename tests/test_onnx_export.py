"""backprop.onnx.export: models of our own written as ONNX, run in onnxruntime and compared
with our forward (and, for the recurrent layers, with PyTorch's), at the exported batch size and
at another one through dynamic_axes."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F
from backprop import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

# float32 on both sides, but ONNX Runtime sums and fuses in other orders (Gemm, LayerNorm,
# LSTM kernels): equal to rounding, a few ulps per op through a handful of ops.
RTOL, ATOL = 1e-5, 1e-5


def _flat(value: Any) -> list:
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flat(v)]
    return [value]


def export_and_run(model: nn.Module, args: tuple, feeds: tuple, **options: Any) -> tuple:
    """Export ``model`` at ``args``, run the file in ONNX Runtime on ``feeds``: (proto, the
    runtime's outputs, our forward's outputs on ``feeds``); records whether the model was
    left in training mode as ``export_and_run.training``."""
    buffer = io.BytesIO()
    proto = bp.onnx.export(model, args, buffer, **options)
    export_and_run.training = model.training and all(m.training for m in model.modules())
    onnx.checker.check_model(onnx.load_from_string(buffer.getvalue()))
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    got = session.run(None, {n: t.numpy() for n, t in zip(names, _flat(feeds))})
    model.eval()
    with bp.no_grad():
        want = [t.numpy() for t in _flat(model(*feeds))]
    return proto, got, want


def assert_close(got: list, want: list) -> None:
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


class MnistNet(nn.Module):
    """pytorch/examples' mnist Net, smaller."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(8 * 5 * 5, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x: bp.Tensor) -> bp.Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = bp.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


def test_mlp_names_and_initializers() -> None:
    bp.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3), nn.Sigmoid())
    proto, got, want = export_and_run(model, (bp.randn(2, 6),), (bp.randn(2, 6),),
                                      input_names=["features"], output_names=["scores"])
    assert_close(got, want)
    assert [i.name for i in proto.graph.input] == ["features"]
    assert [o.name for o in proto.graph.output] == ["scores"]
    assert {i.name for i in proto.graph.initializer} == {"0.weight", "0.bias", "2.weight",
                                                          "2.bias"}
    assert proto.opset_import[0].version == bp.onnx.DEFAULT_OPSET == 20


def test_mnist_cnn_dynamic_batch() -> None:
    bp.manual_seed(1)
    model = MnistNet()
    model.train()  # export runs it in eval mode (dropout: nothing), then restores the mode
    proto, got, want = export_and_run(model, (bp.randn(2, 1, 14, 14),), (bp.randn(5, 1, 14, 14),),
                                      input_names=["input"], output_names=["output"],
                                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    assert export_and_run.training
    assert got[0].shape == (5, 10)
    assert_close(got, want)
    ops = {n.op_type for n in proto.graph.node}
    assert {"Conv", "MaxPool", "Relu", "LogSoftmax", "Gemm"} <= ops
    assert "Dropout" not in ops
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [1, 14, 14]


class Norms(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(5, 6)
        self.bn = nn.BatchNorm1d(6)
        self.ln = nn.LayerNorm(6)
        self.conv = nn.Conv1d(2, 3, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(3)

    def forward(self, x: bp.Tensor, image: bp.Tensor) -> tuple:
        y = self.ln(self.bn(self.fc(x)))
        y = F.gelu(y) + F.silu(y) * F.elu(y) - F.leaky_relu(y, 0.2)
        y = F.softmax(y.view(-1, 3, 2).permute(0, 2, 1), dim=-1).reshape(y.size(0), 6)
        z = self.conv(image.transpose(1, 2))  # (N, 2, L) -> (N, 3, L)
        z = self.bn2(z.unsqueeze(-1)).squeeze(-1)
        pooled = F.avg_pool1d(z, 2) if hasattr(F, "avg_pool1d") else z
        z = bp.cat([pooled.mean(dim=2), z.sum(dim=2) * 0.5], dim=1)
        return y @ bp.ones(6, 4), F.adaptive_avg_pool2d(z.unsqueeze(1), 1).flatten(1), z


def test_norms_activations_shapes_dynamic_batch() -> None:
    bp.manual_seed(2)
    model = Norms()
    with bp.no_grad():  # running statistics that are not the defaults
        model.bn.running_mean.copy_(bp.randn(6) * 0.1)
        model.bn.running_var.copy_(bp.rand(6) + 0.5)
    model.eval()
    proto, got, want = export_and_run(
        model, (bp.randn(2, 5), bp.randn(2, 7, 2)), (bp.randn(5, 5), bp.randn(5, 7, 2)),
        input_names=["x", "image"], dynamic_axes={"x": [0], "image": {0: "batch"}})
    assert_close(got, want)
    assert {i.name for i in proto.graph.initializer} >= {"bn.running_mean", "bn.running_var",
                                                          "ln.weight", "conv.weight"}


class LanguageModel(nn.Module):
    """Embedding, a 2-layer LSTM and a decoder, as word_language_model's RNNModel."""

    def __init__(self, kind: str = "LSTM") -> None:
        super().__init__()
        self.encoder = nn.Embedding(12, 6)
        self.rnn = getattr(nn, kind)(6, 5, 2)
        self.decoder = nn.Linear(5, 12)

    def forward(self, tokens: bp.Tensor, hidden: Any) -> tuple:
        output, hidden = self.rnn(self.encoder(tokens), hidden)
        return F.log_softmax(self.decoder(output), dim=-1), hidden


def test_lstm_language_model_dynamic_sequence_and_batch() -> None:
    bp.manual_seed(3)
    model = LanguageModel().eval()
    tokens = bp.randint(0, 12, (4, 2))
    hidden = (bp.randn(2, 2, 5), bp.randn(2, 2, 5))
    feeds = (bp.randint(0, 12, (9, 5)), (bp.randn(2, 5, 5), bp.randn(2, 5, 5)))
    proto, got, want = export_and_run(
        model, (tokens, hidden), feeds, input_names=["tokens", "h0", "c0"],
        output_names=["log_probs", "h1", "c1"],
        dynamic_axes={"tokens": {0: "seq", 1: "batch"}, "h0": {1: "batch"}, "c0": {1: "batch"}})
    assert [g.shape for g in got] == [(9, 5, 12), (2, 5, 5), (2, 5, 5)]
    assert_close(got, want)
    assert [n.op_type for n in proto.graph.node].count("LSTM") == 2
    assert "encoder.weight" in {i.name for i in proto.graph.initializer}


@pytest.mark.parametrize("kind, bidirectional, batch_first",
                         [("GRU", False, True), ("GRU", True, False), ("LSTM", True, True),
                          ("RNN", False, False)])
def test_recurrent_layers_match_torch(torch32: Any, kind: str, bidirectional: bool,
                                      batch_first: bool) -> None:
    """The exported gates (reordered for ONNX) give PyTorch's outputs, at another sequence
    length and batch size than exported."""
    bp.manual_seed(4)
    ours = getattr(nn, kind)(3, 4, 2, batch_first=batch_first, bidirectional=bidirectional).eval()
    theirs = getattr(torch32.nn, kind)(3, 4, 2, batch_first=batch_first,
                                       bidirectional=bidirectional)
    theirs.load_state_dict({k: torch32.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    axes = {1: "batch", 0: "seq"} if not batch_first else {0: "batch", 1: "seq"}
    x = bp.randn(*((2, 3, 3) if batch_first else (3, 2, 3)))
    feed = np.random.default_rng(0).standard_normal((6, 4, 3)).astype(np.float32)
    buffer = io.BytesIO()
    bp.onnx.export(ours, (x,), buffer, input_names=["x"], dynamic_axes={"x": axes})
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"x": feed})
    with torch32.no_grad():
        want = _flat(theirs(torch32.tensor(feed)))
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b.numpy(), rtol=RTOL, atol=ATOL)


def test_transformer_encoder_with_causal_mask_dynamic_sequence_and_batch() -> None:
    bp.manual_seed(5)

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

        def forward(self, src: bp.Tensor) -> bp.Tensor:
            mask = nn.Transformer.generate_square_subsequent_mask(src.size(0))
            return self.encoder(src, mask=mask)

    model = Encoder().eval()
    proto, got, want = export_and_run(model, (bp.randn(4, 2, 8),), (bp.randn(7, 5, 8),),
                                      input_names=["src"],
                                      dynamic_axes={"src": {0: "seq", 1: "batch"}})
    assert_close(got, want)
    assert {"MatMul", "Softmax", "LayerNormalization"} <= {n.op_type for n in proto.graph.node}


def test_view_with_a_fixed_size_follows_the_batch() -> None:
    """``x.view(-1, 320)`` and ``x.view(x.size(0), -1)`` must not freeze the batch size."""

    class Views(nn.Module):
        def forward(self, x: bp.Tensor) -> bp.Tensor:
            a = x.view(-1, 12)
            b = x.reshape(x.size(0), -1)
            c = bp.zeros(x.size(0), 12)  # made inside forward: one value, the batch's size
            d = a.detach()  # shares a's storage: the same graph value
            return d * 2 + b[:, None, 1:].squeeze(1).sum(1, keepdim=True) + c

    model = Views()
    _, got, want = export_and_run(model, (bp.randn(2, 3, 4),), (bp.randn(5, 3, 4),),
                                  input_names=["x"], dynamic_axes={"x": {0: "n"}})
    assert_close(got, want)


def test_opset_17_decomposes_gelu() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.LayerNorm(4))
    proto, got, want = export_and_run(model, (bp.randn(2, 3),), (bp.randn(2, 3),),
                                      opset_version=17)
    assert_close(got, want)
    assert "Erf" in {n.op_type for n in proto.graph.node}
    assert proto.opset_import[0].version == 17


def test_file_path_verify_and_export_params(tmp_path: Any) -> None:
    path = tmp_path / "model.onnx"
    model = nn.Linear(3, 2)
    bp.onnx.export(model, bp.ones(1, 3), path, input_names=["x"], verify=True)
    assert onnx.load(str(path)).graph.initializer[0].name in {"weight", "bias"}
    proto = bp.onnx.export(model, (bp.ones(1, 3),), None, export_params=False)
    assert not proto.graph.initializer
    assert {i.name for i in proto.graph.input} == {"input", "weight", "bias"}


def test_unsupported_op_names_op_and_module() -> None:
    class Odd(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x: bp.Tensor) -> bp.Tensor:
            return self.fc(x).erfinv()

    with pytest.raises(bp.onnx.OnnxExporterError,
                       match=r"op 'erfinv' \(in Odd\): there is no ONNX converter"):
        bp.onnx.export(Odd(), (bp.ones(2, 3),), io.BytesIO())


def test_training_mode_dropout_is_refused() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5)).train()
    with pytest.raises(bp.onnx.OnnxExporterError, match=r"op 'dropout'.*TrainingMode.EVAL"):
        bp.onnx.export(model, (bp.ones(2, 3),), io.BytesIO(),
                       training=bp.onnx.TrainingMode.PRESERVE)
    with pytest.raises(bp.onnx.OnnxExporterError, match="TRAINING is not supported"):
        bp.onnx.export(model, (bp.ones(2, 3),), io.BytesIO(),
                       training=bp.onnx.TrainingMode.TRAINING)


@pytest.mark.parametrize("options, message", [
    ({"opset_version": 9}, "opset_version=9 is not supported"),
    ({"dynamic_shapes": {"x": {0: "b"}}}, "use dynamic_axes|name the dynamic axes"),
    ({"dynamic_axes": {"nope": [0]}}, "neither inputs"),
    ({"input_names": ["a", "b"]}, "2 input_names for 1 input"),
])
def test_bad_arguments(options: dict, message: str) -> None:
    with pytest.raises((ValueError, bp.onnx.OnnxExporterError), match=message):
        bp.onnx.export(nn.Linear(3, 2), (bp.ones(2, 3),), io.BytesIO(), **options)


def test_size_dependent_number_is_refused() -> None:
    class Scale(nn.Module):
        def forward(self, x: bp.Tensor) -> bp.Tensor:
            return x / x.shape[0]

    with pytest.raises(bp.onnx.OnnxExporterError, match=r"op 'div'.*argument 1 is 2"):
        bp.onnx.export(Scale(), (bp.ones(2, 3),), io.BytesIO(), input_names=["x"],
                       dynamic_axes={"x": [0]})


@pytest.mark.parametrize("batch_first", [False, True])
def test_attention_with_masks_given_as_inputs(batch_first: bool) -> None:
    """Masks are graph inputs, not constants: another mask, length and batch give our result."""
    bp.manual_seed(6)
    attention = nn.MultiheadAttention(8, 2, batch_first=batch_first).eval()

    class Attend(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention = attention

        def forward(self, x: bp.Tensor, memory: bp.Tensor, causal: bp.Tensor,
                    padding: bp.Tensor) -> tuple:
            return self.attention(x, memory, memory, key_padding_mask=padding,
                                  attn_mask=causal)

    def inputs(length: int, source: int, batch: int) -> tuple:
        order = (batch, length) if batch_first else (length, batch)
        memory = (batch, source) if batch_first else (source, batch)
        padding = bp.zeros(batch, source, dtype=bp.bool)
        padding[0, -1] = True
        causal = bp.randn(length, source) * 0.1
        return bp.randn(*order, 8), bp.randn(*memory, 8), causal, padding

    batch_axis = 0 if batch_first else 1
    axes = {"x": {batch_axis: "N", 1 - batch_axis: "L"},
            "memory": {batch_axis: "N", 1 - batch_axis: "S"},
            "causal": {0: "L", 1: "S"}, "padding": {0: "N", 1: "S"}}
    proto, got, want = export_and_run(Attend(), inputs(3, 4, 2), inputs(5, 6, 3),
                                      input_names=["x", "memory", "causal", "padding"],
                                      dynamic_axes=axes)
    assert_close(got, want)
    assert "Where" in {n.op_type for n in proto.graph.node}


def test_dcgan_generator_and_discriminator_in_place_activations() -> None:
    """ConvTranspose2d, BatchNorm2d and in-place ReLU / LeakyReLU, as dcgan's models."""
    bp.manual_seed(7)
    generator = nn.Sequential(
        nn.ConvTranspose2d(4, 8, 4, 1, 0, bias=False), nn.BatchNorm2d(8), nn.ReLU(True),
        nn.ConvTranspose2d(8, 3, 4, 2, 1, bias=False, output_padding=1), nn.Tanh())

    class Discriminator(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.main = nn.Sequential(nn.Conv2d(3, 4, 4, 2, 1, bias=False),
                                      nn.LeakyReLU(0.2, inplace=True),
                                      nn.Conv2d(4, 1, 4, 1, 0, bias=False), nn.Sigmoid())

        def forward(self, x: bp.Tensor) -> bp.Tensor:
            y = x.clone()
            y += 1.0  # in place on a tensor of the graph: later uses see the new value
            return self.main(y).view(-1, 1).squeeze(1)

    _, got, want = export_and_run(generator, (bp.randn(2, 4, 1, 1),), (bp.randn(5, 4, 1, 1),),
                                  input_names=["z"], dynamic_axes={"z": [0]})
    assert got[0].shape == (5, 3, 9, 9)
    assert_close(got, want)
    _, got, want = export_and_run(Discriminator(), (bp.randn(2, 3, 10, 10),),
                                  (bp.randn(5, 3, 10, 10),), input_names=["x"],
                                  dynamic_axes={"x": [0]})
    assert_close(got, want)


def test_lstm_cells_over_split_steps() -> None:
    """time_sequence_prediction's Sequence: LSTMCells over input.split(1, dim=1), with states
    made by zeros(input.size(0), ...) inside forward."""
    bp.manual_seed(8)

    class Sequence(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm1 = nn.LSTMCell(1, 5)
            self.gru = nn.GRUCell(5, 5)
            self.linear = nn.Linear(5, 1)

        def forward(self, input: bp.Tensor) -> bp.Tensor:
            h = bp.zeros(input.size(0), 5)
            c = bp.zeros(input.size(0), 5)
            h2 = bp.zeros(input.size(0), 5)
            outputs = []
            for step in input.split(1, dim=1):
                h, c = self.lstm1(step, (h, c))
                h2 = self.gru(h, h2)
                outputs.append(self.linear(h2))
            return bp.cat(outputs, dim=1)

    _, got, want = export_and_run(Sequence(), (bp.randn(2, 4),), (bp.randn(5, 4),),
                                  input_names=["input"], dynamic_axes={"input": [0]})
    assert got[0].shape == (5, 4)
    assert_close(got, want)


class BasicBlock(nn.Module):
    """torchvision's resnet block: ``out += identity`` then an in-place ReLU."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: bp.Tensor) -> bp.Tensor:
        identity = x
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        out += identity
        return self.relu(out)


def test_siamese_resnet_block_two_inputs_one_batch_axis() -> None:
    bp.manual_seed(9)

    class Siamese(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 4, 7, 2, 3, bias=False), nn.BatchNorm2d(4),
                                      nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
            self.block = BasicBlock(4)
            self.pool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(8, 1)

        def once(self, x: bp.Tensor) -> bp.Tensor:
            return bp.flatten(self.pool(self.block(self.stem(x))), 1)

        def forward(self, a: bp.Tensor, b: bp.Tensor) -> bp.Tensor:
            out = bp.cat((self.once(a), self.once(b)), 1)
            return bp.sigmoid(self.fc(out.view(out.size()[0], -1)))

    model = Siamese().eval()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            with bp.no_grad():
                module.running_mean.copy_(bp.randn(4) * 0.1)
                module.running_var.copy_(bp.rand(4) + 0.5)
    shape = (3, 20, 20)
    _, got, want = export_and_run(model, (bp.randn(2, *shape), bp.randn(2, *shape)),
                                  (bp.randn(5, *shape), bp.randn(5, *shape)),
                                  input_names=["a", "b"],
                                  dynamic_axes={"a": {0: "n"}, "b": {0: "n"}})
    assert_close(got, want)


def test_pools_with_padding_and_uneven_adaptive_windows() -> None:
    class Pools(nn.Module):
        def forward(self, x: bp.Tensor) -> bp.Tensor:
            return (F.avg_pool2d(x, 3, 2, 1) + F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
                    + F.max_pool2d(x, 3, 2, 1) + F.adaptive_avg_pool2d(x, (3, 2)).sum())

    _, got, want = export_and_run(Pools(), (bp.randn(2, 3, 9, 8),), (bp.randn(4, 3, 9, 8),),
                                  input_names=["x"], dynamic_axes={"x": [0]})
    assert_close(got, want)


def test_word_language_model_transformer_positional_encoding() -> None:
    """word_language_model's TransformerModel: a positional-encoding buffer sliced to
    ``x.size(0)`` and a mask made by log(tril(ones(n, n))) follow the sequence length."""
    bp.manual_seed(10)

    class TransformerModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.input_emb = nn.Embedding(20, 8)
            layer = nn.TransformerEncoderLayer(8, 2, 16)
            self.encoder = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
            self.decoder = nn.Linear(8, 20)
            self.register_buffer("pe", bp.randn(50, 1, 8))

        def forward(self, src: bp.Tensor) -> bp.Tensor:
            mask = bp.log(bp.tril(bp.ones(len(src), len(src))))
            x = self.input_emb(src) * 8 ** 0.5 + self.pe[:src.size(0), :]
            return F.log_softmax(self.decoder(self.encoder(x, mask=mask)), dim=-1)

    with np.errstate(divide="ignore"):
        _, got, want = export_and_run(TransformerModel(), (bp.randint(0, 20, (3, 2)),),
                                      (bp.randint(0, 20, (7, 4)),), input_names=["src"],
                                      dynamic_axes={"src": {0: "seq", 1: "batch"}})
    assert got[0].shape == (7, 4, 20)
    assert_close(got, want)


def test_more_ops_prelu_reflect_pad_clamp_compare_scan_rms_norm() -> None:
    bp.manual_seed(11)

    class Misc(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.prelu = nn.PReLU(3)
            self.conv = nn.Conv2d(3, 3, 3, padding=1, padding_mode="reflect")
            self.norm = nn.RMSNorm(5)

        def forward(self, x: bp.Tensor) -> tuple:
            y = self.prelu(self.conv(x)).clamp(-0.5, 0.7) + bp.maximum(x, x * 0.3)
            y = F.pad(y + F.logsigmoid(x), (1, 2), value=0.5)[..., 1:-2]
            y = y.flip(-1) + y.cumsum(-1) + (y > 0.1).float() + (y != 0.2).float()
            counts = (y > 0).sum(-1) + bp.cat([bp.zeros(0, dtype=bp.int64), y.argmax(-1)])
            unit = y / (y.norm(2, -1, keepdim=True) + 1e-4)  # mnist_forward_forward's
            return self.norm(unit), y.logsumexp(-1) + y.amax(-1) + y.norm(1, dim=-1), counts

    _, got, want = export_and_run(Misc(), (bp.randn(2, 3, 4, 5),), (bp.randn(4, 3, 4, 5),),
                                  input_names=["x"], dynamic_axes={"x": [0]})
    assert got[2].dtype == np.int64
    assert_close(got, want)


def test_missing_onnx_names_the_extra(monkeypatch: Any) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)  # what an environment without it imports
    with pytest.raises(ImportError, match=r"pip install 'backprop\[onnx\]'"):
        bp.onnx.export(nn.Linear(2, 2), (bp.ones(1, 2),), io.BytesIO())


def test_a_mask_cached_by_the_first_call() -> None:
    """word_language_model caches its mask (made at the first call, remade when the length
    changes): exported with a dynamic batch only, the second run makes no mask."""

    class Cached(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mask = None
            self.fc = nn.Linear(4, 4)

        def forward(self, src: bp.Tensor) -> bp.Tensor:
            if self.mask is None or self.mask.size(0) != len(src):
                self.mask = bp.triu(bp.ones(len(src), len(src)), 1) * -1.0
            return (self.fc(src).transpose(0, 1) @ bp.ones(4, len(src)) + self.mask).softmax(-1)

    _, got, want = export_and_run(Cached(), (bp.randn(3, 2, 4),), (bp.randn(3, 5, 4),),
                                  input_names=["src"], dynamic_axes={"src": {1: "batch"}})
    assert_close(got, want)


def test_random_draws_in_forward_warn() -> None:
    class Noisy(nn.Module):
        def forward(self, x: bp.Tensor) -> bp.Tensor:
            return x + bp.randn_like(x)  # vae's reparameterize

    with pytest.warns(UserWarning, match="drew random numbers"):
        bp.onnx.export(Noisy(), (bp.ones(2, 3),), io.BytesIO())


def test_in_place_write_into_a_view() -> None:
    """The view takes the result; its base, changed too, may not be used afterwards."""

    class ViewThenDrop(nn.Module):
        def forward(self, x: bp.Tensor) -> bp.Tensor:
            y = (x * 2.0).view(-1, 6)
            return F.relu(y, inplace=True) + 1.0

    class ViewThenBase(nn.Module):
        def forward(self, x: bp.Tensor) -> bp.Tensor:
            y = x * 1.0
            y[0].mul_(2.0)  # changes y too
            return y

    _, got, want = export_and_run(ViewThenDrop(), (bp.randn(2, 2, 3),), (bp.randn(5, 2, 3),),
                                  input_names=["x"], dynamic_axes={"x": [0]})
    assert_close(got, want)
    with pytest.raises(bp.onnx.OnnxExporterError, match="op 'mul' wrote into a view of it"):
        bp.onnx.export(ViewThenBase(), (bp.ones(2, 3),), io.BytesIO())


@pytest.mark.parametrize("make, states", [
    (lambda: nn.RNN(3, 4, 2, nonlinearity="relu", bidirectional=True), 1),
    (lambda: nn.LSTM(3, 4, 2, bidirectional=True, batch_first=True), 2),
    (lambda: nn.GRU(3, 4, 1, bias=False), 1),
    (lambda: nn.LSTM(3, 4, 2, bidirectional=True), -2),  # unbatched
])
def test_recurrent_layers_with_initial_states(make: Any, states: int) -> None:
    """Each layer and direction takes its slice of h0 (and c0); states < 0: unbatched."""
    bp.manual_seed(12)
    layer = make().eval()
    rows = layer.num_layers * (2 if layer.bidirectional else 1)
    batch = () if states < 0 else (2,)
    states = abs(states)
    x = bp.randn(*batch, 5, 3) if layer.batch_first else bp.randn(5, *batch, 3)
    hidden = tuple(bp.randn(rows, *batch, 4) for _ in range(states))
    _, got, want = export_and_run(layer, (x, hidden if states == 2 else hidden[0]),
                                  (x, hidden if states == 2 else hidden[0]))
    assert len(got) == 1 + states
    assert_close(got, want)


def test_signature_takes_torchs_keywords(torch: Any) -> None:
    import inspect

    theirs = inspect.signature(torch.onnx.export).parameters
    ours = inspect.signature(bp.onnx.export).parameters
    assert list(ours) == list(theirs)
    for name in ("args", "f", "input_names", "output_names", "opset_version", "dynamic_axes",
                 "export_params", "keep_initializers_as_inputs", "verify", "dynamo"):
        assert ours[name].kind == theirs[name].kind
        assert ours[name].default == theirs[name].default


@pytest.mark.parametrize("opset", [17, 20])
def test_statistics_group_norm_and_index_ops(opset: int) -> None:
    """var/std (the count read from the shape, so a dynamic reduced axis works), GroupNorm,
    index_select and gather; 0-d results stay 0-d."""
    bp.manual_seed(13)

    class Stats(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = nn.GroupNorm(2, 4)

        def forward(self, x: bp.Tensor) -> tuple:
            picked = x.index_select(1, bp.tensor([0, 2]))
            gathered = x[:1].gather(1, bp.tensor([[[[1, 0], [2, 3], [0, 0]]]]))
            return (self.norm(x), x.var(0), x.std((2, 3), keepdim=True), x.var() * 2.0,
                    bp.var_mean(x, 1, correction=0)[1], picked, gathered)

    _, got, want = export_and_run(Stats(), (bp.randn(2, 4, 3, 2),), (bp.randn(5, 4, 3, 2),),
                                  input_names=["x"], dynamic_axes={"x": [0]},
                                  opset_version=opset)
    assert got[3].shape == ()
    assert_close(got, want)
