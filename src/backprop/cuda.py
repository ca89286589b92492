"""``bp.cuda``: whether a GPU is usable, how many, and waiting for queued GPU work, as
``torch.cuda``. Nothing here imports CuPy until asked.

Without a GPU these behave as PyTorch's do on a machine without CUDA: the seeding and cache
calls scripts make unconditionally (``manual_seed``, ``manual_seed_all``, ``empty_cache``) do
nothing, and the questions that need a device (``current_device``, ``get_device_name``) raise.

>>> import backprop as bp
>>> device = "cuda" if bp.cuda.is_available() else "cpu"
"""

from __future__ import annotations

import sys

from . import backend, dtypes


def is_available() -> bool:
    """True when CuPy imports and its driver sees at least one GPU (never raises)."""
    return device_count() > 0


def device_count() -> int:
    """The number of GPUs CuPy sees; 0 without CuPy, a driver or a card."""
    try:
        return backend.backend_for("cuda").device_count()
    except (ImportError, RuntimeError):
        return 0


def synchronize(device: object = None) -> None:
    """Wait until the GPU has finished the work queued so far (for timing: GPU calls return
    before their kernels run)."""
    index = backend.as_device(backend.cuda_device(device), "cuda.synchronize").index
    cupy = backend.backend_for("cuda").module
    with cupy.cuda.Device(index):
        cupy.cuda.runtime.deviceSynchronize()


def _cupy(op: str) -> object:
    """CuPy, after checking a GPU is usable (the error says why not)."""
    if not is_available():
        raise RuntimeError(f"cuda.{op}: no CUDA GPU is available (it needs CuPy, "
                           "pip install 'backprop[gpu]', an NVIDIA driver and a card); "
                           "check bp.cuda.is_available() first")
    return backend.backend_for("cuda").module


def current_device() -> int:
    """The index of the GPU CuPy uses now; raises without one (as PyTorch does).

    >>> import backprop as bp
    >>> bp.cuda.current_device() if bp.cuda.is_available() else 0
    0
    """
    return int(_cupy("current_device").cuda.runtime.getDevice())  # type: ignore[attr-defined]


def get_device_name(device: object = None) -> str:
    """The name of a GPU (``"NVIDIA H100 80GB HBM3"``): ``device`` is an index, a
    ``"cuda:N"`` string or a ``bp.device``; None is the current one. Raises without a GPU.

    >>> import backprop as bp
    >>> isinstance(bp.cuda.get_device_name(), str) if bp.cuda.is_available() else True
    True
    """
    cupy = _cupy("get_device_name")
    if device is None:
        index = current_device()
    else:
        index = backend.as_device(backend.cuda_device(device), "cuda.get_device_name").index
    name = cupy.cuda.runtime.getDeviceProperties(index)["name"]  # type: ignore[attr-defined]
    return name.decode() if isinstance(name, bytes) else str(name)


def manual_seed(seed: int) -> None:
    """Seed the GPU's random numbers, as ``torch.cuda.manual_seed``.

    backprop draws random numbers for GPU tensors from the one generator ``bp.manual_seed``
    seeds (and copies them over), so there is no separate GPU stream to seed: this checks the
    seed and does nothing, as PyTorch's does without CUDA.

    >>> import backprop as bp
    >>> bp.cuda.manual_seed(0)
    """
    int(seed)  # the value PyTorch would use; a seed that is no number is refused here too


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's random numbers (see ``manual_seed``: nothing to do here).

    >>> import backprop as bp
    >>> bp.cuda.manual_seed_all(0)
    """
    int(seed)


def empty_cache() -> None:
    """Hand the GPU memory CuPy keeps for reuse back to the driver; nothing to do when no GPU
    was used (CuPy is not imported for this).

    >>> import backprop as bp
    >>> bp.cuda.empty_cache()
    """
    if "backprop.backends.cupy_device" not in sys.modules:
        return  # no GPU array was ever made: no cache to empty
    cupy = backend.backend_for("cuda").module
    cupy.get_default_memory_pool().free_all_blocks()
    cupy.get_default_pinned_memory_pool().free_all_blocks()


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """Whether bfloat16 works on the GPU: CUDA is available and ml_dtypes (which gives NumPy
    and CuPy arrays the dtype) is installed. CuPy has no bfloat16 kernels of its own, so with
    ``including_emulation=False`` the answer is False.

    >>> import backprop as bp
    >>> bp.cuda.is_bf16_supported() == (bp.cuda.is_available() and bp.dtypes.bf16_available())
    True
    """
    if not including_emulation or not is_available():
        return False
    return dtypes.bf16_available()


def __getattr__(name: str) -> object:
    if name == "amp":  # torch.cuda.amp: loaded on first use (amp imports the engine)
        from .amp import cuda_amp

        return cuda_amp
    raise AttributeError(f"module 'backprop.cuda' has no attribute {name!r}")
