"""GradScaler against torch.amp.GradScaler("cpu"): the scale sequence, skipped steps and
parameters over steps with injected inf/NaN gradients, unscale_ before clipping, the state
dict, and PyTorch's errors."""

import warnings

import numpy as np
import pytest

import backprop as bp

torch = pytest.importorskip("torch")

# Per step: what to inject into the first parameter's gradient (None: nothing).
INJECTIONS = [None, None, float("inf"), None, None, None, float("nan"), None, None, None,
              None, float("-inf"), None]


def _models():
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((2, 3)).astype(np.float32)
    bias = rng.standard_normal(2).astype(np.float32)
    ours = bp.nn.Linear(3, 2)
    theirs = torch.nn.Linear(3, 2, dtype=torch.float32)  # whatever default an earlier test left
    with bp.no_grad():
        ours.weight.copy_(bp.tensor(weight))
        ours.bias.copy_(bp.tensor(bias))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(weight))
        theirs.bias.copy_(torch.tensor(bias))
    return ours, theirs


def _run(lib, model, scaler, optimizer, clip):
    rng = np.random.default_rng(1)
    scales, results, trackers = [], [], []
    for injected in INJECTIONS:
        x = lib.tensor(rng.standard_normal((4, 3)).astype(np.float32))
        optimizer.zero_grad()
        loss = (model(x) ** 2).mean()
        scaler.scale(loss).backward()
        if injected is not None:
            model.weight.grad[0, 0] = injected
        if clip:
            scaler.unscale_(optimizer)
            lib.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        before = model.bias.detach().clone().tolist()
        returned = scaler.step(optimizer)
        results.append((returned is None, model.bias.detach().tolist() == before))
        scaler.update()
        scales.append(scaler.get_scale())
        trackers.append(scaler._get_growth_tracker())
    return scales, results, trackers


@pytest.mark.parametrize("clip", [False, True], ids=["plain", "unscale_then_clip"])
def test_scale_sequence_skips_and_parameters_match_pytorch(clip):
    ours, theirs = _models()
    kwargs = {"init_scale": 2.0 ** 10, "growth_factor": 4.0, "backoff_factor": 0.25,
              "growth_interval": 3}
    our_scaler = bp.amp.GradScaler("cpu", **kwargs)
    their_scaler = torch.amp.GradScaler("cpu", **kwargs)
    our_run = _run(bp, ours, our_scaler, bp.optim.SGD(ours.parameters(), lr=0.1,
                                                       momentum=0.9), clip)
    their_run = _run(torch, theirs, their_scaler,
                     torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9), clip)
    assert our_run == their_run
    assert len(set(our_run[0])) > 1  # the scale moved: grew and backed off
    assert [skipped for _, skipped in our_run[1]].count(True) == 3  # the inf/NaN steps
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.bias.detach().numpy(), theirs.bias.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert our_scaler.state_dict() == their_scaler.state_dict()


def test_state_dict_round_trip_and_defaults_match_pytorch():
    ours, theirs = bp.amp.GradScaler("cpu"), torch.amp.GradScaler("cpu")
    assert ours.state_dict() == theirs.state_dict()
    state = {"scale": 128.0, "growth_factor": 3.0, "backoff_factor": 0.125,
             "growth_interval": 7, "_growth_tracker": 2}
    ours.load_state_dict(state)
    theirs.load_state_dict(state)
    assert ours.state_dict() == theirs.state_dict() == state
    ours.scale(bp.tensor(1.0))
    assert ours.get_scale() == 128.0 and ours._get_growth_tracker() == 2
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        ours.load_state_dict({})


def test_errors_match_pytorch():
    w = bp.nn.Parameter(bp.ones(2))
    optimizer = bp.optim.SGD([w], lr=0.1)
    scaler = bp.amp.GradScaler("cpu")
    with pytest.raises(AssertionError, match="_scale is None"):
        scaler.step(optimizer)
    scaler.scale(w.sum()).backward()
    scaler.unscale_(optimizer)
    with pytest.raises(RuntimeError, match="already been called on this optimizer"):
        scaler.unscale_(optimizer)
    scaler.step(optimizer)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step"):
        scaler.unscale_(optimizer)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(optimizer)
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(optimizer, closure=lambda: None)
    scaler.update(new_scale=8.0)
    assert scaler.get_scale() == 8.0
    w.grad = bp.ones(2, dtype=bp.float16)
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
        scaler.unscale_(optimizer)


def test_disabled_scaler_passes_through_and_cuda_without_gpu_disables():
    w = bp.nn.Parameter(bp.ones(1))
    optimizer = bp.optim.SGD([w], lr=1.0)
    scaler = bp.amp.GradScaler("cpu", enabled=False)
    loss = w.sum()
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0
    loss.backward()
    scaler.step(optimizer)
    assert w.tolist() == [0.0] and scaler.state_dict() == {}
    if not bp.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available"):
            assert not bp.amp.GradScaler().is_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert bp.cuda.amp.GradScaler is bp.amp.GradScaler


def test_cpu_amp_spellings_warn_like_pytorch_and_work():
    with pytest.warns(FutureWarning, match=r"torch.amp.GradScaler\('cpu'"):
        scaler = bp.cpu.amp.GradScaler(init_scale=4.0)
    assert scaler.is_enabled() and scaler.get_scale() == 4.0
    with pytest.warns(FutureWarning, match=r"torch.amp.autocast\('cpu'"):
        block = bp.cpu.amp.autocast()
    with block:
        assert bp.is_autocast_enabled("cpu")
    assert (bp.cpu.is_available(), bp.cpu.device_count()) == (torch.cpu.is_available(),
                                                              torch.cpu.device_count())
