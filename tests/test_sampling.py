"""Random sampling checked by distribution, not by seed: shapes, dtypes, support, and
frequencies, means and variances within a few standard errors over many draws (each test seeds
its generator, so it is deterministic, but what it asserts are statistics). Also the lazy
RandomSampler: ten billion draws start at once in flat memory."""

from __future__ import annotations

import itertools
import math
import time
import tracemalloc

import numpy as np
import pytest

import backprop as bp
from backprop.utils.data import BatchSampler, RandomSampler, WeightedRandomSampler

_N = 100_000


def _gen(seed: int = 0) -> bp.Generator:
    return bp.Generator(seed)


def _within(estimate: float, expected: float, standard_error: float, k: float = 5.0) -> bool:
    return abs(estimate - expected) <= k * standard_error


def _chi_square_ok(counts: np.ndarray, probabilities: np.ndarray) -> bool:
    """Pearson's statistic below the 1e-4 upper quantile (roughly dof + 4.5 sqrt(2 dof) + 10)."""
    expected = probabilities * counts.sum()
    keep = expected > 0
    statistic = (((counts - expected)[keep]) ** 2 / expected[keep]).sum()
    dof = keep.sum() - 1
    return statistic < dof + 4.5 * math.sqrt(2 * dof) + 10 and counts[~keep].sum() == 0


# -- multinomial -----------------------------------------------------------------------------------

def test_multinomial_with_replacement_frequencies() -> None:
    weights = np.array([[1.0, 0.0, 3.0, 6.0], [5.0, 5.0, 0.0, 0.0]])
    drawn = bp.multinomial(bp.tensor(weights), _N // 10, True, generator=_gen(1)).numpy()
    assert drawn.shape == (2, _N // 10) and drawn.dtype == np.int64
    for row, w in zip(drawn, weights):
        assert _chi_square_ok(np.bincount(row, minlength=4), w / w.sum())


def _sequential_first_and_pairs(w: np.ndarray) -> tuple[np.ndarray, dict]:
    """Exact probabilities of the first draw and of each ordered pair of first two draws,
    drawing without replacement with probability proportional to the remaining weight."""
    p = w / w.sum()
    pairs = {(i, j): p[i] * w[j] / (w.sum() - w[i])
             for i, j in itertools.permutations(range(len(w)), 2)}
    return p, pairs


def test_multinomial_without_replacement_is_sequential_sampling() -> None:
    w = np.array([1.0, 2.0, 3.0, 4.0])
    drawn = bp.multinomial(bp.tensor(np.tile(w, (_N // 2, 1))), 3,
                           generator=_gen(2)).numpy()
    assert drawn.shape == (_N // 2, 3)
    assert all(len(set(r)) == 3 for r in drawn[:1000])  # no category twice
    first, pairs = _sequential_first_and_pairs(w)
    assert _chi_square_ok(np.bincount(drawn[:, 0], minlength=4), first)
    keys = list(pairs)
    counts = np.zeros(len(keys))
    index = {k: i for i, k in enumerate(keys)}
    for a, b in zip(drawn[:, 0], drawn[:, 1]):
        counts[index[a, b]] += 1
    assert _chi_square_ok(counts, np.array([pairs[k] for k in keys]))


def test_multinomial_without_replacement_takes_zero_weights_last() -> None:
    out = bp.multinomial(bp.tensor([0.0, 2.0, 0.0, 1.0]), 4, generator=_gen(3)).tolist()
    assert sorted(out[:2]) == [1, 3] and out[2:] == [0, 2]
    assert bp.tensor([1.0, 2.0]).multinomial(2).shape == (2,)


# -- bernoulli, normal, poisson --------------------------------------------------------------------

def test_bernoulli_frequencies_dtype_and_zero_gradient() -> None:
    p = bp.tensor([0.1, 0.5, 0.9], dtype=bp.float64, requires_grad=True)
    drawn = bp.bernoulli(p.expand(_N, 3), generator=_gen(4))
    assert drawn.dtype == np.float64 and set(np.unique(drawn.detach().numpy())) <= {0.0, 1.0}
    means = drawn.detach().numpy().mean(0)
    assert all(_within(m, q, math.sqrt(q * (1 - q) / _N)) for m, q in zip(means, [0.1, 0.5, 0.9]))
    drawn.sum().backward()  # PyTorch's derivative: zero (the draw is not reparameterised)
    assert p.grad.tolist() == [0.0, 0.0, 0.0]
    fixed = bp.bernoulli(bp.zeros(_N), 0.25, generator=_gen(5)).numpy().mean()
    assert _within(fixed, 0.25, math.sqrt(0.25 * 0.75 / _N))
    assert bp.tensor([0.3]).bernoulli().shape == (1,)


@pytest.mark.parametrize("mean, std, size", [
    (bp.tensor([1.0, -2.0]), bp.tensor([0.5, 3.0]), None),
    (bp.tensor([1.0, -2.0]), 2.0, None),
    (0.5, bp.tensor([0.5, 3.0]), None),
    (1.5, 2.5, (2,)),
], ids=["tensor-tensor", "tensor-float", "float-tensor", "float-float-size"])
def test_normal_four_forms(mean, std, size) -> None:
    if size is None:
        shape = np.broadcast_shapes(*(t.shape for t in (mean, std) if isinstance(t, bp.Tensor)))
        draw = bp.normal(mean.expand(_N, *shape) if isinstance(mean, bp.Tensor) else mean,
                         std.expand(_N, *shape) if isinstance(std, bp.Tensor) else std,
                         generator=_gen(6))
    else:
        draw = bp.normal(mean, std, (_N,) + size, generator=_gen(6))
    values = draw.numpy()
    m = np.broadcast_to(np.asarray(mean.tolist() if isinstance(mean, bp.Tensor) else mean),
                        values.shape[1:])
    s = np.broadcast_to(np.asarray(std.tolist() if isinstance(std, bp.Tensor) else std),
                        values.shape[1:])
    assert draw.dtype == np.float32
    assert np.all(np.abs(values.mean(0) - m) < 5 * s / math.sqrt(_N))
    assert np.all(np.abs(values.std(0) - s) < 5 * s / math.sqrt(2 * _N))


def test_normal_requires_grad_with_zero_gradient_like_pytorch() -> None:
    mean = bp.tensor([0.0, 1.0], requires_grad=True)
    out = bp.normal(mean, 1.0)
    assert out.requires_grad
    out.sum().backward()
    assert mean.grad.tolist() == [0.0, 0.0]


def test_poisson_mean_and_variance() -> None:
    rates = np.array([0.3, 4.0, 40.0])
    drawn = bp.poisson(bp.tensor(rates).expand(_N, 3), generator=_gen(7)).numpy()
    assert drawn.dtype == np.float64 and np.all(drawn == np.floor(drawn)) and drawn.min() >= 0
    assert np.all(np.abs(drawn.mean(0) - rates) < 5 * np.sqrt(rates / _N))
    assert np.all(np.abs(drawn.var(0) - rates) < 5 * np.sqrt((rates + 2 * rates ** 2) / _N))


# -- in-place fills --------------------------------------------------------------------------------

@pytest.mark.parametrize("fill, mean, variance, low", [
    (lambda t, g: t.uniform_(-1.0, 3.0, generator=g), 1.0, 16 / 12, -1.0),
    (lambda t, g: t.normal_(2.0, 0.5, generator=g), 2.0, 0.25, -math.inf),
    (lambda t, g: t.exponential_(4.0, generator=g), 0.25, 1 / 16, 0.0),
    (lambda t, g: t.log_normal_(0.5, 0.25, generator=g), math.exp(0.5 + 0.25 ** 2 / 2),
     (math.exp(0.25 ** 2) - 1) * math.exp(1 + 0.25 ** 2), 0.0),
    (lambda t, g: t.geometric_(0.25, generator=g), 4.0, 0.75 / 0.25 ** 2, 1.0),
    (lambda t, g: t.bernoulli_(0.3, generator=g), 0.3, 0.21, 0.0),
], ids=["uniform_", "normal_", "exponential_", "log_normal_", "geometric_", "bernoulli_"])
def test_in_place_fills_by_moments(fill, mean, variance, low) -> None:
    t = bp.empty(_N, dtype=bp.float64)
    assert fill(t, _gen(8)) is t
    values = t.numpy()
    assert values.min() >= low
    assert _within(values.mean(), mean, math.sqrt(variance / _N))
    assert _within(values.var(), variance, 4 * variance / math.sqrt(_N) + 1e-12, k=3)


def test_cauchy_quartiles() -> None:
    values = bp.empty(_N, dtype=bp.float64).cauchy_(1.0, 2.0, generator=_gen(9)).numpy()
    quartiles = np.quantile(values, [0.25, 0.5, 0.75])
    np.testing.assert_allclose(quartiles, [-1.0, 1.0, 3.0], atol=0.1)


def test_bernoulli_with_a_tensor_of_probabilities() -> None:
    p = bp.tensor([0.0, 0.2, 1.0])
    values = bp.empty(_N, 3).bernoulli_(p, generator=_gen(10)).numpy()
    assert values[:, 0].sum() == 0 and values[:, 2].min() == 1
    assert _within(values[:, 1].mean(), 0.2, math.sqrt(0.16 / _N))


@pytest.mark.parametrize("dtype, args, low, high", [
    (bp.int64, (3,), 0, 2),
    (bp.int64, (-5, 5), -5, 4),
    (bp.int8, (), 0, 127),
    (bp.uint8, (), 0, 255),
    (bp.bool, (), 0, 1),
    (bp.float32, (), 0, 2 ** 24),
    (bp.float64, (10, 20), 10, 19),
], ids=["to", "from-to", "int8", "uint8", "bool", "float32-mantissa", "float-from-to"])
def test_random_ranges(dtype, args, low, high) -> None:
    values = bp.zeros(20_000, dtype=dtype).random_(*args, generator=_gen(11)).numpy()
    assert values.dtype == np.dtype(dtype)
    assert values.min() >= low and values.max() <= high
    assert np.all(values == np.floor(values))
    if high - low < 300:  # every value of a small range turns up
        assert len(np.unique(values)) == high - low + 1


def test_randint_like_and_in_place_gradient_rules() -> None:
    t = bp.randint_like(bp.zeros(2, 3, dtype=bp.float64), 2, 5)
    assert t.shape == (2, 3) and t.dtype == np.float64
    assert set(np.unique(t.numpy())) <= {2.0, 3.0, 4.0}
    x = bp.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(bp.GraphError, match="uniform_: a leaf tensor that requires grad"):
        x.uniform_()
    y = x * 3
    y.normal_()  # overwritten: the old values get a zero gradient, as in PyTorch
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("call, error, match", [
    (lambda: bp.zeros(2).uniform_(2, 1), ValueError,
     r"uniform_: expects to return a \[from, to\) range, but found from=2 > to=1"),
    (lambda: bp.zeros(2).exponential_(0), ValueError,
     r"exponential_: expects lambda > 0.0, but found lambda=0"),
    (lambda: bp.zeros(2).geometric_(1.5), ValueError,
     r"geometric_: expects p to be in \(0, 1\), but got p=1.5"),
    (lambda: bp.zeros(2).bernoulli_(1.5), ValueError,
     r"bernoulli_: expects p to be in \[0, 1\], but got p=1.5"),
    (lambda: bp.zeros(2).normal_(0, -1), ValueError,
     r"normal_: expects std >= 0.0, but found std -1"),
    (lambda: bp.zeros(2).log_normal_(0, -1), ValueError,
     r"log_normal_: expects std > 0.0, but found std=-1"),
    (lambda: bp.zeros(2).cauchy_(0, -1), ValueError,
     r"cauchy_: expects sigma > 0.0, but found sigma=-1"),
    (lambda: bp.zeros(2).random_(3, 2), ValueError,
     r"random_: expects 'from' to be less than 'to', but got from=3 >= to=2"),
    (lambda: bp.zeros(2, dtype=bp.uint8).random_(-3, 2), ValueError,
     r"random_: from=-3 is out of bounds for uint8"),
    (lambda: bp.zeros(2, dtype=bp.uint8).random_(0, 300), ValueError,
     r"random_: to - 1 = 299 is out of bounds for uint8"),
    (lambda: bp.zeros(2, dtype=bp.int64).uniform_(), bp.DTypeError,
     r"uniform_: expects a floating-point tensor, got int64"),
])
def test_in_place_fill_errors(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()


def test_a_generator_repeats_and_the_default_one_is_seeded() -> None:
    a = bp.multinomial(bp.ones(5), 5, generator=_gen(12)).tolist()
    assert a == bp.multinomial(bp.ones(5), 5, generator=_gen(12)).tolist()
    bp.manual_seed(3)
    first = bp.zeros(4).normal_().tolist()
    bp.manual_seed(3)
    assert bp.zeros(4).normal_().tolist() == first


# -- the lazy samplers -----------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: RandomSampler(range(100), replacement=True, num_samples=10 ** 10),
    lambda: WeightedRandomSampler([1.0, 2.0, 3.0], num_samples=10 ** 10),
], ids=["RandomSampler", "WeightedRandomSampler"])
def test_ten_billion_samples_start_at_once_in_flat_memory(make) -> None:
    tracemalloc.start()
    try:
        start = time.perf_counter()
        sampler = make()
        it = iter(sampler)
        head = [next(it) for _ in range(1000)]
        batch = next(iter(BatchSampler(sampler, 64, drop_last=False)))
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(sampler) == 10 ** 10 and len(batch) == 64
    assert all(0 <= i < 100 for i in head)
    assert elapsed < 2.0 and peak < 50 * 2 ** 20, (elapsed, peak)


def test_chunked_draws_keep_the_sequence_and_the_batches() -> None:
    sampler = RandomSampler(range(7), replacement=True, num_samples=150_001, generator=_gen(13))
    whole = list(sampler)
    assert len(whole) == 150_001 and set(whole) == set(range(7))
    batched = [i for b in BatchSampler(RandomSampler(range(7), replacement=True,
                                                     num_samples=150_001, generator=_gen(13)),
                                       1000, drop_last=False) for i in b]
    assert batched == whole  # batches that straddle two chunks join them
    small = list(RandomSampler(range(9), replacement=True, num_samples=50, generator=_gen(14)))
    assert small == np.random.Generator(np.random.PCG64(14)).integers(0, 9, 50).tolist()
