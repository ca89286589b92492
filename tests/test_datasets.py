"""bp.datasets: the embedded digits, the IDX reader, MNIST/FashionMNIST folders, npz and CSV."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.datasets import (
    MNIST,
    CsvDataset,
    Digits,
    FashionMNIST,
    IDXError,
    NpzDataset,
    load_npz,
    read_idx,
    write_idx,
)
from backprop.datasets.digits import split_mask
from backprop.datasets.mnist import DEBIAN_FASHION_MNIST, SPLIT_FILES
from backprop.utils.data import DataLoader, Dataset

# -- Digits ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("train, n", [(True, 1442), (False, 355)])
def test_digits_shapes_and_dtypes(train: bool, n: int) -> None:
    ds = Digits(train=train)
    assert isinstance(ds, Dataset) and len(ds) == n
    assert ds.data.shape == (n, 1, 8, 8) and ds.data.dtype == bp.float32
    assert ds.targets.shape == (n,) and ds.targets.dtype == bp.int64
    image, label = ds[0]
    assert image.shape == (1, 8, 8) and image.dtype == bp.float32 and type(label) is int
    assert ds[-1][1] == ds.targets[-1].item()


def test_digits_pixel_range() -> None:
    data = np.concatenate([Digits(train=True).data.numpy(), Digits(train=False).data.numpy()])
    assert data.min() == 0.0 and data.max() == 1.0
    assert np.array_equal(data * 16, np.round(data * 16))  # the stored counts 0..16, over 16


@pytest.mark.parametrize("train, low, high", [(True, 140, 147), (False, 34, 36)])
def test_digits_class_balance(train: bool, low: int, high: int) -> None:
    counts = np.bincount(Digits(train=train).targets.numpy(), minlength=10)
    assert len(counts) == 10 and counts.min() >= low and counts.max() <= high


def test_digits_split_is_fixed_and_disjoint() -> None:
    mask = split_mask()
    assert mask.sum() == 355 and (~mask).sum() == 1442
    a, b = Digits(train=True), Digits(train=True)
    assert np.array_equal(a.data.numpy(), b.data.numpy())
    assert np.array_equal(a.targets.numpy(), b.targets.numpy())
    # Pinned: a change to the file or the split rule shows up here.
    assert Digits(train=True).targets[:12].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert Digits(train=False).targets[:6].tolist() == [5, 0, 9, 8, 7, 1]
    assert a.data.numpy().sum(dtype=np.float64) * 16 == 450566.0
    assert Digits(train=False).data.numpy().sum(dtype=np.float64) * 16 == 111152.0


def test_digits_total_pixel_sum_is_the_file_sum() -> None:
    from backprop.datasets.digits import _load

    images, labels = _load()
    train, test = Digits(train=True), Digits(train=False)
    total = train.data.numpy().sum(dtype=np.float64) + test.data.numpy().sum(dtype=np.float64)
    assert total * 16 == images.sum(dtype=np.int64)
    assert sorted(train.targets.tolist() + test.targets.tolist()) == sorted(labels.tolist())


def test_digits_instances_do_not_share_storage() -> None:
    a, b = Digits(train=False), Digits(train=False)
    a.data.numpy()[0] = 5.0
    image, _ = b[0]
    assert b.data.numpy().max() <= 1.0 and image.numpy().max() <= 1.0
    first = a[1][0]
    first.numpy()[...] = -1.0  # a sample is a copy, so transforms may work in place
    assert a.data.numpy()[1].min() >= 0.0


def test_digits_transforms() -> None:
    ds = Digits(train=False, transform=lambda x: x.reshape(-1) * 2,
                target_transform=lambda y: y + 100)
    image, label = ds[0]
    assert image.shape == (64,) and float(image.max()) <= 2.0 and label == 105
    x, y = next(iter(DataLoader(ds, batch_size=5)))
    assert x.shape == (5, 64) and y.tolist() == [t + 100 for t in ds.targets[:5].tolist()]


@pytest.mark.parametrize("shuffle", [False, True])
def test_digits_loader_fast_path_matches_samples(shuffle: bool) -> None:
    ds = Digits(train=False)
    loader = DataLoader(ds, batch_size=64, shuffle=shuffle, generator=bp.Generator().manual_seed(0))
    order = list(bp.utils.data.RandomSampler(ds, generator=bp.Generator().manual_seed(0))) \
        if shuffle else list(range(len(ds)))
    x, y = next(iter(loader))
    assert x.shape == (64, 1, 8, 8) and x.dtype == bp.float32 and y.dtype == bp.int64
    samples = [ds[i] for i in order[:64]]
    assert np.array_equal(x.numpy(), np.stack([s[0].numpy() for s in samples]))
    assert y.tolist() == [s[1] for s in samples]
    assert sum(len(b[1]) for b in loader) == 355


@pytest.mark.parametrize("index, error", [(355, IndexError), (-356, IndexError), ("0", TypeError),
                                          (1.0, TypeError)])
def test_digits_index_errors(index, error) -> None:
    with pytest.raises(error, match="Digits"):
        Digits(train=False)[index]


def test_digits_train_flag_and_repr() -> None:
    with pytest.raises(TypeError, match="train must be True or False"):
        Digits(train="test")
    text = repr(Digits(train=False))
    assert "Number of datapoints: 355" in text and "Split: Test" in text
    assert Digits.classes[3] == "3 - three" and Digits(train=False).class_to_idx["9 - nine"] == 9


def test_digits_data_file_is_attributed() -> None:
    from backprop import datasets

    folder = Path(datasets.__file__).parent / "data"
    readme = (folder / "README.md").read_text()
    assert (folder / "digits.csv.gz").stat().st_size < 60_000
    assert "Alpaydin" in readme and "Kaynak" in readme and "CC BY 4.0" in readme


# -- IDX -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("name", ["data-idx", "data-idx.gz"])
def test_idx_round_trip(tmp_path: Path, dtype, shape, name: str) -> None:
    rng = np.random.default_rng(0)
    array = (rng.standard_normal(shape) * 50).astype(dtype)
    write_idx(tmp_path / name, array)
    back = read_idx(tmp_path / name)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative and back.flags.writeable
    assert np.array_equal(back, array)
    assert ((tmp_path / name).read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")


def test_idx_layout_is_big_endian(tmp_path: Path) -> None:
    write_idx(tmp_path / "x", np.array([[1, 256]], dtype=np.int32))
    assert (tmp_path / "x").read_bytes() == bytes([0, 0, 0x0C, 2, 0, 0, 0, 1, 0, 0, 0, 2,
                                                   0, 0, 0, 1, 0, 0, 1, 0])


def test_idx_gzip_recognised_by_content(tmp_path: Path) -> None:
    write_idx(tmp_path / "a.gz", np.arange(4, dtype=np.uint8))
    (tmp_path / "a.gz").rename(tmp_path / "no-suffix")
    assert read_idx(tmp_path / "no-suffix").tolist() == [0, 1, 2, 3]


def _header(code: int, dims: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(dims)]) + np.asarray(dims, ">u4").tobytes()


@pytest.mark.parametrize("content, match", [
    (b"", r"holds 0 bytes, fewer than the 4-byte header"),
    (b"\x00\x00", r"holds 2 bytes"),
    (b"PK\x03\x04rest", r"not an IDX file: it starts with bytes 50 4b 03 04"),
    (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]), r"unknown IDX type code 0x07"),
    (bytes([0, 0, 0x08, 0]), r"0 dimensions"),
    (bytes([0, 0, 0x08, 3, 0, 0, 0, 2]), r"truncated IDX header: 3 dimensions need 16"),
    (_header(0x08, (2, 3)) + bytes(5),
     r"truncated: its header promises a 2 x 3 array of uint8 \(6 bytes of values\), but 5 bytes"),
    (_header(0x08, (2,)) + bytes(3), r"has trailing bytes.*2 bytes of values\), but 3 bytes"),
    (_header(0x0C, (2,)) + bytes(7), r"array of int32 \(8 bytes of values\)"),
    (gzip.compress(_header(0x08, (4,)) + bytes(4))[:-6], r"gzip data is corrupt or truncated"),
])
def test_idx_corrupt_files(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(IDXError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_idx_write_errors(tmp_path: Path) -> None:
    with pytest.raises(IDXError, match="no type for dtype int64"):
        write_idx(tmp_path / "x", np.zeros(3, np.int64))
    with pytest.raises(IDXError, match="cannot store an array of shape"):
        write_idx(tmp_path / "x", np.float32(1.0))


# -- MNIST / FashionMNIST from folders -------------------------------------------------------------

def make_mnist(folder: Path, n_train: int = 6, n_test: int = 4, gz: bool = False,
               size: int = 28, seed: int = 0) -> dict[str, np.ndarray]:
    """Write the four IDX files of a tiny MNIST-like data set; return what was written."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for train, n in ((True, n_train), (False, n_test)):
        images = rng.integers(0, 256, size=(n, size, size), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        image_name, label_name = SPLIT_FILES[train]
        suffix = ".gz" if gz else ""
        write_idx(folder / (image_name + suffix), images)
        write_idx(folder / (label_name + suffix), labels)
        arrays[f"{'train' if train else 'test'}_images"] = images
        arrays[f"{'train' if train else 'test'}_labels"] = labels
    return arrays


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("train", [True, False])
def test_mnist_folder(tmp_path: Path, cls, gz: bool, train: bool) -> None:
    written = make_mnist(tmp_path, gz=gz)
    ds = cls(tmp_path, train=train)
    split = "train" if train else "test"
    images, labels = written[f"{split}_images"], written[f"{split}_labels"]
    assert len(ds) == len(labels) and ds.data.dtype == bp.uint8
    assert np.array_equal(ds.data.numpy(), images)
    assert ds.targets.dtype == bp.int64 and ds.targets.tolist() == labels.tolist()
    image, label = ds[1]
    assert image.shape == (1, 28, 28) and image.dtype == bp.float32 and label == labels[1]
    assert np.array_equal(image.numpy()[0], images[1].astype(np.float32) / np.float32(255))
    x, y = next(iter(DataLoader(ds, batch_size=3)))
    assert x.shape == (3, 1, 28, 28) and np.array_equal(x.numpy()[1], image.numpy())
    assert y.tolist() == labels[:3].tolist()


def test_mnist_torchvision_layout_and_mirror_names(tmp_path: Path) -> None:
    written = make_mnist(tmp_path / "MNIST" / "raw", gz=True)
    assert MNIST(tmp_path).targets.tolist() == written["train_labels"].tolist()
    other = tmp_path / "kaggle"
    other.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (tmp_path / "MNIST" / "raw" / f"{name}.gz").rename(
            other / name.replace("-idx", ".idx"))
    assert len(MNIST(other, train=True)) == 6


def test_mnist_transforms_and_classes(tmp_path: Path) -> None:
    make_mnist(tmp_path)
    ds = FashionMNIST(tmp_path, transform=lambda x: x.reshape(-1),
                      target_transform=lambda y: FashionMNIST.classes[y])
    image, name = ds[0]
    assert image.shape == (784,) and name in FashionMNIST.classes
    assert ds.class_to_idx["Ankle boot"] == 9 and MNIST.classes[0] == "0 - zero"
    assert "Split: Train" in repr(ds)


@pytest.mark.parametrize("cls, hint", [
    (MNIST, r"yann\.lecun\.com"),
    (FashionMNIST, r"apt-get install dataset-fashion-mnist.*zalandoresearch/fashion-mnist"),
])
def test_mnist_missing_files_message(tmp_path: Path, cls, hint: str) -> None:
    with pytest.raises(FileNotFoundError) as info:
        cls(tmp_path / "nowhere", train=False)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte" in message
    assert str(tmp_path / "nowhere") in message and "train-images-idx3-ubyte" in message
    assert __import__("re").search(hint, message)


def test_mnist_missing_one_file(tmp_path: Path) -> None:
    make_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="training file train-labels-idx1-ubyte "):
        MNIST(tmp_path, download=True)
    with pytest.raises(FileNotFoundError, match="never downloads"):
        MNIST(tmp_path, download=True)
    assert len(MNIST(tmp_path, train=False)) == 4


def test_mnist_needs_root() -> None:
    with pytest.raises(TypeError):
        MNIST()  # type: ignore[call-arg]


@pytest.mark.parametrize("damage, match", [
    (lambda d: write_idx(d / "train-labels-idx1-ubyte", np.zeros(5, np.uint8)),
     r"holds 6 images but .*train-labels-idx1-ubyte holds 5 labels"),
    (lambda d: write_idx(d / "train-labels-idx1-ubyte", np.full(6, 10, np.uint8)),
     r"holds label 10, but MNIST has 10 classes"),
    (lambda d: write_idx(d / "train-images-idx3-ubyte", np.zeros((6, 28, 28), np.float32)),
     r"train-images-idx3-ubyte should hold uint8 images.*float32"),
    (lambda d: write_idx(d / "train-images-idx3-ubyte", np.zeros((6, 784), np.uint8)),
     r"of shape \(N, height, width\), but holds uint8 values of shape \(6, 784\)"),
    (lambda d: write_idx(d / "train-labels-idx1-ubyte", np.zeros((6, 1), np.uint8)),
     r"train-labels-idx1-ubyte should hold uint8 labels of shape \(N,\)"),
    (lambda d: (d / "train-images-idx3-ubyte").write_bytes(
        (d / "train-images-idx3-ubyte").read_bytes()[:-10]), r"train-images-idx3-ubyte.*truncated"),
])
def test_mnist_inconsistent_files(tmp_path: Path, damage, match: str) -> None:
    make_mnist(tmp_path)
    damage(tmp_path)
    with pytest.raises(IDXError, match=match):
        MNIST(tmp_path)


REAL_FASHION = DEBIAN_FASHION_MNIST / "train-images-idx3-ubyte.gz"


@pytest.mark.skipif(not REAL_FASHION.exists(),
                    reason="Debian's dataset-fashion-mnist package is not installed")
def test_real_fashion_mnist_from_debian() -> None:
    train, test = FashionMNIST(), FashionMNIST(train=False)
    assert (len(train), len(test)) == (60000, 10000)
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    assert train.targets[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert test.targets[:5].tolist() == [9, 2, 1, 1, 6]
    assert train.data.numpy().min() == 0 and train.data.numpy().max() == 255
    x, y = next(iter(DataLoader(test, batch_size=256, shuffle=True)))
    assert x.shape == (256, 1, 28, 28) and float(x.max()) <= 1.0 and y.dtype == bp.int64


# -- npz -------------------------------------------------------------------------------------------

def test_load_npz(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.arange(12, dtype=np.float64).reshape(4, 3), y=np.array([1, 0, 1, 1],
                                                                                np.int32))
    x, y = load_npz(path)
    assert x.dtype == bp.float32 and x.shape == (4, 3) and y.dtype == bp.int64
    x64, _ = load_npz(path, dtype=None)
    assert x64.dtype == bp.float64
    only_x = load_npz(path, y_key=None)
    assert isinstance(only_x, bp.Tensor) and only_x.shape == (4, 3)


def test_npz_dataset(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, inputs=np.ones((5, 2, 2), np.uint8), targets=np.linspace(0, 1, 5))
    ds = NpzDataset(path, x_key="inputs", y_key="targets", transform=lambda x: x * 3)
    x, y = ds[4]
    assert len(ds) == 5 and x.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert y.dtype == bp.float32 and y.item() == 1.0  # float labels: regression targets
    xb, yb = next(iter(DataLoader(NpzDataset(path, "inputs", "targets"), batch_size=5)))
    assert xb.shape == (5, 2, 2) and yb.shape == (5,) and yb.dtype == bp.float32
    unlabelled = NpzDataset(path, "inputs", None)
    assert unlabelled[0].shape == (2, 2)
    assert next(iter(DataLoader(unlabelled, batch_size=2))).shape == (2, 2, 2)


def test_npz_errors(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, a=np.zeros((3, 2)), b=np.zeros(2), s=np.array(1.0))
    with pytest.raises(KeyError, match=r"no array 'x'; it holds \['a', 'b', 's'\]"):
        load_npz(path)
    with pytest.raises(ValueError, match=r"'a' holds 3 samples but 'b' has shape \(2,\)"):
        load_npz(path, "a", "b")
    with pytest.raises(ValueError, match="'s' is 0-d"):
        load_npz(path, "s", None)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_npz(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="not a readable .npz archive"):
        load_npz(tmp_path / "junk.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single .npy array"):
        load_npz(tmp_path / "single.npy")
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}, None], dtype=object), y=np.zeros(2))
    with pytest.raises(ValueError, match="obj.npz"):
        load_npz(tmp_path / "obj.npz")


# -- CSV -------------------------------------------------------------------------------------------

def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_csv_with_header_and_named_label(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "# comment\nf1,label,f2\n0.5,1,2\n\n1.5,0,3e2\n")
    ds = CsvDataset(path, label_column="label")
    assert ds.columns == ["f1", "label", "f2"] and len(ds) == 2
    assert ds.data.tolist() == [[0.5, 2.0], [1.5, 300.0]] and ds.data.dtype == bp.float32
    assert ds.targets.tolist() == [1, 0] and ds.targets.dtype == bp.int64
    x, y = ds[1]
    assert x.tolist() == [1.5, 300.0] and y.item() == 0


def test_csv_without_header(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "1;2;0.25\n3;4;0.5\n")
    ds = CsvDataset(path, delimiter=";")
    assert ds.columns is None and ds.data.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert ds.targets.dtype == bp.float32 and ds.targets.tolist() == [0.25, 0.5]
    first = CsvDataset(path, label_column=0, delimiter=";", dtype=bp.float64)
    assert first.targets.tolist() == [1, 3] and first.data.dtype == bp.float64
    unlabelled = CsvDataset(path, label_column=None, delimiter=";")
    assert unlabelled.data.shape == (2, 3) and unlabelled[0].shape == (3,)
    xb, yb = next(iter(DataLoader(CsvDataset(path, delimiter=";"), batch_size=2)))
    assert xb.shape == (2, 2) and yb.tolist() == [0.25, 0.5]


def test_csv_forced_header_flags(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "1,2\n3,4\n5,6\n")
    assert len(CsvDataset(path, header=True)) == 2
    named = write(tmp_path / "n.csv", "a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"line 1, column 0: 'a' is not a number"):
        CsvDataset(named, header=False)


@pytest.mark.parametrize("text, kwargs, error, match", [
    ("a,b\n1,2\n3\n", {}, ValueError, r"line 3: 1 fields, but the table has 2 columns"),
    ("a,b\n1,2\n3,x\n", {}, ValueError, r"line 3, column 1: 'x' is not a number"),
    ("a,b\n1,2\n3,\n", {}, ValueError, r"line 3, column 1: '' is not a number"),
    ("a,b\n1,2\n", {"label_column": "c"}, KeyError, r"no column named 'c'; its header is"),
    ("1,2\n", {"label_column": "c"}, KeyError, r"its header is None"),
    ("1,2\n", {"label_column": 2}, IndexError, r"label_column 2 is out of range.*2 columns"),
    ("\n# only a comment\n", {}, ValueError, r"holds no rows"),
])
def test_csv_errors(tmp_path: Path, text: str, kwargs: dict, error: type, match: str) -> None:
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(error, match=match) as info:
        CsvDataset(path, **kwargs)
    assert "bad.csv" in str(info.value)


def test_csv_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        CsvDataset(tmp_path / "none.csv")
