"""The torchvision modules backprop does not serve: importing one raises one clear ImportError.

``backprop run`` serves ``torchvision.X`` from ``backprop.vision.X``; a program that reaches for
``torchvision.ops`` (or ``io``, ``tv_tensors``, ``transforms.v2``) should stop at its
import with a sentence that says what is served instead, not fail later on a missing attribute.
"""

from __future__ import annotations

SERVED = ("datasets (MNIST, FashionMNIST, CIFAR10, CIFAR100, FakeData, ImageFolder), transforms, "
          "utils and the ResNets of models")


def refuse(module: str) -> ImportError:
    """The ImportError for the torchvision module ``module`` (e.g. ``"ops"``).

    >>> print(refuse("ops"))  # doctest: +ELLIPSIS
    torchvision.ops is not part of backprop: backprop serves torchvision's datasets ...
    """
    return ImportError(
        f"torchvision.{module} is not part of backprop: backprop serves torchvision's {SERVED} "
        f"(issue 18's scope). Write that part with backprop's own modules (torch.nn layers, "
        f"torch.* ops), or run the program with PyTorch and torchvision installed.",
        name=f"torchvision.{module}")


def missing_name(module: str, name: str, served: list[str]) -> AttributeError:
    """The AttributeError for ``torchvision.<module>.<name>`` that backprop does not serve,
    listing what ``module`` does serve.

    >>> print(missing_name("datasets", "LSUN", ["MNIST"]))  # doctest: +ELLIPSIS
    torchvision.datasets.LSUN is not part of backprop: ... serves MNIST ...
    """
    return AttributeError(
        f"torchvision.{module}.{name} is not part of backprop: backprop.vision.{module} (what "
        f"`import torchvision.{module}` gives under backprop run) serves "
        f"{', '.join(served)} (issue 18's scope); write it with these, or run the program with "
        "PyTorch and torchvision installed.", name=name)
