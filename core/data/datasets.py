"""The datasets by name: ``load_dataset`` reads a name or a folder and asks the loader for it.

The registry sits above the loaders (``classification_sets``, ``scenes``, ``annotated``), which
never import it. The value types and the loaders' public names are re-exported here, the paths
callers have always used (``from core.data.datasets import Dataset, load_digits_dataset``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from core.data.annotated import annotated_format, load_annotated
from core.data.classification_sets import (
    CIFAR_CLASSES,
    load_cifar10,
    load_digits_dataset,
    load_image_folder,
    load_mnist_family,
    read_cifar_bin,
    read_idx,
)
from core.data.clips import load_clip_folder, looks_like_clips
from core.data.dataset import IMAGE_SUFFIXES, SPLIT_SEED, Dataset, Split
from core.data.errors import DataError
from core.data.folders import folder_kind
from core.data.moving_digits import NAME as MOVING_DIGITS
from core.data.moving_digits import load_moving_digits
from core.data.scenes import load_digit_scenes
from core.data.texts import (
    PHRASES,
    TABLE_SUFFIXES,
    TEXT_SUFFIXES,
    load_imdb,
    load_phrases,
    load_text_folder,
    load_text_table,
)
from core.data.vocabulary import DEFAULT_SIZE, Vocabulary, load_vocabulary, save_vocabulary
from core.workspace import home

if TYPE_CHECKING:
    from core.model.spec import ModelSpec

__all__ = [
    "CIFAR_CLASSES",
    "DATASETS",
    "IMAGE_SUFFIXES",
    "SPLIT_SEED",
    "DataError",
    "Dataset",
    "Split",
    "Vocabulary",
    "default_root",
    "embedding_rows",
    "load_cifar10",
    "load_dataset",
    "load_digits_dataset",
    "load_image_folder",
    "load_mnist_family",
    "load_vocabulary",
    "read_cifar_bin",
    "read_idx",
    "save_data_files",
    "save_vocabulary",
]

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "digit-scenes", "imdb", PHRASES,
            MOVING_DIGITS)
"""Named datasets; any other value is read as a folder (images, .txt files or clips, one
sub-folder per class or train/ and test/ folders holding them) or a CSV/TSV table of texts."""
TEXT_OPTIONS = ("text", "label", "vocab")
"""``NAME:key=value,…`` options of a text dataset: CSV column names, the vocabulary size."""


def default_root() -> Path:
    return home() / "data"


def split_options(name: str) -> tuple[str, dict[str, str]]:
    """``reviews.csv:text=review,label=sentiment`` → the path and its options (a colon not
    followed by key=value pairs stays in the path, e.g. a Windows drive)."""
    head, colon, tail = name.rpartition(":")
    if not colon or not tail or "=" not in tail:
        return name, {}
    options: dict[str, str] = {}
    for item in tail.split(","):
        key, equals, value = item.partition("=")
        key = key.strip().lower()
        if not equals or key not in TEXT_OPTIONS or not value.strip():
            raise DataError(f'"{item}" in "{name}": text dataset options are '
                            f"{', '.join(k + '=…' for k in TEXT_OPTIONS)} (e.g. "
                            "reviews.csv:text=review,label=sentiment,vocab=10000)")
        options[key] = value.strip()
    return head, options


def _text_length(name: str, input_shape: tuple[int, ...]) -> int:
    if len(input_shape) != 1:
        raise DataError(f"{name} holds texts but the model's input is "
                        f"{'×'.join(map(str, input_shape))}: a text model takes a sequence of "
                        "word ids (input shape one number, an Embedding first, e.g. text_cnn)")
    return input_shape[0]


def _vocabulary_size(options: dict[str, str], vocabulary_size: int | None) -> int:
    limit = vocabulary_size or DEFAULT_SIZE
    if "vocab" not in options:
        return limit
    value = options["vocab"]
    if not value.isdigit() or not 3 <= int(value) <= limit:
        raise DataError(f"vocab={value}: the vocabulary size must be a whole number from 3 to "
                        f"{limit:,} (the model's Embedding has {limit:,} rows)")
    return int(value)


def load_dataset(name: str, input_shape: tuple[int, ...] = (1, 28, 28),
                 root: Path | None = None, download: bool = True,
                 vocabulary_size: int | None = None,
                 vocabulary: Vocabulary | None = None) -> Dataset:
    """Load a named dataset, an image or text folder or a text table; DataError with what to do
    when it fails.

    Texts: ``vocabulary_size`` is the model's Embedding rows (ids must stay below it; default
    DEFAULT_SIZE), ``vocabulary`` a run's own (load_vocabulary), used instead of building one."""
    root = root or default_root()
    key = name.lower()
    if key == "digits":
        return load_digits_dataset()
    if key in ("mnist", "fashion-mnist"):
        return load_mnist_family(key, root, download)
    if key == "cifar10":
        return load_cifar10(root, download)
    if key.split(":")[0] == "digit-scenes":
        square = len(input_shape) == 3 and input_shape[1] == input_shape[2]
        fits = square and 32 <= input_shape[1] <= 512  # scenes at the model's input size
        return load_digit_scenes(key, input_shape[1] if fits else 64)
    if key.split(":")[0] == MOVING_DIGITS:
        return load_moving_digits(key, input_shape)
    base, options = split_options(name)
    data = _load_text_or_folder(name, base, options, input_shape, root, download,
                                vocabulary_size, vocabulary)
    if data.vocabulary is not None and "vocab" in options:
        # the run records the name: training.json then says which vocabulary size it used
        columns = "text" in options or "label" in options  # a table's name holds them already
        data.name += ("," if columns else ":") + f"vocab={options['vocab']}"
    return data


def _load_text_or_folder(name: str, base: str, options: dict[str, str],
                         input_shape: tuple[int, ...], root: Path, download: bool,
                         vocabulary_size: int | None, vocabulary: Vocabulary | None) -> Dataset:
    """Texts (named, a table or a folder of .txt files), annotated images, clips or images."""
    if base.lower() in ("imdb", PHRASES):
        length = _text_length(base.lower(), input_shape)
        rows = _vocabulary_size(options, vocabulary_size)
        if base.lower() == "imdb":
            return load_imdb(root, length, rows, download, vocabulary)
        return load_phrases(length, rows, vocabulary)
    path = Path(base).expanduser()
    if path.suffix.lower() in TABLE_SUFFIXES and not path.is_dir():
        return load_text_table(path, _text_length(path.name, input_shape),
                               _vocabulary_size(options, vocabulary_size), options.get("text"),
                               options.get("label"), vocabulary)
    if options and not path.is_dir():
        raise DataError(f"{base}: no such folder or table (text options go after a .txt "
                        "folder or a .csv / .tsv file)")
    if annotated_format(path) is not None:  # VOC, COCO JSON, images + masks
        channels = input_shape[0] if len(input_shape) == 3 and input_shape[0] in (1, 3) else 3
        size = (input_shape[1], input_shape[2]) if len(input_shape) == 3 else (64, 64)
        return load_annotated(path, size, channels)
    kind = folder_kind(path, TEXT_SUFFIXES, IMAGE_SUFFIXES)
    if kind == "text" or (options and path.is_dir()):
        return load_text_folder(path, _text_length(path.name, input_shape),
                                _vocabulary_size(options, vocabulary_size), vocabulary)
    if path.is_dir() and (len(input_shape) == 4 or looks_like_clips(path)):
        return _clip_folder(path, input_shape)
    if path.is_dir():
        channels = input_shape[0] if len(input_shape) == 3 and input_shape[0] in (1, 3) else 3
        size = (input_shape[1], input_shape[2]) if len(input_shape) == 3 else (64, 64)
        return load_image_folder(path, size, channels)
    raise DataError(f'unknown dataset "{name}": use one of {", ".join(DATASETS)}, a folder '
                    "with one sub-folder of images or .txt files per class (or train/ and "
                    "test/ folders holding them), or a .csv / .tsv file of texts and labels")


def _clip_folder(path: Path, input_shape: tuple[int, ...]) -> Dataset:
    """Clips at a video model's frames and size; for a 2-D model, each clip's middle frame."""
    channels = input_shape[0] if input_shape and input_shape[0] in (1, 3) else 3
    size = (input_shape[-2], input_shape[-1]) if len(input_shape) in (3, 4) else (64, 64)
    frames = input_shape[1] if len(input_shape) == 4 else 1
    return load_clip_folder(path, frames, size, channels)


def embedding_rows(spec: ModelSpec) -> int | None:
    """The rows of the model's first Embedding (word ids must stay below it), None without."""
    for layer in spec.layers:
        if layer.type == "Embedding":
            rows = layer.params.get("num_embeddings")
            return rows if isinstance(rows, int) and rows > 0 else None
    return None


def save_data_files(run: Path, data: Dataset) -> None:
    """What a run folder keeps of its data besides training.json: a text dataset's vocabulary
    (vocabulary.txt), so inspecting or resuming the run encodes texts as training did."""
    if data.vocabulary is not None:
        save_vocabulary(run, data.vocabulary)
