"""The random number generator behind ``rand``, ``randn``, ``randint`` and initialisers."""

from __future__ import annotations

import numpy as np


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
    return (generator or default_generator).numpy
