"""The two layouts of a folder dataset, for images and texts alike.

Either one sub-folder per class (the loader splits it with the fixed seed), or ``train/`` and
``test/`` (and optionally ``val/``) folders that each hold the same class sub-folders, used as
given (the layout of IMDB's aclImdb archive and of most downloadable datasets). Only the folders
are read here, never the files: the loaders decode them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.data.errors import DataError

SPLIT_FOLDERS = {"train": "train", "test": "test", "val": "val", "valid": "val",
                 "validation": "val"}
IGNORED_CLASSES = {"unsup"}
"""Sub-folders that hold no class: aclImdb's train/unsup (50,000 unlabelled reviews)."""


@dataclass
class FolderLayout:
    root: Path
    classes: list[str]
    files: dict[str, list[list[Path]]]
    """Per split ("all" when the folder is one sub-folder per class; else "train", "test" and
    perhaps "val"), the files of each class, in the order of ``classes``."""
    notes: list[str] = field(default_factory=list)

    @property
    def presplit(self) -> bool:
        return "all" not in self.files


def _subfolders(folder: Path) -> list[Path]:
    try:
        return sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    except OSError as exc:
        raise DataError(f"{folder}: cannot be listed ({exc.strerror or exc})") from None


def _files(folder: Path, suffixes: set[str], budget: int) -> list[Path]:
    found: list[Path] = []
    try:
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in suffixes and not path.name.startswith("."):
                found.append(path)
                if len(found) >= budget:
                    break
    except OSError as exc:
        raise DataError(f"{folder}: cannot be listed ({exc.strerror or exc})") from None
    return found


def _class_folders(folder: Path) -> list[Path]:
    return [d for d in _subfolders(folder) if d.name not in IGNORED_CLASSES]


def split_folders(folder: Path) -> dict[str, Path]:
    """``train``/``test``/``val`` sub-folders by split when the folder has train and test ones;
    {} for the one-sub-folder-per-class layout."""
    found: dict[str, Path] = {}
    for sub in _subfolders(folder):
        split = SPLIT_FOLDERS.get(sub.name.lower())
        if split is not None and split not in found:
            found[split] = sub
    return found if {"train", "test"} <= found.keys() else {}


def scan_folder(folder: Path, suffixes: set[str], limit: int) -> FolderLayout:
    """The classes and files of a folder dataset in either layout; DataError in one line (no
    such folder, fewer than two classes, splits whose classes differ)."""
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder (expected one sub-folder per class, or "
                        "train/ and test/ folders with one sub-folder per class)")
    splits = split_folders(folder)
    ignored = sorted({d.name for d in _subfolders(splits.get("train", folder))} & IGNORED_CLASSES)
    notes = [f"ignored the sub-folder {name}/ (no labels)" for name in ignored]
    if not splits:
        dirs = _class_folders(folder)
        if len(dirs) < 2:
            raise DataError(f"{folder}: needs at least two sub-folders, one per class (or "
                            f"train/ and test/ folders holding them); found {len(dirs)}")
        per_class = max(1, limit // len(dirs))
        files = [_files(d, suffixes, per_class) for d in dirs]
        return FolderLayout(folder, [d.name for d in dirs], {"all": files}, notes)
    train_dirs = _class_folders(splits["train"])
    classes = [d.name for d in train_dirs]
    if len(classes) < 2:
        raise DataError(f"{splits['train']}: needs at least two sub-folders, one per class; "
                        f"found {len(classes)}")
    layout = FolderLayout(folder, classes, {}, notes)
    per_class = max(1, limit // (len(classes) * len(splits)))
    for split in ("train", "val", "test"):
        if split not in splits:
            continue
        dirs = _class_folders(splits[split])
        names = [d.name for d in dirs]
        if names != classes:
            raise DataError(f"{splits[split]}: its class folders ({', '.join(names) or 'none'}) "
                            f"differ from {splits['train'].name}/'s ({', '.join(classes)}); "
                            "every split needs the same class sub-folders")
        layout.files[split] = [_files(d, suffixes, per_class) for d in dirs]
    given = ", ".join(f"{splits[s].name}/" for s in ("train", "val", "test") if s in splits)
    layout.notes.append(f"splits as given by {given}" + (
        "" if "val" in splits else " (validation: 15% of train/, fixed seed)"))
    return layout


def folder_kind(folder: Path, text_suffixes: set[str], image_suffixes: set[str]) -> str | None:
    """"text" or "images" by the first few dozen files of the class folders; None when the
    folder holds neither (or is no folder)."""
    if not folder.is_dir():
        return None
    top = split_folders(folder).get("train", folder)
    texts = images = 0
    try:
        for d in _class_folders(top)[:20]:
            for n, path in enumerate(d.rglob("*")):
                if n >= 50:
                    break
                suffix = path.suffix.lower()
                texts += suffix in text_suffixes
                images += suffix in image_suffixes
    except OSError:
        return None
    if texts > images:
        return "text"
    return "images" if images else None
