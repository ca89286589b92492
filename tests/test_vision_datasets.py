"""backprop.vision.datasets: torchvision's MNIST, FashionMNIST, CIFAR10 and FakeData, on tiny
files written in tmp_path; CIFAR's pickles are read without unpickling."""

from __future__ import annotations

import gzip
import importlib
import pickle
import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.datasets import write_idx
from backprop.datasets.mnist import DEBIAN_FASHION_MNIST
from backprop.utils.data import DataLoader
from backprop.vision import _image, datasets, transforms
from backprop.vision.datasets import (
    CIFAR10,
    MNIST,
    CIFARFormatError,
    DatasetNotFoundError,
    FakeData,
    FashionMNIST,
)
from backprop.vision.datasets._cifar_batch import read_cifar_batch

Image = pytest.importorskip("PIL.Image")


@pytest.fixture
def no_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behave as if Pillow were not installed."""
    monkeypatch.setattr(_image, "_pillow", _image._NO_PILLOW)


def write_mnist(folder: Path, images: np.ndarray, labels: np.ndarray, train: bool = True,
                gz: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    prefix = "train" if train else "t10k"
    suffix = ".gz" if gz else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)


@pytest.fixture
def mnist_root(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.array([7, 0, 3, 9, 1], np.uint8)
    write_mnist(tmp_path / "MNIST" / "raw", images, labels, gz=True)  # torchvision's layout
    write_mnist(tmp_path / "MNIST" / "raw", images[:2], labels[:2], train=False)
    return tmp_path, images, labels


# -- MNIST / FashionMNIST ------------------------------------------------------------------------

def test_mnist_samples_are_pil_images_and_ints(mnist_root: Any) -> None:
    root, images, labels = mnist_root
    data = MNIST(str(root), train=True, download=False)
    assert len(data) == 5 and data.classes[7] == "7 - seven" and data.class_to_idx["0 - zero"] == 0
    assert data.data.dtype == bp.uint8 and tuple(data.data.shape) == (5, 28, 28)
    assert np.array_equal(data.data.numpy(), images)
    assert isinstance(data.targets, bp.Tensor) and data.targets.tolist() == labels.tolist()
    img, target = data[3]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    assert np.array_equal(np.asarray(img), images[3]) and type(target) is int and target == 9
    assert data[-1][1] == 1
    assert len(MNIST(root, train=False)) == 2
    with pytest.raises(IndexError, match="MNIST: index 5 is out of range for 5 samples"):
        data[5]


def test_mnist_transforms_and_dataloader(mnist_root: Any) -> None:
    root, images, labels = mnist_root
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    data = MNIST(root, transform=tf, target_transform=lambda y: y + 100)
    x, y = data[0]
    expected = (images[0].astype(np.float32) / np.float32(255) - np.float32(0.1307)) \
        / np.float32(0.3081)
    assert x.shape == (1, 28, 28) and np.allclose(x.numpy()[0], expected, atol=1e-6)
    assert y == labels[0] + 100
    batch_x, batch_y = next(iter(DataLoader(MNIST(root, transform=tf), batch_size=4)))
    assert batch_x.shape == (4, 1, 28, 28) and batch_x.dtype == bp.float32
    assert batch_y.dtype == bp.int64 and batch_y.tolist() == labels[:4].tolist()


def test_mnist_without_pillow_gives_uint8_arrays(mnist_root: Any, no_pillow: None) -> None:
    root, images, _ = mnist_root
    img, _ = MNIST(root)[2]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (28, 28)
    assert np.array_equal(img, images[2])
    tensor = transforms.ToTensor()(img)
    assert tensor.shape == (1, 28, 28) and tensor.dtype == bp.float32


@pytest.mark.parametrize("download", [False, True])
def test_missing_mnist_files_say_what_to_put_where(tmp_path: Path, download: bool) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        MNIST(tmp_path, download=download)
    error = info.value
    assert isinstance(error, FileNotFoundError) and isinstance(error, RuntimeError)
    message = str(error)
    assert "train-images-idx3-ubyte" in message and str(tmp_path / "MNIST" / "raw") in message
    assert "http" in message
    assert ("never downloads" in message) == download


def test_fashion_mnist_reads_root_first(tmp_path: Path) -> None:
    images = np.full((3, 28, 28), 9, np.uint8)
    write_mnist(tmp_path, images, np.array([0, 9, 4], np.uint8))
    data = FashionMNIST(tmp_path)
    assert len(data) == 3 and data[1][1] == 9 and data.classes[9] == "Ankle boot"
    assert np.asarray(data[1][0]).max() == 9


@pytest.mark.skipif(not (DEBIAN_FASHION_MNIST / "t10k-labels-idx1-ubyte.gz").is_file()
                    and not (DEBIAN_FASHION_MNIST / "t10k-labels-idx1-ubyte").is_file(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_falls_back_to_debian(tmp_path: Path) -> None:
    data = FashionMNIST(tmp_path / "empty", train=False)
    assert len(data) == 10000 and data.root == tmp_path / "empty"
    img, target = data[0]
    assert img.mode == "L" and img.size == (28, 28) and 0 <= target < 10


# -- CIFAR10 -------------------------------------------------------------------------------------

def cifar_batch(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[int]]:
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8), [int(v) for v in
                                                             rng.integers(0, 10, n)]


def write_cifar_python(root: Path, protocol: int, byte_keys: bool = False) -> dict:
    """The python release's six batches, written with pickle as the original (a dict with a
    NumPy uint8 array and a list of ints); returns name -> (data, labels)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(protocol)
    written = {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        data, labels = cifar_batch(rng, 2 + i % 2)
        key = (lambda s: s.encode()) if byte_keys else str
        batch = {key("batch_label"): key(f"batch {i}"), key("labels"): labels,
                 key("data"): data, key("filenames"): [key("a.png")] * len(labels)}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=protocol))
        written[name] = (data, labels)
    return written


@pytest.mark.parametrize("protocol, byte_keys", [(2, False), (2, True), (4, False), (4, True),
                                                 (5, False)])
def test_cifar10_python_batches_are_read_exactly(tmp_path: Path, protocol: int,
                                                 byte_keys: bool) -> None:
    written = write_cifar_python(tmp_path, protocol, byte_keys)
    train = CIFAR10(tmp_path, train=True)
    expected = np.vstack([written[f"data_batch_{k}"][0] for k in range(1, 6)])
    assert isinstance(train.data, np.ndarray) and train.data.dtype == np.uint8
    assert train.data.shape == (len(expected), 32, 32, 3)
    assert np.array_equal(train.data, expected.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    assert train.targets == [v for k in range(1, 6) for v in written[f"data_batch_{k}"][1]]
    test = CIFAR10(str(tmp_path), train=False)
    assert test.targets == written["test_batch"][1] and len(test) == len(test.targets)
    img, target = test[1]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (32, 32)
    # Pixel (row 0, column 1) of channel c is byte c*1024 + 1 of the record.
    assert np.asarray(img)[0, 1].tolist() == written["test_batch"][0][1, [1, 1025, 2049]].tolist()
    assert target == written["test_batch"][1][1]
    assert test.classes[0] == "airplane" and test.class_to_idx["truck"] == 9


def python2_batch(data: np.ndarray, labels: list[int]) -> bytes:
    """A batch byte for byte as Python 2 pickled the original files: keys and raw pixels are
    Python 2 str (SHORT_BINSTRING/BINSTRING), False is the text INT 'I00'."""
    def string(b: bytes) -> bytes:
        return (b"U" + bytes([len(b)]) + b) if len(b) < 256 else (b"T" + struct.pack("<I", len(b))
                                                                   + b)
    array = (b"cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02K\x00\x85"
             + string(b"b") + b"\x87R(K\x01M" + struct.pack("<H", len(data)) + b"M\x00\x0c\x86"
             + b"cnumpy\ndtype\n" + string(b"u1") + b"K\x00K\x01\x87R(K\x03" + string(b"|")
             + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tbI00\n" + string(data.tobytes())
             + b"tb")
    items = b"".join(b"K" + bytes([v]) for v in labels)
    return (b"\x80\x02}q\x00(" + string(b"data") + array + string(b"labels") + b"](" + items
            + b"eu.")


def test_cifar10_reads_python2_pickles_as_the_original_files(tmp_path: Path) -> None:
    data, labels = cifar_batch(np.random.default_rng(7), 3)
    path = tmp_path / "data_batch_1"
    path.write_bytes(python2_batch(data, labels))
    # The handwritten stream is a real pickle: the standard unpickler agrees with our reader.
    with warnings.catch_warnings():  # NumPy 2 may warn about the numpy.core name
        warnings.simplefilter("ignore", DeprecationWarning)
        reference = pickle.loads(path.read_bytes(), encoding="bytes")
    assert np.array_equal(reference[b"data"], data) and reference[b"labels"] == labels
    images, read_labels = read_cifar_batch(path)
    assert np.array_equal(images.reshape(3, -1), data) and read_labels == labels


def test_cifar10_binary_release(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    rng = np.random.default_rng(3)
    records = {}
    for name in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]:
        data, labels = cifar_batch(rng, 2)
        raw = np.concatenate([np.array(labels, np.uint8)[:, None], data], axis=1)
        (folder / f"{name}.bin").write_bytes(raw.tobytes())
        records[name] = (data, labels)
    test = CIFAR10(tmp_path, train=False)
    assert test.targets == records["test_batch"][1]
    assert np.array_equal(test.data.transpose(0, 3, 1, 2).reshape(2, -1), records["test_batch"][0])
    assert len(CIFAR10(tmp_path)) == 10


class Evil:
    """An object whose unpickling would run a command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


def test_cifar10_refuses_pickles_that_would_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": Evil(marker), "labels": [1]}, protocol=2))
    with pytest.raises(CIFARFormatError, match="which is not part of a CIFAR batch"):
        read_cifar_batch(path)
    assert not marker.exists()


@pytest.mark.parametrize("case, match", [
    ("truncated", "truncated"),
    ("not a dict", "a CIFAR batch is a dict"),
    ("no labels", "has no 'labels' entry"),
    ("float data", "holds dtype 'f8'"),
    ("short data", "expected data of shape"),
])
def test_cifar10_bad_batches_are_refused_clearly(tmp_path: Path, case: str, match: str) -> None:
    data, labels = cifar_batch(np.random.default_rng(0), 2)
    payload: Any = {"data": data, "labels": labels}
    if case == "not a dict":
        payload = [data, labels]
    elif case == "no labels":
        payload = {"data": data}
    elif case == "float data":
        payload = {"data": data.astype(np.float64), "labels": labels}
    elif case == "short data":
        payload = {"data": data[:, :100], "labels": labels}
    raw = pickle.dumps(payload, protocol=2)
    path = tmp_path / "data_batch_1"
    path.write_bytes(raw[:len(raw) // 2] if case == "truncated" else raw)
    with pytest.raises(CIFARFormatError, match=match) as info:
        read_cifar_batch(path)
    assert str(path) in str(info.value)


def test_cifar10_binary_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    (folder / "test_batch.bin").write_bytes(bytes(3072))
    with pytest.raises(CIFARFormatError, match="3073-byte records"):
        CIFAR10(tmp_path, train=False)


def test_missing_cifar10_says_what_to_put_where(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError) as info:
        CIFAR10(tmp_path, download=True)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert str(tmp_path / "cifar-10-batches-py") in message and "data_batch_5" in message
    assert "https://www.cs.toronto.edu/~kriz/cifar.html" in message
    assert "never downloads" in message


def test_cifar_reader_is_not_unpickling() -> None:
    source = Path(importlib.import_module("backprop.vision.datasets._cifar_batch").__file__)
    text = source.read_text()
    assert "import pickle" not in text and "pickletools" not in text


# -- FakeData ------------------------------------------------------------------------------------

def test_fakedata_is_deterministic_per_index_and_leaves_the_global_rng_alone() -> None:
    data = FakeData(size=6, image_size=(3, 10, 7), num_classes=4)
    bp.manual_seed(123)
    expected_next = bp.rand(3).tolist()
    bp.manual_seed(123)
    first = [data[i] for i in range(6)]
    assert bp.rand(3).tolist() == expected_next  # drawing items did not touch the global stream
    again = FakeData(size=6, image_size=(3, 10, 7), num_classes=4)
    for i, (img, target) in enumerate(first):
        assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (7, 10)
        assert type(target) is int and 0 <= target < 4
        assert np.array_equal(np.asarray(img), np.asarray(again[i][0])) and again[i][1] == target
    assert not np.array_equal(np.asarray(first[0][0]), np.asarray(first[1][0]))
    shifted = FakeData(size=6, image_size=(3, 10, 7), num_classes=4, random_offset=1)
    assert np.array_equal(np.asarray(shifted[0][0]), np.asarray(first[1][0]))
    assert len(data) == 6 and data[-1][1] == first[5][1]
    with pytest.raises(IndexError):
        data[6]


def test_fakedata_grey_transform_and_no_pillow(no_pillow: None) -> None:
    data = FakeData(size=2, image_size=(1, 5, 4), transform=transforms.ToTensor(),
                    target_transform=str)
    x, y = data[0]
    assert x.shape == (1, 5, 4) and x.dtype == bp.float32 and isinstance(y, str)
    raw = FakeData(size=2, image_size=(3, 5, 4))[1][0]
    assert isinstance(raw, np.ndarray) and raw.shape == (5, 4, 3) and raw.dtype == np.uint8


def test_fakedata_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="FakeData: image_size"):
        FakeData(image_size=(28, 28))
    with pytest.raises(ValueError, match="FakeData: num_classes"):
        FakeData(num_classes=0)


def test_dataset_reprs_are_torchvisions(mnist_root: Any) -> None:
    root, _, _ = mnist_root
    assert repr(MNIST(root)) == (f"Dataset MNIST\n    Number of datapoints: 5\n"
                                 f"    Root location: {root}\n    Split: Train")
    assert repr(FakeData()) == "Dataset FakeData\n    Number of datapoints: 1000"
    # torchvision indents only the first line of the transforms' repr.
    with_transforms = MNIST(root, transform=transforms.Compose([transforms.ToTensor()]),
                            target_transform=abs)
    assert repr(with_transforms).endswith(
        "    Split: Train\n    StandardTransform\nTransform: Compose(\n               ToTensor()\n"
        "           )\nTarget transform: <built-in function abs>")


def test_vision_dataset_is_the_base_of_the_data_sets(mnist_root: Any) -> None:
    root, _, _ = mnist_root
    for data in (MNIST(root), FakeData(size=1)):
        assert isinstance(data, datasets.VisionDataset)

    class Pairs(datasets.VisionDataset):
        def __len__(self) -> int:
            return 1

        def __getitem__(self, index: int) -> Any:
            return self.transforms(index, index + 1)

    assert Pairs("~/data").root != "~/data"  # expanded, as torchvision does
    assert Pairs(None, transform=str)[0] == ("0", 1)
    with pytest.raises(ValueError, match="Pairs: pass either transforms or transform"):
        Pairs(None, transforms=abs, transform=abs)


def test_package_layout_is_torchvisions() -> None:
    vision = importlib.import_module("backprop.vision")
    assert vision.datasets is datasets and vision.transforms is transforms
    assert importlib.import_module("backprop.vision.transforms.functional").resize
    assert callable(vision.utils.make_grid)


@pytest.mark.parametrize("name", ["ops", "io", "tv_tensors", "transforms.v2"])
def test_out_of_scope_modules_refuse_with_one_clear_message(name: str) -> None:
    with pytest.raises(ImportError) as info:
        importlib.import_module(f"backprop.vision.{name}")
    message = str(info.value)
    assert message.startswith(f"torchvision.{name} is not part of backprop: backprop serves "
                              "torchvision's datasets")
    assert "transforms, utils and the ResNets of models" in message


def test_gzip_and_plain_mnist_files_agree(tmp_path: Path) -> None:
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    write_mnist(tmp_path / "a", images, np.array([1, 2], np.uint8), gz=True)
    write_mnist(tmp_path / "b", images, np.array([1, 2], np.uint8))
    assert gzip.decompress((tmp_path / "a" / "train-images-idx3-ubyte.gz").read_bytes()) == \
        (tmp_path / "b" / "train-images-idx3-ubyte").read_bytes()
    assert np.array_equal(np.asarray(MNIST(tmp_path / "a")[1][0]),
                          np.asarray(MNIST(tmp_path / "b")[1][0]))


# -- ImageFolder ---------------------------------------------------------------------------------

def test_image_folder_classes_samples_and_images(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    pictures = {}
    for name, files in [("dog", ["b.png", "a.PNG", "notes.txt"]), ("cat", ["x.bmp"]),
                        ("cat/inner", ["y.png"])]:
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
        for file in files:
            path = tmp_path / name / file
            if file.endswith(".txt"):
                path.write_text("not an image")
                continue
            pixels = rng.integers(0, 256, (4, 5), dtype=np.uint8)  # grey: loaded as RGB
            Image.fromarray(pixels).save(path)
            pictures[str(path)] = pixels
    data = datasets.ImageFolder(str(tmp_path), transform=transforms.ToTensor())
    assert data.classes == ["cat", "dog"] and data.class_to_idx == {"cat": 0, "dog": 1}
    assert [Path(p).relative_to(tmp_path).as_posix() for p, _ in data.samples] == \
        ["cat/x.bmp", "cat/inner/y.png", "dog/a.PNG", "dog/b.png"]
    assert data.targets == [0, 0, 1, 1] and data.imgs is data.samples and len(data) == 4
    x, y = data[2]
    assert tuple(x.shape) == (3, 4, 5) and y == 1
    expected = pictures[data.samples[2][0]].astype(np.float32) / np.float32(255)
    assert all(np.array_equal(x.numpy()[c], expected) for c in range(3))


def test_image_folder_refusals(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="couldn't find any class folder"):
        datasets.ImageFolder(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="found no valid file for the classes empty"):
        datasets.ImageFolder(tmp_path)
    assert len(datasets.ImageFolder(tmp_path, allow_empty=True)) == 0


@pytest.mark.parametrize("module, name", [("datasets", "LSUN"), ("transforms", "ColorJitter")])
def test_unserved_names_say_what_is_served(module: str, name: str) -> None:
    vision = importlib.import_module("backprop.vision")
    with pytest.raises(AttributeError, match=f"torchvision.{module}.{name} is not part of "
                                             "backprop") as info:
        getattr(getattr(vision, module), name)
    assert "CenterCrop" in str(info.value) or "ImageFolder" in str(info.value)
    assert not hasattr(getattr(vision, module), name)
    with pytest.raises(AttributeError, match="torchvision.ops is not part of backprop"):
        vision.ops  # noqa: B018


# -- CIFAR100 ------------------------------------------------------------------------------------

def test_cifar100_python_release_fine_labels_and_class_names(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    rng = np.random.default_rng(11)
    written = {}
    for name in ("train", "test"):
        data = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
        fine = [int(v) for v in rng.integers(0, 100, 3)]
        batch = {b"filenames": [b"a.png"] * 3, b"batch_label": b"x", b"fine_labels": fine,
                 b"coarse_labels": [v // 5 for v in fine], b"data": data}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        written[name] = (data, fine)
    names = [f"class {i}" for i in range(100)]
    (folder / "meta").write_bytes(pickle.dumps({"fine_label_names": names,
                                                "coarse_label_names": ["c"] * 20}, protocol=2))
    train = datasets.CIFAR100(tmp_path)
    assert train.classes == names and train.targets == written["train"][1]
    assert np.array_equal(train.data.transpose(0, 3, 1, 2).reshape(3, -1), written["train"][0])
    test = datasets.CIFAR100(tmp_path, train=False)
    assert test.targets == written["test"][1] and test[2][1] == written["test"][1][2]
    assert isinstance(test, CIFAR10) and repr(test).splitlines()[0] == "Dataset CIFAR100"


def test_cifar100_binary_release_takes_the_fine_label(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-100-binary"
    folder.mkdir()
    pixels = np.arange(2 * 3072, dtype=np.int64).reshape(2, 3072).astype(np.uint8)
    records = np.concatenate([np.array([[3, 17], [4, 99]], np.uint8), pixels], axis=1)
    (folder / "test.bin").write_bytes(records.tobytes())
    (folder / "fine_label_names.txt").write_text("\n".join(f"n{i}" for i in range(100)) + "\n")
    test = datasets.CIFAR100(tmp_path, train=False)
    assert test.targets == [17, 99] and test.classes[99] == "n99"
    assert np.array_equal(test.data.transpose(0, 3, 1, 2).reshape(2, -1), pixels)
    (folder / "fine_label_names.txt").unlink()
    with pytest.raises(DatasetNotFoundError, match="fine_label_names.txt"):
        datasets.CIFAR100(tmp_path, train=False)
    with pytest.raises(DatasetNotFoundError, match=r"cifar-100-python\.tar\.gz"):
        datasets.CIFAR100(tmp_path, train=True)
