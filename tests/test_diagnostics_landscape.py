"""Loss landscapes and sharpness: grids that pass through the model, filter-normalised
directions, exact restoration of the parameters, files that round-trip, Hessian eigenvalues that
match the known spectrum of a quadratic, and `backprop landscape` on a real checkpoint."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.diagnostics.hessian import hessian_top_eigenvalue, hessian_vector_product
from backprop.diagnostics.landscape import LossLandscape, loss_landscape, random_direction

nn = bp.nn
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _regression(n: int = 24, d: int = 3, k: int = 2, bias: bool = True, seed: int = 0):
    """A float64 Linear layer, MSE loss and data whose Hessian is 2/(N·k)·X̃ᵀX̃ per output
    (X̃ = X with a column of ones when there is a bias), with well separated eigenvalues."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * np.array([3.0, 1.5, 0.5][:d] + [0.2] * (d - 3))
    y = rng.standard_normal((n, k))
    bp.manual_seed(seed)
    layer = nn.Linear(d, k, bias=bias).double()
    design = np.hstack([x, np.ones((n, 1))]) if bias else x
    hessian_block = 2.0 / (n * k) * design.T @ design
    return layer, nn.MSELoss(), bp.tensor(x), bp.tensor(y), hessian_block


def _mlp(seed: int = 0) -> nn.Module:
    bp.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))


def _classification(seed: int = 0, n: int = 20):
    rng = np.random.default_rng(seed)
    return (bp.tensor(rng.standard_normal((n, 6)).astype(np.float32)),
            bp.tensor(rng.integers(0, 3, n)))


def _snapshot(model: nn.Module) -> dict[str, tuple[object, bytes, np.dtype]]:
    return {name: (p.detach().numpy(), p.detach().numpy().tobytes(), p.dtype)
            for name, p in model.named_parameters()}


# -- Hessian ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [False, True])
def test_power_iteration_matches_the_known_spectrum_of_a_quadratic(bias: bool) -> None:
    layer, loss_fn, x, y, block = _regression(bias=bias)
    result = hessian_top_eigenvalue(layer, loss_fn, (x, y), iters=200, tol=1e-12)
    expected = np.linalg.eigvalsh(block)[-1]  # each output repeats the block's spectrum
    assert result.converged and result.iterations < 200
    assert abs(result.eigenvalue - expected) <= 1e-4 * expected


def test_power_iteration_returns_an_eigenvector() -> None:
    layer, loss_fn, x, y, _ = _regression()
    result = hessian_top_eigenvalue(layer, loss_fn, (x, y), iters=200, tol=1e-12)
    hv = hessian_vector_product(layer, loss_fn, (x, y), result.eigenvector)
    v = np.concatenate([t.numpy().ravel() for t in result.eigenvector.values()])
    h = np.concatenate([t.numpy().ravel() for t in hv.values()])
    assert np.isclose(np.linalg.norm(v), 1.0)
    np.testing.assert_allclose(h, result.eigenvalue * v, atol=1e-6)


def test_hessian_vector_product_of_uneven_batches_is_that_of_the_whole_data() -> None:
    layer, loss_fn, x, y, block = _regression(n=23)
    rng = np.random.default_rng(1)
    vector = {name: rng.standard_normal(p.shape) for name, p in layer.named_parameters()}
    batches = [(x[:10], y[:10]), (x[10:19], y[10:19]), (x[19:], y[19:])]
    hv = hessian_vector_product(layer, loss_fn, batches, vector)
    # Rows of [W | b] are the outputs; each row's Hessian is the block.
    stacked = np.hstack([vector["weight"], vector["bias"][:, None]])
    expected = stacked @ block.T
    np.testing.assert_allclose(hv["weight"].numpy(), expected[:, :-1], rtol=1e-10)
    np.testing.assert_allclose(hv["bias"].numpy(), expected[:, -1], rtol=1e-10)


def test_hessian_of_a_small_mlp_matches_pytorch(torch) -> None:
    model = _mlp().double()
    x, labels = _classification()
    x = x.to(bp.float64)
    names = [name for name, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    sizes = [int(np.prod(s)) for s in shapes]
    columns = []
    for i in range(sum(sizes)):  # our full Hessian, one Hessian-vector product per column
        flat = np.zeros(sum(sizes))
        flat[i] = 1.0
        parts = np.split(flat, np.cumsum(sizes)[:-1])
        hv = hessian_vector_product(model, nn.CrossEntropyLoss(), (x, labels),
                                    {n: p.reshape(s) for n, p, s in zip(names, parts, shapes)})
        columns.append(np.concatenate([hv[n].numpy().ravel() for n in names]))
    ours = np.stack(columns, axis=1)

    initial = [torch.tensor(p.detach().numpy()) for p in model.parameters()]

    def loss_of(flat):
        w1, b1, w2, b2 = (part.reshape(s) for part, s in
                          zip(torch.split(flat, sizes), shapes))
        hidden = torch.tanh(torch.tensor(x.numpy()) @ w1.T + b1)
        return torch.nn.functional.cross_entropy(hidden @ w2.T + b2,
                                                 torch.tensor(labels.numpy()))

    theirs = torch.autograd.functional.hessian(loss_of, torch.cat([t.ravel() for t in initial]))
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-10)
    eigen = hessian_top_eigenvalue(model, nn.CrossEntropyLoss(), (x, labels), iters=1000,
                                   tol=1e-12)
    spectrum = np.linalg.eigvalsh(theirs.numpy())
    largest = spectrum[np.argmax(np.abs(spectrum))]
    assert eigen.converged
    assert abs(eigen.eigenvalue - largest) <= 1e-4 * abs(largest)


def test_hessian_stops_at_iters_and_leaves_grads_and_mode_alone() -> None:
    model = _mlp()
    model.train()
    x, labels = _classification()
    with bp.no_grad():  # the probe turns gradients back on for itself
        result = hessian_top_eigenvalue(model, nn.CrossEntropyLoss(), (x, labels), iters=2,
                                        tol=0.0)
    assert result.iterations == 2 and not result.converged and np.isfinite(result.eigenvalue)
    assert all(p.grad is None for p in model.parameters())
    assert all(m.training for m in model.modules())


@pytest.mark.parametrize("kwargs, error, words", [
    ({"iters": 0}, ValueError, "iters must be a positive integer"),
    ({"tol": -1.0}, ValueError, "tol must be a non-negative"),
])
def test_hessian_rejects_bad_settings(kwargs: dict, error: type, words: str) -> None:
    layer, loss_fn, x, y, _ = _regression()
    with pytest.raises(error, match=words):
        hessian_top_eigenvalue(layer, loss_fn, (x, y), **kwargs)


# -- directions ------------------------------------------------------------------------------------


def test_filter_normalised_direction_has_the_weights_filter_norms() -> None:
    bp.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.Flatten(),
                          nn.Linear(4 * 3 * 3, 5))
    direction = random_direction(model, seed=3)
    conv, linear = model[0].weight.detach().numpy(), model[3].weight.detach().numpy()
    for weight, drawn in ((conv, direction["0.weight"]), (linear, direction["3.weight"])):
        filters = weight.shape[0]
        np.testing.assert_allclose(
            np.linalg.norm(drawn.numpy().reshape(filters, -1), axis=1),
            np.linalg.norm(weight.reshape(filters, -1), axis=1), rtol=1e-5)
        assert not np.allclose(drawn.numpy() / weight, (drawn.numpy() / weight).flat[0])
    for name in ("0.bias", "1.weight", "1.bias", "3.bias"):  # "ignore biasbn": zeros
        assert not direction[name].numpy().any()
    assert direction["0.weight"].dtype == bp.float32


def test_other_normalisations_and_keeping_biases() -> None:
    model = _mlp().double()
    kept = random_direction(model, ignore_biasbn=False, seed=1)
    for name in ("0.bias", "2.bias"):  # each element of a 1-D parameter is its own filter
        np.testing.assert_allclose(np.abs(kept[name].numpy()),
                                   np.abs(model.get_submodule(name[0]).bias.detach().numpy()))
    layer = random_direction(model, normalization="layer", seed=1)
    np.testing.assert_allclose(np.linalg.norm(layer["0.weight"].numpy()),
                               np.linalg.norm(model[0].weight.detach().numpy()))
    raw = random_direction(model, normalization="none", seed=1)
    assert abs(raw["0.weight"].numpy().std() - 1.0) < 0.4  # the plain N(0, 1) draw


def test_landscape_uses_the_seeded_direction_and_not_the_global_generator() -> None:
    model = _mlp()
    x, labels = _classification()
    bp.manual_seed(7)
    surface = loss_landscape(model, nn.CrossEntropyLoss(), (x, labels), steps=3, seed=5)
    drawn_after = bp.rand(4).numpy()
    bp.manual_seed(7)
    np.testing.assert_array_equal(drawn_after, bp.rand(4).numpy())  # the stream was untouched
    first = random_direction(model, seed=5)
    for name, value in first.items():
        np.testing.assert_array_equal(surface.directions[0][name].numpy(), value.numpy())
    again = loss_landscape(model, nn.CrossEntropyLoss(), (x, labels), steps=3, seed=5)
    np.testing.assert_array_equal(again.loss, surface.loss)


# -- grids -----------------------------------------------------------------------------------------


def test_plane_passes_through_the_model() -> None:
    model = _mlp()
    x, labels = _classification()
    surface = loss_landscape(model, nn.CrossEntropyLoss(), (x, labels), steps=5)
    with bp.no_grad():
        logits = model(x)
        expected = nn.CrossEntropyLoss()(logits, labels).item()
        hits = float((logits.argmax(dim=1).numpy() == labels.numpy()).mean())
    assert surface.mode == "random" and surface.loss.shape == (5, 5)
    assert surface.coordinates[0].tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert surface.loss[2, 2] == expected
    assert surface.accuracy[2, 2] == hits
    assert np.isfinite(surface.loss).all() and surface.loss.std() > 0


def test_line_between_two_models_ends_at_their_losses() -> None:
    start, end = _mlp(seed=0), _mlp(seed=1)
    x, labels = _classification()
    surface = loss_landscape(start, nn.CrossEntropyLoss(), (x, labels), other=end, steps=5,
                             span=0.25)
    assert surface.mode == "interpolation" and surface.ndim == 1
    alphas = surface.coordinates[0]
    assert alphas.tolist() == [-0.25, 0.125, 0.5, 0.875, 1.25]
    line = loss_landscape(start, nn.CrossEntropyLoss(), (x, labels), other=end.state_dict(),
                          steps=3, span=0.0)
    assert line.coordinates[0].tolist() == [0.0, 0.5, 1.0]
    with bp.no_grad():
        for model, index in ((start, 0), (end, 2)):
            assert line.loss[index] == nn.CrossEntropyLoss()(model(x), labels).item()
    # Default span: [-0.5, 1.5], and the end points lie exactly on the grid.
    default = loss_landscape(start, nn.CrossEntropyLoss(), (x, labels), other=end, steps=9)
    assert default.coordinates[0][[2, 6]].tolist() == [0.0, 1.0]
    np.testing.assert_array_equal(default.loss[[2, 6]], line.loss[[0, 2]])


def test_convex_quadratic_is_a_bowl_with_its_minimum_at_the_trained_point() -> None:
    layer, loss_fn, x, y, _ = _regression()
    design = np.hstack([x.numpy(), np.ones((len(x), 1))])
    solution, *_ = np.linalg.lstsq(design, y.numpy(), rcond=None)  # the exact minimiser
    layer.load_state_dict({"weight": solution[:-1].T.copy(), "bias": solution[-1].copy()})
    surface = loss_landscape(layer, loss_fn, (x, y), steps=7, ignore_biasbn=False)
    assert surface.argmin() == (0.0, 0.0)
    assert (surface.loss > surface.loss[3, 3]).sum() == surface.loss.size - 1
    for grid in (surface.loss, surface.loss.T):  # convex along every grid line
        assert (np.diff(grid, 2, axis=0) > 0).all()
    # A quadratic around its minimum is symmetric under a point reflection.
    np.testing.assert_allclose(surface.loss, surface.loss[::-1, ::-1], rtol=1e-10)


def test_data_in_batches_gives_the_mean_over_all_samples() -> None:
    layer, loss_fn, x, y, _ = _regression(n=23)
    whole = loss_landscape(layer, loss_fn, (x, y), steps=3, directions=1)
    loader = bp.utils.data.DataLoader(bp.utils.data.TensorDataset(x, y), batch_size=10)
    batched = loss_landscape(layer, loss_fn, loader, steps=3, directions=1)
    np.testing.assert_allclose(batched.loss, whole.loss, rtol=1e-12)
    assert whole.accuracy is None  # regression targets: no accuracy
    given = loss_landscape(layer, loss_fn, [(x, y)], steps=3, directions=whole.directions)
    assert given.mode == "given"
    np.testing.assert_array_equal(given.loss, whole.loss)


def test_parameters_and_modes_are_restored_bit_for_bit() -> None:
    model = nn.Sequential(nn.Linear(6, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    model.train()
    model[2].eval()
    before = _snapshot(model)
    x, labels = _classification()
    loss_landscape(model, nn.CrossEntropyLoss(), (x, labels), steps=4, span=3.0)
    after = _snapshot(model)
    for name, (array, raw, dtype) in before.items():
        assert after[name][0] is array and after[name][1] == raw and after[name][2] == dtype
    assert [m.training for m in model.modules()] == [True, True, True, False]


def test_parameters_are_restored_when_the_loss_raises() -> None:
    model = _mlp()
    before = _snapshot(model)
    x, labels = _classification()
    calls = []

    def failing(outputs, targets):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("loss failed on purpose")
        return nn.functional.cross_entropy(outputs, targets)

    with pytest.raises(RuntimeError, match="on purpose"):
        loss_landscape(model, failing, (x, labels), steps=3)
    for name, (array, raw, _) in _snapshot(model).items():
        assert array is before[name][0] and raw == before[name][1]
    assert all(m.training for m in model.modules())


@pytest.mark.parametrize("kwargs, error, words", [
    ({"directions": 3}, ValueError, "directions must be 1"),
    ({"directions": "two"}, TypeError, "directions must be 1, 2 or a list"),
    ({"normalization": "unit"}, ValueError, "normalization must be one of filter"),
    ({"steps": 1}, ValueError, "steps must be an integer of at least 2"),
    ({"steps": (3, 3, 3)}, ValueError, "one per axis"),
    ({"span": -1.0}, ValueError, "span must be a non-negative"),
    ({"other": {"0.weight": np.zeros((2, 2))}}, ValueError, "no entry for the parameters"),
    ({"other": "model"}, TypeError, "other must be a Module or a state dict"),
    ({"accuracy": True, "loss_fn": nn.MSELoss(), "targets": "float"}, ValueError,
     "accuracy=True needs class scores"),
])
def test_landscape_rejects_bad_input(kwargs: dict, error: type, words: str) -> None:
    model = _mlp()
    x, labels = _classification()
    loss_fn = kwargs.pop("loss_fn", nn.CrossEntropyLoss())
    if kwargs.pop("targets", None) == "float":
        labels = bp.zeros(len(x), 3)
    with pytest.raises(error, match=words):
        loss_landscape(model, loss_fn, (x, labels), **kwargs)


def test_landscape_names_bad_data_and_bad_losses() -> None:
    model = _mlp()
    x, labels = _classification()
    with pytest.raises(ValueError, match="data holds no batches"):
        loss_landscape(model, nn.CrossEntropyLoss(), [], steps=2)
    with pytest.raises(TypeError, match="data batch 0 is a tuple of length 3"):
        loss_landscape(model, nn.CrossEntropyLoss(), [(x, labels, labels)], steps=2)
    with pytest.raises(ValueError, match="first sizes differ"):
        loss_landscape(model, nn.CrossEntropyLoss(), (x, labels[:5]), steps=2)
    with pytest.raises(ValueError, match=r"must return a scalar .* shape \(20,\)"):
        loss_landscape(model, nn.CrossEntropyLoss(reduction="none"), (x, labels), steps=2)
    wrong = {name: np.zeros(3) for name, _ in model.named_parameters()}
    with pytest.raises(ValueError, match=r"other\['0.weight'\] has shape \(3,\)"):
        loss_landscape(model, nn.CrossEntropyLoss(), (x, labels), other=wrong)
    with pytest.raises(ValueError, match="directions must be 1 or left out"):
        loss_landscape(model, nn.CrossEntropyLoss(), (x, labels), other=model, directions=2)
    assert _snapshot(model).keys() == dict(model.named_parameters()).keys()


# -- files -----------------------------------------------------------------------------------------


def test_npz_round_trip_without_pickle(tmp_path: Path) -> None:
    model = _mlp()
    x, labels = _classification()
    surface = loss_landscape(model, nn.CrossEntropyLoss(), (x, labels), steps=(3, 4), seed=2)
    path = surface.save(tmp_path / "grid.npz")
    with np.load(path, allow_pickle=False) as raw:
        assert {"loss", "coordinates_0", "coordinates_1", "accuracy"} <= set(raw.files)
        assert all(raw[key].dtype != object for key in raw.files)
    back = LossLandscape.load(path)
    assert (back.mode, back.normalization, back.seed, back.ndim) == ("random", "filter", 2, 2)
    np.testing.assert_array_equal(back.loss, surface.loss)
    np.testing.assert_array_equal(back.accuracy, surface.accuracy)
    for ours, theirs in zip(back.coordinates, surface.coordinates):
        np.testing.assert_array_equal(ours, theirs)
    assert os.listdir(tmp_path) == ["grid.npz"]  # no temporary file left behind
    (tmp_path / "other.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a readable .npz"):
        LossLandscape.load(tmp_path / "other.npz")
    np.savez(tmp_path / "plain.npz", loss=np.zeros(3))
    with pytest.raises(ValueError, match="not a landscape"):
        LossLandscape.load(tmp_path / "plain.npz")
    np.savez(tmp_path / "pickled.npz", loss=np.array([1.0, None], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle=False"):
        LossLandscape.load(tmp_path / "pickled.npz")


@pytest.mark.parametrize("directions", [1, 2])
def test_plot_writes_a_valid_png(tmp_path: Path, directions: int) -> None:
    pytest.importorskip("matplotlib")
    model = _mlp()
    x, labels = _classification()
    surface = loss_landscape(model, nn.CrossEntropyLoss(), (x, labels), steps=5,
                             directions=directions, span=20.0)
    path = surface.plot(tmp_path / "picture.png")
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR" and data[-8:-4] == b"IEND"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 300 and height > 200
    assert os.listdir(tmp_path) == ["picture.png"]
    flat = LossLandscape((np.arange(3.0), np.arange(3.0)), np.ones((3, 3)))
    assert flat.plot(tmp_path / "flat.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(ValueError, match="no 'xyz' format"):
        surface.plot(tmp_path / "picture.xyz")


# -- the command -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("safetensors", reason="checkpoints need the [checkpoint] extra")
    from backprop.train.config import TrainConfig
    from backprop.train.loop import train

    folder = tmp_path_factory.mktemp("landscape-run")
    result = train(TrainConfig(hidden=(8,), epochs=1, out=str(folder), progress=False),
                   log=lambda line: None)
    return result.checkpoint


def test_landscape_command_writes_grid_picture_and_figures(checkpoint: Path,
                                                           tmp_path: Path) -> None:
    from backprop.diagnostics.landscape_command import landscape_command

    lines: list[str] = []
    figures = landscape_command(checkpoint, tmp_path / "out", steps=5, batches=1,
                                batch_size=100, hessian_iters=5, log=lines.append)
    assert figures["samples"] == 100 and figures["shape"] == (5, 5)
    assert figures["grid_min_loss"] <= figures["loss"] <= figures["grid_max_loss"]
    assert np.isfinite(figures["sharpness"]) and figures["hessian_iterations"] <= 5
    grid = LossLandscape.load(figures["npz"])
    assert grid.loss[2, 2] == pytest.approx(figures["loss"], rel=1e-6)
    if figures["png"] is not None:
        assert Path(figures["png"]).read_bytes()[:8] == PNG_SIGNATURE
    assert any("sharpness" in line for line in lines)


def test_landscape_command_interpolates_from_the_initial_weights(checkpoint: Path,
                                                                  tmp_path: Path,
                                                                  monkeypatch) -> None:
    from backprop.diagnostics import landscape_command as command
    from backprop.train import loop
    from backprop.train.config import TrainConfig

    built: list[dict] = []
    real_build = loop.build_model

    def recording_build(*args, **kwargs):
        model = real_build(*args, **kwargs)
        built.append({k: v.numpy().copy() for k, v in model.state_dict().items()})
        return model

    monkeypatch.setattr(loop, "build_model", recording_build)
    loop.train(TrainConfig(hidden=(8,), epochs=1, out=str(tmp_path / "again"),
                           progress=False), log=lambda line: None)
    captured = {}
    real_landscape = command.loss_landscape

    def recording_landscape(*args, **kwargs):
        captured.update(kwargs["other"])
        return real_landscape(*args, **kwargs)

    monkeypatch.setattr(command, "loss_landscape", recording_landscape)
    figures = command.landscape_command(checkpoint, tmp_path, steps=3, interpolate="init",
                                        hessian_iters=0, log=lambda line: None)
    assert figures["mode"] == "interpolation" and "sharpness" not in figures
    assert captured.keys() == built[0].keys()
    for name, value in captured.items():  # what training started from, value for value
        np.testing.assert_array_equal(value.numpy(), built[0][name])
    assert Path(figures["npz"]).name == "interpolation.npz"


def test_landscape_command_errors_are_the_projects(checkpoint: Path, tmp_path: Path) -> None:
    from backprop.diagnostics.landscape_command import landscape_command
    from backprop.serialization import CheckpointError

    with pytest.raises(FileNotFoundError, match="CHECKPOINT: no such file"):
        landscape_command(tmp_path / "missing.safetensors", tmp_path)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00" * 64 + b"not a checkpoint")
    with pytest.raises(CheckpointError):
        landscape_command(garbage, tmp_path)
    with pytest.raises(ValueError, match="steps must be an integer of at least 2"):
        landscape_command(checkpoint, tmp_path, steps=1)
    with pytest.raises(ValueError, match="batches must be a positive integer"):
        landscape_command(checkpoint, tmp_path, batches=0)
    with pytest.raises(FileNotFoundError, match="--interpolate: no such file"):
        landscape_command(checkpoint, tmp_path, interpolate=tmp_path / "nope.safetensors")
