"""Text datasets: folders of .txt files per class, CSV/TSV tables, IMDB, and the bundled phrases.

Every text is tokenised (core.data.vocabulary), a vocabulary is built from the training split
only, and each text becomes ``length`` word ids (the model's input length; cut at the end or
padded with id 0). Bad files are one DataError line naming the file: a binary file (NUL bytes), a
file over TEXT_FILE_LIMIT, a FIFO or device (refused without blocking), an unreadable one. Bytes
that are not UTF-8 are replaced (U+FFFD) and counted in the log, not refused: a Latin-1 review
still reads.
"""

from __future__ import annotations

import csv
import io
import random
import tarfile
from collections.abc import Sequence
from pathlib import Path

import torch

from core.data.dataset import Dataset, Split, assemble_splits
from core.data.errors import DataError
from core.data.folders import scan_folder, split_folders
from core.data.vocabulary import DEFAULT_SIZE, Vocabulary, tokenize
from core.regular_files import open_regular, read_regular_bytes

TEXT_SUFFIXES = {".txt"}
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
TEXT_FILE_LIMIT = 1 << 20
"""The largest .txt file read (1 MiB; an IMDB review is at most 14 kB)."""
TABLE_FILE_LIMIT = 512 << 20
MAX_TEXTS = 200_000
TEXT_COLUMNS = ("text", "review", "sentence", "content", "comment", "body", "document",
                "message", "tweet")
LABEL_COLUMNS = ("label", "sentiment", "class", "category", "target", "polarity", "y")
IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_ARCHIVE = "aclImdb_v1.tar.gz"
IMDB_MD5 = "7c2ac02c03563afcf9b574c7e56c153a"
PHRASES = "phrases"
NEGATED = 0.3
"""How often an opinion is negated: single words then point the right way 70% of the time (a
gradient to start from), and only the n-grams with their negation reach 90% and more."""


# -- reading -----------------------------------------------------------------------------------

def _decode(path: Path, data: bytes) -> tuple[str, bool]:
    if b"\0" in data:
        raise DataError(f"{path}: looks binary (it has NUL bytes), not text; remove it from "
                        "the dataset")
    try:
        return data.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), True


def read_text_file(path: Path, limit: int = TEXT_FILE_LIMIT) -> tuple[str, bool]:
    """A text file's text and whether bytes that are not UTF-8 were replaced; DataError naming
    the file when it is binary, too large, not a regular file or unreadable."""
    try:
        data = read_regular_bytes(path, limit)
    except OSError as exc:  # NotARegularFile (FIFO, device, too large) and permission errors
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return _decode(path, data)


# -- building a dataset from words ---------------------------------------------------------------

Texts = tuple[list[list[str]], list[int]]


def _finish(name: str, classes: list[str], parts: dict[str, Texts], length: int, size: int,
            vocabulary: Vocabulary | None, notes: list[str]) -> Dataset:
    """Split (the fixed seed for "all"), build the vocabulary from the training split only and
    encode every text to ``length`` ids."""
    indexed: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    words: dict[str, list[list[str]]] = {}
    for part, (texts, labels) in parts.items():
        indexed[part] = (torch.arange(len(texts)), torch.tensor(labels, dtype=torch.int64))
        words[part] = texts
    train, val, test = assemble_splits(indexed)
    # which texts each split got: "all" and a train/ without val/ are cut by index
    source = {"train": "all" if "all" in parts else "train",
              "val": "val" if "val" in parts else ("all" if "all" in parts else "train"),
              "test": "all" if "all" in parts else "test"}
    splits = {"train": train, "val": val, "test": test}
    if min(len(s) for s in splits.values()) == 0:
        total = sum(len(p[0]) for p in parts.values())
        raise DataError(f"{name}: {total} texts are too few to split into training, validation "
                        "and test sets; add more (a few dozen per class)")
    if vocabulary is None:
        vocabulary = Vocabulary.build((words[source["train"]][int(i)] for i in train.images),
                                      size, length)
    elif vocabulary.length != length:
        raise DataError(f"the run's vocabulary cuts texts to {vocabulary.length} words but the "
                        f"model takes {length}")
    encoded: dict[str, Split] = {}
    for key, chosen in splits.items():
        pool = words[source[key]]
        ids = [vocabulary.encode(pool[int(i)]) for i in chosen.images]
        tensor = torch.tensor(ids, dtype=torch.int64).reshape(len(ids), length)
        encoded[key] = Split(tensor, chosen.labels)
    data = Dataset(name, classes, encoded["train"], encoded["val"], encoded["test"],
                   [*notes, vocabulary.describe()], vocabulary)
    cut = sum(len(words[source["train"]][int(i)]) > length for i in train.images)
    if cut:
        data.notes.append(f"{cut} of {len(train)} training texts longer than {length} words "
                          "were cut")
    return data


# -- folders -------------------------------------------------------------------------------------

def load_text_folder(folder: Path, length: int, size: int = DEFAULT_SIZE,
                     vocabulary: Vocabulary | None = None, name: str | None = None) -> Dataset:
    """A folder with one sub-folder of .txt files per class, or train/ and test/ (and val/)
    folders that each hold them (aclImdb's layout; its train/unsup is ignored)."""
    layout = scan_folder(folder, TEXT_SUFFIXES, MAX_TEXTS)
    parts: dict[str, Texts] = {}
    replaced: list[str] = []
    for split, per_class in layout.files.items():
        texts: list[list[str]] = []
        labels: list[int] = []
        for index, files in enumerate(per_class):
            if not files:
                where = layout.root if split == "all" else split_folders(layout.root)[split]
                raise DataError(f"{where / layout.classes[index]}: no .txt files in this class "
                                "folder")
            for path in files:
                text, bad = read_text_file(path)
                if bad:
                    replaced.append(path.name)
                texts.append(tokenize(text))
                labels.append(index)
        parts[split] = (texts, labels)
    notes = list(layout.notes)
    if replaced:
        notes.append(f"{len(replaced)} files had bytes that are not UTF-8, replaced by U+FFFD "
                     f"(e.g. {replaced[0]})")
    return _finish(name or str(folder.resolve()), layout.classes, parts, length, size,
                   vocabulary, notes)


# -- CSV / TSV tables ------------------------------------------------------------------------------

def _column(path: Path, header: list[str], wanted: str | None, names: Sequence[str],
            role: str) -> int:
    lowered = [h.strip().lower() for h in header]
    if wanted is not None:
        if wanted.strip().lower() in lowered:
            return lowered.index(wanted.strip().lower())
        raise DataError(f"{path}: no column named {wanted!r}; its columns are "
                        f"{', '.join(header)} (name them: --dataset {path.name}:text=COLUMN,"
                        "label=COLUMN)")
    for name in names:
        if name in lowered:
            return lowered.index(name)
    raise DataError(f"{path}: no {role} column found (looked for {', '.join(names[:4])}…); its "
                    f"columns are {', '.join(header)}: name them with --dataset "
                    f"{path.name}:text=COLUMN,label=COLUMN")


def load_text_table(path: Path, length: int, size: int = DEFAULT_SIZE,
                    text_column: str | None = None, label_column: str | None = None,
                    vocabulary: Vocabulary | None = None) -> Dataset:
    """A CSV (comma) or TSV (tab) file with a header row, a text column and a label column
    (named, or found among TEXT_COLUMNS / LABEL_COLUMNS), split with the fixed seed."""
    try:
        data = read_regular_bytes(path, TABLE_FILE_LIMIT)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    text, replaced = _decode(path, data)
    delimiter = TABLE_SUFFIXES.get(path.suffix.lower(), ",")
    csv.field_size_limit(TEXT_FILE_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if not header:
            raise DataError(f"{path}: empty; it needs a header row naming the text and label "
                            "columns")
        t = _column(path, header, text_column, TEXT_COLUMNS, "text")
        c = _column(path, header, label_column, LABEL_COLUMNS, "label")
        rows: list[tuple[str, str]] = []
        for row in reader:
            if not row:
                continue
            if max(t, c) >= len(row):
                raise DataError(f"{path}: line {reader.line_num} has {len(row)} fields, fewer "
                                f"than the header's {len(header)}")
            rows.append((row[t], row[c].strip()))
            if len(rows) >= MAX_TEXTS:
                break
    except csv.Error as exc:
        raise DataError(f"{path}: line {reader.line_num} is not valid CSV ({exc})") from None
    values = sorted({label for _, label in rows},
                    key=lambda v: (0, int(v), v) if v.lstrip("-").isdigit() else (1, 0, v))
    if len(values) < 2:
        raise DataError(f"{path}: the label column {header[c]!r} needs at least two different "
                        f"values; found {len(values)}")
    if len(values) > 1000:
        raise DataError(f"{path}: the label column {header[c]!r} has {len(values)} different "
                        "values; is it the right column? (name it: label=COLUMN)")
    index = {v: i for i, v in enumerate(values)}
    parts = {"all": ([tokenize(r[0]) for r in rows], [index[r[1]] for r in rows])}
    notes = [f"texts from column {header[t]!r}, labels from column {header[c]!r}"]
    if replaced:
        notes.append(f"{path.name} has bytes that are not UTF-8, replaced by U+FFFD")
    name = str(path.resolve())
    options = [f"text={text_column}" if text_column else "",
               f"label={label_column}" if label_column else ""]
    if any(options):
        name += ":" + ",".join(o for o in options if o)
    return _finish(name, values, parts, length, size, vocabulary, notes)


# -- IMDB ------------------------------------------------------------------------------------

def _download_imdb(root: Path) -> None:
    """Download aclImdb_v1.tar.gz (84 MB) into ``root``, checked against its MD5 (online)."""
    from torchvision.datasets.utils import download_url

    download_url(IMDB_URL, str(root), IMDB_ARCHIVE, IMDB_MD5)


def _extract_imdb(root: Path) -> None:
    from torchvision.datasets.utils import check_integrity

    archive = root / IMDB_ARCHIVE
    if not check_integrity(str(archive), IMDB_MD5):
        raise DataError(f"{archive}: not the IMDB archive (its MD5 is not {IMDB_MD5}); "
                        f"download it again from {IMDB_URL}")
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(root, filter="data")
    except (OSError, tarfile.TarError) as exc:
        raise DataError(f"{archive}: cannot be unpacked ({exc})") from None


def load_imdb(root: Path, length: int, size: int = DEFAULT_SIZE, download: bool = True,
              vocabulary: Vocabulary | None = None) -> Dataset:
    """The Large Movie Review Dataset (25,000 train / 25,000 test reviews, pos and neg): read
    from ``root/aclImdb``, unpacked from ``root/aclImdb_v1.tar.gz``, or downloaded there."""
    folder = root / "aclImdb"
    archive = root / IMDB_ARCHIVE
    if not folder.is_dir():
        reason = ""
        if not archive.is_file() and download:
            try:
                root.mkdir(parents=True, exist_ok=True)
                _download_imdb(root)
            except Exception as exc:  # URLError, socket errors, a bad checksum: all "offline"
                text = str(exc).splitlines()[0][:120] if str(exc) else ""
                reason = f" and could not be downloaded ({type(exc).__name__}" + (
                    f": {text})" if text else ")")
        if archive.is_file():
            _extract_imdb(root)
        else:
            raise DataError(
                f"imdb is not on this computer{reason}. Download {IMDB_URL} and put "
                f"{IMDB_ARCHIVE} in {root} (or its unpacked aclImdb folder at {folder}), or "
                f"choose the bundled '{PHRASES}' dataset")
    return load_text_folder(folder, length, size, vocabulary, name="imdb")


# -- the bundled phrases -----------------------------------------------------------------------

_GOOD = ["good", "great", "fine", "excellent", "wonderful", "enjoyable", "brilliant", "funny"]
_BAD = ["bad", "awful", "poor", "terrible", "boring", "dull", "weak", "silly"]
_NEGATORS = [["not"], ["never"], ["hardly"], ["far", "from"], ["not", "at", "all"]]
_SUBJECTS = ["the film", "this movie", "the plot", "the acting", "the ending", "the music",
             "the cast", "the story", "the script", "the dialogue", "the director", "the lead"]
_LINKS = ["was", "is", "seemed", "felt", "looked", "sounded"]
_NEUTRAL = [
    "i saw it on a sunday with my brother", "we went to the late show", "it runs two hours",
    "the cinema was not full", "i did not expect a sequel", "my friend had not seen the book",
    "it was never shown on television here", "the tickets were hardly cheap",
    "it is set in a small town by the sea", "there is a long scene on a train",
    "the trailer did not give much away", "we bought popcorn and sat at the back",
    "it came out last year", "the poster shows a red car", "i watched it twice",
    "most of it was filmed in winter", "the credits roll over a city at night",
    "the lights went down at eight", "nobody left early", "it has a cat in it",
]


def _phrase(rng: random.Random, positive: bool) -> list[str]:
    negated = rng.random() < NEGATED
    words = rng.choice(_BAD if positive == negated else _GOOD)
    clause = [*rng.choice(_SUBJECTS).split(), rng.choice(_LINKS)]
    if negated:
        clause += rng.choice(_NEGATORS)
    return [*clause, words]


def phrase_texts(count: int = 3000, seed: int = 20) -> tuple[list[list[str]], list[int]]:
    """Made-up reviews (deterministic: the same for a seed on every machine): a few neutral
    sentences around two or three opinions, 30% of them negated ("not good", "far from bad"):
    a word alone is right about 70% of the time, the two- and three-word n-grams always."""
    rng = random.Random(seed)
    texts, labels = [], []
    for n in range(count):
        positive = n % 2 == 0
        clauses = [s.split() for s in rng.sample(_NEUTRAL, rng.randint(0, 1))]
        for _ in range(rng.randint(2, 3)):
            clauses.insert(rng.randint(0, len(clauses)), _phrase(rng, positive))
        texts.append([w for clause in clauses for w in clause])
        labels.append(int(positive))
    return texts, labels


def load_phrases(length: int, size: int = DEFAULT_SIZE,
                 vocabulary: Vocabulary | None = None) -> Dataset:
    texts, labels = phrase_texts()
    return _finish(PHRASES, ["negative", "positive"], {"all": (texts, labels)}, length, size,
                   vocabulary, ["3,000 bundled made-up reviews: the label hangs on negations "
                                "like 'not good' and 'far from bad'"])



# -- a table's columns, for choosing them ---------------------------------------------------------

HEADER_LIMIT = 1 << 20


def table_columns(path: Path) -> tuple[list[str], int | None, int | None]:
    """A CSV/TSV file's header (its column names) and the columns ``load_text_table`` would
    pick for the text and the label (None where none is found); DataError naming the file when
    it cannot be read or has no header. Reads at most the first MiB."""
    try:
        with open_regular(path) as handle:
            head = handle.read(HEADER_LIMIT)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    text, _ = _decode(path, head)
    delimiter = TABLE_SUFFIXES.get(path.suffix.lower(), ",")
    csv.field_size_limit(TEXT_FILE_LIMIT)
    try:
        header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), None)
    except csv.Error as exc:
        raise DataError(f"{path}: the header row is not valid CSV ({exc})") from None
    if not header or not any(h.strip() for h in header):
        raise DataError(f"{path}: empty; it needs a header row naming the text and label "
                        "columns")
    lowered = [h.strip().lower() for h in header]
    text_at = next((lowered.index(n) for n in TEXT_COLUMNS if n in lowered), None)
    label_at = next((lowered.index(n) for n in LABEL_COLUMNS if n in lowered), None)
    return [h.strip() for h in header], text_at, label_at
