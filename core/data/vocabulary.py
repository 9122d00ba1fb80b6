"""Words to ids: the tokeniser, the vocabulary built from a training split, and its file.

Id 0 pads a short text, id 1 stands for a word outside the vocabulary; the other ids go to the
training split's most frequent words (ties alphabetical), so the same texts always give the same
vocabulary. A run keeps it as ``vocabulary.txt`` (one word a line, line i is id i) beside
training.json, so inspecting or resuming the run encodes texts exactly as training did.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.data.errors import DataError
from core.regular_files import read_regular_text

PAD, OOV = 0, 1
PAD_TOKEN, OOV_TOKEN = "<pad>", "<unk>"
VOCABULARY_FILE = "vocabulary.txt"
VOCABULARY_FILE_LIMIT = 64 << 20
DEFAULT_SIZE = 5000
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_MARKUP = re.compile(r"<[^>]{0,40}>")  # aclImdb's <br /> line breaks


def tokenize(text: str) -> list[str]:
    """Lower-case words (letters and digits, inner apostrophes kept); markup and punctuation
    dropped."""
    return _WORD.findall(_MARKUP.sub(" ", text.lower()))


@dataclass
class Vocabulary:
    """``words[i]`` is the word with id i; ``words[0]`` and ``words[1]`` are the padding and
    out-of-vocabulary tokens."""

    words: list[str]
    length: int
    """Every text is cut or padded (at its end) to this many ids: the model's input length."""
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.words[:2] != [PAD_TOKEN, OOV_TOKEN]:
            raise DataError(f"a vocabulary starts with {PAD_TOKEN} and {OOV_TOKEN}")
        self.index = {word: i for i, word in enumerate(self.words)}

    @property
    def size(self) -> int:
        return len(self.words)

    @classmethod
    def build(cls, texts: Iterable[Sequence[str]], size: int, length: int) -> Vocabulary:
        """The ``size - 2`` most frequent words of tokenised ``texts`` (the training split)."""
        if size < 3:
            raise DataError(f"a vocabulary needs at least 3 entries, not {size}")
        counts: Counter[str] = Counter()
        for words in texts:
            counts.update(words)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:size - 2]
        return cls([PAD_TOKEN, OOV_TOKEN, *(word for word, _ in ranked)], length)

    def encode(self, words: Sequence[str]) -> list[int]:
        ids = [self.index.get(word, OOV) for word in words[:self.length]]
        return ids + [PAD] * (self.length - len(ids))

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.words[i] if 0 <= i < len(self.words) else OOV_TOKEN for i in ids]

    def describe(self) -> str:
        return (f"vocabulary of {self.size:,} ids from the training split ({PAD} = padding, "
                f"{OOV} = out of vocabulary), texts cut or padded to {self.length} words")


def save_vocabulary(folder: Path, vocabulary: Vocabulary) -> Path:
    """Write ``vocabulary.txt`` in ``folder`` (a run folder); returns its path."""
    path = folder / VOCABULARY_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"# length {vocabulary.length}\n" + "\n".join(vocabulary.words) + "\n",
                   encoding="utf-8")
    tmp.replace(path)
    return path


def load_vocabulary(folder: Path) -> Vocabulary | None:
    """The vocabulary a run saved (None when it has none: an image run). DataError naming the
    file when it is damaged."""
    path = folder / VOCABULARY_FILE
    if not path.exists():
        return None
    try:
        lines = read_regular_text(path, VOCABULARY_FILE_LIMIT).split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read ({exc})") from None
    head = lines[0].split()
    if len(head) != 3 or head[:2] != ["#", "length"] or not head[2].isdigit():
        raise DataError(f"{path}: the first line must be '# length N'; the file is damaged")
    words = lines[1:-1] if lines[-1] == "" else lines[1:]
    if len(words) < 3 or len(set(words)) != len(words) or int(head[2]) < 1:
        raise DataError(f"{path}: needs at least 3 distinct words and a length of 1 or more; "
                        "the file is damaged")
    return Vocabulary(words, int(head[2]))
