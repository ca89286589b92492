"""The random number generator behind ``rand``, ``randn``, ``randint`` and initialisers."""

from __future__ import annotations

import math

import numpy as np

from .capture.state import TRACING, refuse


class Generator:
    """A seeded source of random numbers (NumPy's PCG64), as ``torch.Generator``.

    >>> g = Generator().manual_seed(0)
    >>> float(g.numpy.random()) == float(Generator().manual_seed(0).numpy.random())
    True
    """

    def __init__(self, seed: int | None = None) -> None:
        self.numpy = np.random.Generator(np.random.PCG64(seed))
        self._seed = seed

    def manual_seed(self, seed: int) -> Generator:
        """Reset the stream to ``seed`` and return the generator."""
        self.numpy = np.random.Generator(np.random.PCG64(int(seed)))
        self._seed = int(seed)
        return self

    def initial_seed(self) -> int | None:
        return self._seed

    def get_state(self) -> dict:
        return self.numpy.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.numpy.bit_generator.state = state


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator so ``rand``/``randn``/``randint`` repeat.

    >>> import backprop as bp
    >>> _ = bp.manual_seed(0); a = bp.rand(2)
    >>> _ = bp.manual_seed(0); bool((a == bp.rand(2)).all())
    True
    """
    return default_generator.manual_seed(seed)


def get_rng(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s or the default one."""
    if TRACING.tracer is not None:
        refuse("draws random numbers (dropout, rand ...): a replay would repeat the draws")
    return (generator or default_generator).numpy


# Below this many elements a draw keeps NumPy's ziggurat (the stream it always gave): Box-Muller's
# vector passes only pay off on large draws (PyTorch too switches methods by size).
_BOX_MULLER_MIN = 4096


def standard_normal(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype | type
                    ) -> np.ndarray:
    """Standard normal draws of ``dtype`` from ``rng``. Large float32 draws use Box-Muller on
    float32 uniforms, as PyTorch's CPU ``randn`` does: ``sqrt(-2 log(1 - u)) cos(2 pi v)`` and
    ``... sin(2 pi v)`` make two draws of each pair of uniforms, in a few vector passes, 3-4x
    faster than NumPy's ziggurat in float64 (whose float32 version is hardly faster). Like
    PyTorch's, the draws stop at ``sqrt(-2 log 2**-24)`` ~ 5.77 standard deviations. Other
    dtypes and small draws are NumPy's float64 ziggurat, converted.

    >>> draws = standard_normal(np.random.default_rng(0), (100, 100), np.float32)
    >>> draws.dtype, draws.shape, bool(abs(draws.mean()) < 0.05)
    (dtype('float32'), (100, 100), True)
    """
    size = math.prod(shape)
    if np.dtype(dtype) != np.float32 or size < _BOX_MULLER_MIN:
        return rng.standard_normal(shape).astype(dtype)
    half = (size + 1) // 2
    uniforms = rng.random(2 * half, dtype=np.float32)
    radius, angle = uniforms[:half], uniforms[half:]
    np.subtract(np.float32(1), radius, out=radius)  # in (0, 1]: a finite log
    np.log(radius, out=radius)
    radius *= np.float32(-2)
    np.sqrt(radius, out=radius)
    angle *= np.float32(2 * math.pi)
    out = np.empty(2 * half, np.float32)
    np.cos(angle, out=out[:half])
    np.sin(angle, out=out[half:])
    out[:half] *= radius
    out[half:] *= radius
    return out[:size].reshape(shape)
