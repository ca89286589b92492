"""bp.utils.data: data sets, samplers, collate and the DataLoader, against PyTorch's semantics."""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import backprop as bp
from backprop.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    random_split,
)
from backprop.utils.data import dataloader as dataloader_module


def gen(seed: int) -> bp.Generator:
    return bp.Generator().manual_seed(seed)


def toy(n: int = 10) -> TensorDataset:
    x = bp.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    return TensorDataset(x, bp.arange(n))


class PerSample(Dataset):
    """The same samples as ``toy`` without a batch fast path: the reference for it."""

    def __init__(self, base: TensorDataset) -> None:
        self.base = base

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, i: int) -> tuple:
        return self.base[i]


class Stream(IterableDataset):
    def __init__(self, n: int, with_len: bool = True) -> None:
        self.n = n
        self.with_len = with_len

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self) -> int:
        if not self.with_len:
            raise TypeError("no len")
        return self.n


def order_of(loader: DataLoader) -> list[int]:
    """The sample order a loader over ``toy`` produces (its label column)."""
    return [i for _, y in loader for i in y.tolist()]


# -- data sets -------------------------------------------------------------------------------------

def test_dataset_base_and_add() -> None:
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    both = toy(3) + toy(2)
    assert isinstance(both, ConcatDataset) and len(both) == 5
    assert both[3][1].item() == 0 and both[-1][1].item() == 1


def test_tensor_dataset_items() -> None:
    ds = toy(4)
    x, y = ds[2]
    assert len(ds) == 4 and x.tolist() == [6.0, 7.0, 8.0] and y.item() == 2
    assert [t.shape for t in ds[1:3]] == [(2, 3), (2,)]


@pytest.mark.parametrize("tensors, match", [
    ((bp.zeros(5, 2), bp.zeros(4)), r"size mismatch.*tensor 0: 5, tensor 1: 4"),
    ((bp.zeros(3), bp.zeros(3), bp.zeros(2, 3)), r"tensor 1: 3, tensor 2: 2"),
    ((bp.zeros(()),), r"tensor 0 is 0-d"),
    ((), r"at least one tensor"),
])
def test_tensor_dataset_errors(tensors: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TensorDataset(*tensors)


def test_tensor_dataset_rejects_arrays() -> None:
    with pytest.raises(TypeError, match="argument 1 is a ndarray"):
        TensorDataset(bp.zeros(2), np.zeros(2))


def test_subset() -> None:
    sub = Subset(toy(6), [5, 1, 3])
    assert len(sub) == 3 and sub[0][1].item() == 5 and sub[-1][1].item() == 3
    assert [y.item() for _, y in sub.__getitems__([2, 0])] == [3, 5]
    letters = Subset(["a", "b", "c"], [2, 0])
    assert [letters[i] for i in range(2)] == ["c", "a"]


def test_concat_dataset_indexing() -> None:
    ds = ConcatDataset([range(3), range(10, 12), range(20, 24)])
    assert ds.cumulative_sizes == [3, 5, 9]
    assert [ds[i] for i in range(9)] == [0, 1, 2, 10, 11, 20, 21, 22, 23]
    assert ds[-1] == 23 and ds[-9] == 0
    with pytest.raises(ValueError, match="out of range"):
        ds[-10]
    with pytest.raises(IndexError, match="out of range"):
        ds[9]


def test_concat_dataset_errors() -> None:
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])
    with pytest.raises(TypeError, match="IterableDataset"):
        ConcatDataset([range(2), Stream(2)])


def test_iterable_and_chain_datasets() -> None:
    chained = Stream(2) + Stream(3)
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5
    with pytest.raises(NotImplementedError, match="__iter__"):
        iter(IterableDataset())


# -- random_split ----------------------------------------------------------------------------------

@pytest.mark.parametrize("n, lengths", [
    (10, [3, 7]), (10, [0.5, 0.5]), (10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]),
    (11, [0.1, 0.2, 0.3, 0.4]), (1797, [0.8, 0.2]), (5, [1.0]), (3, [0.1, 0.1, 0.8]),
])
@pytest.mark.filterwarnings("ignore:.*split at index 1 is 0")
def test_random_split_sizes_match_pytorch(torch, n: int, lengths: list) -> None:
    expected = [len(s) for s in torch.utils.data.random_split(range(n), lengths)]
    parts = random_split(range(n), lengths, generator=gen(0))
    assert [len(p) for p in parts] == expected
    seen = [i for p in parts for i in p]
    assert sorted(seen) == list(range(n))  # disjoint and covering


def test_random_split_remainder_goes_round_robin() -> None:
    assert [len(p) for p in random_split(range(10), [0.33, 0.33, 0.34], gen(0))] == [4, 3, 3]
    assert [len(p) for p in random_split(range(7), [0.5, 0.5], gen(0))] == [4, 3]


def test_random_split_is_seeded() -> None:
    a = [list(p) for p in random_split(range(20), [5, 15], generator=gen(3))]
    b = [list(p) for p in random_split(range(20), [5, 15], generator=gen(3))]
    c = [list(p) for p in random_split(range(20), [5, 15], generator=gen(4))]
    assert a == b and a != c
    bp.manual_seed(11)
    d = [list(p) for p in random_split(range(20), [5, 15])]
    bp.manual_seed(11)
    assert d == [list(p) for p in random_split(range(20), [5, 15])]


def test_random_split_of_tensor_dataset() -> None:
    train, test = random_split(toy(10), [0.8, 0.2], generator=gen(0))
    labels = [y.item() for _, y in train] + [y.item() for _, y in test]
    assert isinstance(train, Subset) and sorted(labels) == list(range(10))


@pytest.mark.parametrize("lengths, match", [
    ([3, 3], r"sum to 6, but the data set has 10 samples"),
    ([0.5, 0.6], r"fractions summing to 1, got 0.5"),
    ([1.5, -0.5], r"fraction at index 0 is 1.5"),
    ([2.5, 7.5], r"non-negative integers or fractions"),
])
def test_random_split_errors(lengths: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        random_split(range(10), lengths)


def test_random_split_warns_on_empty_split() -> None:
    with pytest.warns(UserWarning) as record:
        parts = random_split(range(2), [0.9, 0.05, 0.05], generator=gen(0))
    assert ["index 1 is 0" in str(r.message) for r in record] == [True, False]
    assert [len(p) for p in parts] == [2, 0, 0]


# -- samplers --------------------------------------------------------------------------------------

def test_sequential_sampler() -> None:
    s = SequentialSampler(range(4))
    assert list(s) == [0, 1, 2, 3] and len(s) == 4


def test_random_sampler_is_a_seeded_permutation() -> None:
    a, b = list(RandomSampler(range(50), generator=gen(1))), list(RandomSampler(range(50),
                                                                                generator=gen(1)))
    assert a == b and sorted(a) == list(range(50)) and a != list(range(50))
    assert all(type(i) is int for i in a)


def test_random_sampler_epochs_differ_but_repeat_after_reseed() -> None:
    sampler = RandomSampler(range(30))
    bp.manual_seed(5)
    first, second = list(sampler), list(sampler)
    bp.manual_seed(5)
    assert first != second and [first, second] == [list(sampler), list(sampler)]
    g = gen(2)
    sampler = RandomSampler(range(30), generator=g)
    e1, e2 = list(sampler), list(sampler)
    g.manual_seed(2)
    assert e1 != e2 and [e1, e2] == [list(sampler), list(sampler)]


def test_random_sampler_draws_one_seed_from_default_generator() -> None:
    # Like PyTorch: the default stream advances by the same amount whatever the data set size.
    bp.manual_seed(0)
    list(RandomSampler(range(5)))
    after_small = bp.rand(1).item()
    bp.manual_seed(0)
    list(RandomSampler(range(5000)))
    assert bp.rand(1).item() == after_small


def test_random_sampler_num_samples_and_replacement() -> None:
    s = RandomSampler(range(4), num_samples=10, generator=gen(0))
    drawn = list(s)
    assert len(s) == 10 and len(drawn) == 10
    assert sorted(drawn[:8]) == [0, 0, 1, 1, 2, 2, 3, 3]  # two full permutations, then a part
    assert len(set(drawn[8:])) == 2
    r = RandomSampler(range(3), replacement=True, num_samples=200, generator=gen(0))
    values = list(r)
    assert len(values) == 200 and set(values) == {0, 1, 2}


@pytest.mark.parametrize("kwargs, error, match", [
    ({"replacement": 1}, TypeError, "replacement should be a boolean"),
    ({"num_samples": 0}, ValueError, "num_samples should be a positive integer"),
    ({"num_samples": 2.5}, ValueError, "num_samples should be a positive integer"),
])
def test_random_sampler_errors(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        RandomSampler(range(3), **kwargs)


def test_subset_random_sampler() -> None:
    s = SubsetRandomSampler([7, 3, 9, 1], generator=gen(0))
    drawn = list(s)
    assert sorted(drawn) == [1, 3, 7, 9] and len(s) == 4
    assert drawn == list(SubsetRandomSampler([7, 3, 9, 1], generator=gen(0)))


def test_weighted_random_sampler() -> None:
    s = WeightedRandomSampler([0.0, 3.0, 1.0], num_samples=400, generator=gen(0))
    counts = np.bincount(list(s), minlength=3)
    assert counts[0] == 0 and 250 < counts[1] < 350 and len(s) == 400
    no_repeat = list(WeightedRandomSampler([1, 1, 1, 0], 3, replacement=False, generator=gen(0)))
    assert sorted(no_repeat) == [0, 1, 2]


@pytest.mark.parametrize("args, match", [
    (([[1.0, 2.0]], 2), "1-d sequence"),
    (([1.0, -1.0], 2), "non-negative"),
    (([0.0, 0.0], 2), "not all zero"),
    (([1.0, 0.0], 2, False), "cannot draw 2 samples without replacement"),
    (([1.0], 0), "num_samples should be a positive integer"),
])
def test_weighted_random_sampler_errors(args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        WeightedRandomSampler(*args)


@pytest.mark.parametrize("n, size, drop_last, expected_len", [
    (10, 3, False, 4), (10, 3, True, 3), (9, 3, True, 3), (9, 3, False, 3), (2, 5, False, 1),
    (2, 5, True, 0),
])
def test_batch_sampler(n: int, size: int, drop_last: bool, expected_len: int) -> None:
    bs = BatchSampler(SequentialSampler(range(n)), size, drop_last)
    batches = list(bs)
    assert len(bs) == expected_len == len(batches)
    assert all(type(b) is list and type(b[0]) is int for b in batches)
    flat = [i for b in batches for i in b]
    assert flat == list(range(len(flat)))
    assert all(len(b) == size for b in batches[:-1])
    # the same through a plain iterable (no index array)
    assert list(BatchSampler(range(n), size, drop_last)) == batches


def test_batch_sampler_respects_a_subclass_iter() -> None:
    class Reversed(SequentialSampler):
        def __iter__(self):
            return iter(reversed(range(len(self.data_source))))

    assert list(BatchSampler(Reversed(range(5)), 2, False)) == [[4, 3], [2, 1], [0]]


@pytest.mark.parametrize("size, drop_last, error, match", [
    (0, False, ValueError, "batch_size should be a positive integer"),
    (True, False, ValueError, "batch_size should be a positive integer"),
    (2, 1, TypeError, "drop_last should be a boolean"),
])
def test_batch_sampler_errors(size, drop_last, error, match) -> None:
    with pytest.raises(error, match=match):
        BatchSampler(range(3), size, drop_last)


# -- collate ---------------------------------------------------------------------------------------

def test_collate_tensors_and_labels() -> None:
    x, y = default_collate([(bp.zeros(2, 3), 1), (bp.ones(2, 3), 0), (bp.ones(2, 3), 7)])
    assert x.shape == (3, 2, 3) and x.dtype == bp.float32
    assert y.tolist() == [1, 0, 7] and y.dtype == bp.int64


def test_collate_int_list_with_a_float_is_default_float() -> None:
    assert default_collate([1, 2.5]).dtype == bp.float32  # torch.tensor([1, 2.5]), the default


@pytest.mark.parametrize("batch, dtype", [
    ([1, 2], np.int64), ([1.0, 2], np.float64), ([True, False], np.bool_),
    ([np.float32(1), np.float32(2)], np.float32), ([np.float64(1)], np.float64),
    ([np.int32(4), np.int32(5)], np.int32), ([np.zeros(2, np.float16)] * 2, np.float16),
    ([np.zeros(3, np.uint8)], np.uint8),
])
def test_collate_number_dtypes_match_pytorch(torch, batch: list, dtype: type) -> None:
    ours = default_collate(batch)
    theirs = torch.utils.data.default_collate(batch)
    assert ours.dtype == np.dtype(dtype)
    assert str(theirs.dtype) == f"torch.{np.dtype(dtype)}"
    assert ours.shape == tuple(theirs.shape) and ours.tolist() == theirs.tolist()


def test_collate_containers() -> None:
    Point = collections.namedtuple("Point", "x y")
    out = default_collate([
        {"image": np.ones((2, 2), np.float32), "label": 3, "meta": {"name": "a", "w": 0.5},
         "pair": (1, 2), "items": [1.0, 2.0], "point": Point(1, 2.0)},
        {"image": np.zeros((2, 2), np.float32), "label": 4, "meta": {"name": "b", "w": 1.5},
         "pair": (3, 4), "items": [3.0, 4.0], "point": Point(3, 4.0)},
    ])
    assert out["image"].shape == (2, 2, 2) and out["label"].tolist() == [3, 4]
    assert out["meta"]["name"] == ["a", "b"] and out["meta"]["w"].dtype == bp.float64
    assert type(out["pair"]) is list and [t.tolist() for t in out["pair"]] == [[1, 3], [2, 4]]
    assert type(out["items"]) is list and out["items"][1].tolist() == [2.0, 4.0]
    assert isinstance(out["point"], Point) and out["point"].y.dtype == bp.float64


def test_collate_matches_pytorch_structure(torch) -> None:
    batch = [((1, 2.0), {"a": [3, 4]}, "s"), ((5, 6.0), {"a": [7, 8]}, "t")]
    ours, theirs = default_collate(batch), torch.utils.data.default_collate(batch)

    def plain(value):
        if isinstance(value, (bp.Tensor, torch.Tensor)):
            return ("tensor", str(value.dtype).replace("torch.", ""), value.tolist())
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return (type(value).__name__, [plain(v) for v in value])
        return value

    assert plain(ours) == plain(theirs)
    assert plain(ours)[0] == "list"


def test_collate_keeps_the_graph() -> None:
    w = bp.ones(3, requires_grad=True)
    batch = default_collate([w * 2, w * 3])
    batch.sum().backward()
    assert w.grad.tolist() == [5.0, 5.0, 5.0]


@pytest.mark.parametrize("batch, error, match", [
    ([None, None], TypeError, "batch must contain tensors.*NoneType"),
    ([bp.zeros(2), bp.zeros(3)], RuntimeError, r"different shapes \(2,\), \(3,\)"),
    ([np.zeros(2), np.zeros((2, 1))], RuntimeError, "different shapes"),
    ([[1, 2], [3]], RuntimeError, "equal size"),
    ([np.array(["a"]), np.array(["b"])], TypeError, "batch must contain"),
])
def test_collate_errors(batch: list, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        default_collate(batch)


def test_default_convert() -> None:
    array = np.arange(3)
    out = default_convert({"a": array, "b": (np.float32(1), "s"), "c": [array]})
    assert isinstance(out["a"], bp.Tensor) and np.shares_memory(out["a"].numpy(), array)
    assert type(out["b"]) is list and out["b"][0].dtype == bp.float32 and out["b"][1] == "s"
    assert isinstance(out["c"][0], bp.Tensor)


# -- DataLoader ------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, batch_size, drop_last", [
    (10, 4, False), (10, 4, True), (8, 4, True), (3, 5, False), (3, 5, True), (10, 1, False),
])
def test_loader_batches_in_order(n: int, batch_size: int, drop_last: bool) -> None:
    loader = DataLoader(toy(n), batch_size=batch_size, drop_last=drop_last)
    batches = list(loader)
    expected = n // batch_size if drop_last else -(-n // batch_size)
    assert len(loader) == len(batches) == expected
    for k, (x, y) in enumerate(batches):
        size = min(batch_size, n - k * batch_size)
        assert x.shape == (size, 3) and y.shape == (size,)
        assert x.dtype == bp.float32 and y.dtype == bp.int64
        assert y.tolist() == list(range(k * batch_size, k * batch_size + size))


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("make", [lambda d: d, lambda d: Subset(d, list(range(9, -1, -2))),
                                  lambda d: random_split(d, [7, 3], generator=gen(1))[0],
                                  lambda d: Subset(d, np.array([4, 2, 8]))])
def test_fast_path_equals_per_sample_path(make, shuffle: bool) -> None:
    base = make(toy(10))
    slow = make(PerSample(toy(10)))
    assert not hasattr(slow, "_get_batch") or slow._get_batch(np.array([0])) is None
    fast_batches = list(DataLoader(base, batch_size=3, shuffle=shuffle, generator=gen(7)))
    slow_batches = list(DataLoader(slow, batch_size=3, shuffle=shuffle, generator=gen(7)))
    assert len(fast_batches) == len(slow_batches)
    for fast, ref in zip(fast_batches, slow_batches):
        assert type(fast) is type(ref) is list
        for a, b in zip(fast, ref):
            assert a.dtype == b.dtype and a.shape == b.shape and a.tolist() == b.tolist()


def test_fast_path_indexes_whole_batches(monkeypatch) -> None:
    def per_sample(*args):
        raise AssertionError("the DataLoader indexed one sample at a time")

    monkeypatch.setattr(bp.Tensor, "__getitem__", per_sample)
    ds = toy(10)
    batches = list(DataLoader(Subset(ds, list(range(10))), batch_size=4, shuffle=True))
    assert sorted(i for _, y in batches for i in y.tolist()) == list(range(10))


def test_fast_path_skipped_for_subclass_and_custom_collate() -> None:
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    ds = Doubled(bp.ones(4, 2), bp.arange(4))
    x, _ = next(iter(DataLoader(ds, batch_size=4)))
    assert x.tolist() == [[2.0, 2.0]] * 4
    seen = []
    loader = DataLoader(toy(4), batch_size=2, collate_fn=lambda b: seen.append(len(b)) or b)
    first = next(iter(loader))
    assert seen == [2] and type(first) is list and type(first[0]) is tuple


def test_fast_path_records_graph_when_data_requires_grad() -> None:
    x = bp.ones(4, 2, requires_grad=True)
    ds = TensorDataset(x, bp.arange(4))
    xb, _ = next(iter(DataLoader(ds, batch_size=2, sampler=[3, 3])))
    (xb * 2).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0]] * 3 + [[4.0, 4.0]]


def test_shuffle_reproducible_with_manual_seed() -> None:
    loader = DataLoader(toy(20), batch_size=6, shuffle=True)
    bp.manual_seed(3)
    epoch1, epoch2 = order_of(loader), order_of(loader)
    bp.manual_seed(3)
    assert epoch1 == order_of(loader) and epoch2 == order_of(loader)
    assert epoch1 != epoch2 and sorted(epoch1) == sorted(epoch2) == list(range(20))
    bp.manual_seed(4)
    assert order_of(loader) != epoch1


def test_shuffle_with_generator_ignores_default_seed() -> None:
    bp.manual_seed(0)
    a = order_of(DataLoader(toy(20), batch_size=6, shuffle=True, generator=gen(9)))
    bp.manual_seed(1)
    b = order_of(DataLoader(toy(20), batch_size=6, shuffle=True, generator=gen(9)))
    assert a == b


def test_loader_iterates_twice_and_iterator_has_len() -> None:
    loader = DataLoader(toy(5), batch_size=2)
    it = iter(loader)
    assert len(it) == 3 and iter(it) is it
    assert order_of(loader) == order_of(loader) == list(range(5))


def test_loader_with_sampler_and_batch_sampler() -> None:
    assert order_of(DataLoader(toy(6), batch_size=2, sampler=[5, 0, 2])) == [5, 0, 2]
    loader = DataLoader(toy(6), batch_sampler=[[1, 2, 3], [0]])
    assert len(loader) == 2 and [y.tolist() for _, y in loader] == [[1, 2, 3], [0]]
    assert order_of(DataLoader(toy(6), sampler=SubsetRandomSampler([1, 4], gen(0)))) in (
        [1, 4], [4, 1])


def test_loader_without_batching() -> None:
    loader = DataLoader([np.ones(2), np.zeros(2)], batch_size=None)
    items = list(loader)
    assert len(loader) == 2 and all(isinstance(t, bp.Tensor) and t.shape == (2,) for t in items)


def test_loader_uses_getitems() -> None:
    class Batched(Dataset):
        calls = 0

        def __len__(self):
            return 5

        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, indices):
            Batched.calls += 1
            return [float(i) for i in indices]

    batches = [b.tolist() for b in DataLoader(Batched(), batch_size=2)]
    assert batches == [[0.0, 1.0], [2.0, 3.0], [4.0]] and Batched.calls == 3


def test_loader_over_generic_dataset_of_dicts() -> None:
    class Dicts(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return {"x": np.full(2, i, np.float32), "y": i}

    batch = next(iter(DataLoader(Dicts(), batch_size=3)))
    assert batch["x"].shape == (3, 2) and batch["y"].tolist() == [0, 1, 2]


@pytest.mark.parametrize("drop_last, expected", [(False, [[0, 1, 2], [3, 4, 5], [6]]),
                                                 (True, [[0, 1, 2], [3, 4, 5]])])
def test_loader_over_iterable_dataset(drop_last: bool, expected: list) -> None:
    loader = DataLoader(Stream(7), batch_size=3, drop_last=drop_last)
    assert [b.tolist() for b in loader] == expected and len(loader) == len(expected)
    assert [b.tolist() for b in loader] == expected  # a second pass
    assert list(DataLoader(Stream(2), batch_size=None)) == [0, 1]  # ints stay ints
    assert list(DataLoader(Stream(0), batch_size=2)) == []
    with pytest.raises(TypeError):
        len(DataLoader(Stream(3, with_len=False), batch_size=2))


@pytest.mark.parametrize("kwargs, match", [
    ({"shuffle": True, "sampler": [0, 1]}, "sampler option is mutually exclusive with shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "drop_last": True}, "batch_sampler option is mutually exclusive"),
    ({"batch_size": None, "drop_last": True}, "mutually exclusive with drop_last"),
    ({"num_workers": -1}, "num_workers option should be non-negative"),
    ({"prefetch_factor": 2}, "prefetch_factor"),
    ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
    ({"timeout": -1}, "timeout option should be non-negative"),
    ({"batch_size": 0}, "batch_size should be a positive integer"),
])
def test_loader_argument_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        DataLoader(toy(4), **kwargs)


@pytest.mark.parametrize("kwargs", [{"shuffle": True}, {"sampler": [0]},
                                    {"batch_sampler": [[0]]}])
def test_loader_iterable_dataset_rejects_order_options(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="IterableDataset: expected unspecified"):
        DataLoader(Stream(3), **kwargs)


def test_num_workers_warns_once_and_loads_in_process(monkeypatch) -> None:
    monkeypatch.setattr(dataloader_module, "_warned_workers", False)
    with pytest.warns(UserWarning, match="num_workers=2 is accepted and ignored"):
        loader = DataLoader(toy(5), batch_size=2, num_workers=2, pin_memory=True,
                            persistent_workers=True, prefetch_factor=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DataLoader(toy(5), batch_size=2, num_workers=4)
    assert order_of(loader) == list(range(5))
    assert bp.utils.data.get_worker_info() is None


def test_custom_sampler_class() -> None:
    class Evens(Sampler[int]):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(0, self.n, 2))

        def __len__(self):
            return (self.n + 1) // 2

    loader = DataLoader(toy(7), batch_size=3, sampler=Evens(7))
    assert len(loader) == 2 and order_of(loader) == [0, 2, 4, 6]
