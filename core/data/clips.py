"""Clip folders: one sub-folder of clips per class, or train/ and test/ (and val/) folders
holding them (core.data.folders).

A clip is a video file (.mp4, .avi, .mov, .mkv, .webm, decoded with PyAV), an animated GIF, or
a folder of frames (images, in name order). Each clip is decoded once, its frames sampled evenly
to the model's depth, converted to its channels and resized to its input (core.data.frames).
A clip that cannot be read, or has no frames, is refused in one line naming the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.data.dataset import IMAGE_SUFFIXES, Dataset, assemble_splits
from core.data.errors import DataError
from core.data.folders import scan_folder
from core.data.frames import even_indices
from core.data.images import ImageTooLarge, fit_images, open_image, pil_array, uint8_chw
from core.regular_files import open_regular

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"}
CLIP_SUFFIXES = VIDEO_SUFFIXES | {".gif"}
MAX_CLIPS = 20_000
MAX_DECODED_FRAMES = 5_000
"""Frames decoded of one video at most (about 3 minutes at 25 fps); later ones are left out."""
VIDEO_FILE_LIMIT = 4 << 30


def _natural(path: Path) -> list[Any]:
    """frame2 before frame10."""
    return [int(part) if part.isdigit() else part.lower()
            for part in re.split(r"(\d+)", path.name)]


def looks_like_clips(folder: Path) -> bool:
    """True when the class folders hold video files or folders of frames (not plain images)."""
    from core.data.folders import split_folders

    top = split_folders(folder).get("train", folder)
    try:
        for class_dir in sorted(d for d in top.iterdir() if d.is_dir())[:20]:
            for n, entry in enumerate(class_dir.iterdir()):
                if n >= 50:
                    break
                if entry.suffix.lower() in VIDEO_SUFFIXES or entry.is_dir():
                    return True
    except OSError:
        return False
    return False


def _video_frames(path: Path, size: tuple[int, int]) -> list[np.ndarray]:
    import av

    frames: list[np.ndarray] = []
    with open_regular(path, VIDEO_FILE_LIMIT) as handle, av.open(handle, "r") as container:
        if not container.streams.video:
            raise DataError(f"{path}: has no video stream")
        stream = container.streams.video[0]
        # decoded straight to twice the model's size at most: a long HD video stays small
        width = min(stream.codec_context.width or size[1], 2 * size[1])
        height = min(stream.codec_context.height or size[0], 2 * size[0])
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24", width=width, height=height))
            if len(frames) >= MAX_DECODED_FRAMES:
                break
    return frames


def _gif_frames(path: Path, size: tuple[int, int]) -> list[np.ndarray]:
    from PIL import ImageSequence

    frames: list[np.ndarray] = []
    with open_image(path) as image:
        for frame in ImageSequence.Iterator(image):
            frames.append(pil_array(frame.convert("RGB"), size))
            if len(frames) >= MAX_DECODED_FRAMES:
                break
    return frames


def _frame_folder(folder: Path, frames: int, size: tuple[int, int]) -> list[np.ndarray]:
    try:
        files = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
                        and not p.name.startswith(".")), key=_natural)
    except OSError as exc:
        raise DataError(f"{folder}: cannot be listed ({exc.strerror or exc})") from None
    if not files:
        raise DataError(f"{folder}: a clip folder with no frames (images) in it")
    decoded = []
    for index in even_indices(len(files), frames):  # only the frames used are decoded
        path = files[index]
        try:
            with open_image(path) as image:
                decoded.append(pil_array(image.convert("RGB"), size))
        except (OSError, ValueError, ImageTooLarge) as exc:
            raise DataError(f"{path}: cannot be read as a frame of {folder.name} "
                            f"({_reason(exc)})") from None
    return decoded


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def read_clip(path: Path, frames: int, size: tuple[int, int], channels: int
              ) -> tuple[torch.Tensor, int]:
    """One clip as uint8 (channels, frames, H, W) and how many frames it had; DataError naming
    the file when it cannot be read or holds no frames."""
    try:
        if path.is_dir():
            raw = _frame_folder(path, frames, size)
            count = len(raw)
        else:
            if path.suffix.lower() == ".gif":
                raw = _gif_frames(path, size)
            else:
                raw = _video_frames(path, size)
            count = len(raw)
            raw = [raw[i] for i in even_indices(count, frames)]
    except DataError:
        raise
    except Exception as exc:  # PyAV's and PIL's many error types all mean "unreadable"
        kind = "an animated GIF" if path.suffix.lower() == ".gif" else "a video"
        raise DataError(f"{path}: cannot be read as {kind} ({_reason(exc)})") from None
    if not raw:
        raise DataError(f"{path}: a clip with no frames")
    images = torch.stack([fit_images(uint8_chw(a), channels, size) for a in raw])
    return images.movedim(0, 1).contiguous(), count


def _clips_of(class_dir: Path, files: list[Path]) -> list[Path]:
    """The clips in a class folder: its video files and GIFs, and its folders of frames."""
    clips: set[Path] = set()
    try:  # folders of frames, an empty one included (refused when read)
        clips.update(d for d in class_dir.iterdir() if d.is_dir() and not d.name.startswith("."))
    except OSError as exc:
        raise DataError(f"{class_dir}: cannot be listed ({exc.strerror or exc})") from None
    for path in files:
        if path.parent == class_dir:
            if path.suffix.lower() in CLIP_SUFFIXES:
                clips.add(path)
            else:
                raise DataError(f"{path}: a still image among the clips of {class_dir.name}/; "
                                "put each clip's frames in a folder of their own")
        elif path.suffix.lower() in CLIP_SUFFIXES:
            clips.add(path)  # a video or GIF further down
        else:
            clips.add(path.parent)  # a frame of a folder of frames
    return sorted(clips, key=_natural)


def load_clip_folder(folder: Path, frames: int, size: tuple[int, int], channels: int
                     ) -> Dataset:
    """Every clip of a clip folder at the model's ``frames``, ``size`` and ``channels``."""
    layout = scan_folder(folder, CLIP_SUFFIXES | IMAGE_SUFFIXES, 1 << 24)
    parts: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    lengths: list[int] = []
    for split, per_class in layout.files.items():
        clips: list[torch.Tensor] = []
        labels: list[int] = []
        base = folder if split == "all" else _split_dir(folder, split)
        for index, (name, files) in enumerate(zip(layout.classes, per_class, strict=True)):
            found = _clips_of(base / name, files)
            if not found:
                raise DataError(f"{base / name}: no clips (video files, animated GIFs or "
                                "folders of frames) in this class folder")
            if len(clips) + len(found) > MAX_CLIPS:
                raise DataError(f"{folder}: more than {MAX_CLIPS:,} clips; use a smaller set")
            for path in found:
                clip, count = read_clip(path, frames, size, channels)
                clips.append(clip)
                labels.append(index)
                lengths.append(count)
        parts[split] = (torch.stack(clips), torch.tensor(labels))
    train, val, test = assemble_splits(parts)
    if min(len(train), len(val), len(test)) == 0:
        total = sum(len(p[1]) for p in parts.values())
        raise DataError(f"{folder}: {total} clips are too few to split into training, "
                        "validation and test sets; add more (a few dozen per class)")
    data = Dataset(str(folder.resolve()), layout.classes, train, val, test, list(layout.notes))
    data.notes.append(f"clips of {min(lengths)}–{max(lengths)} frames sampled evenly to "
                      f"{frames} (the model's depth), frames decoded as "
                      f"{'grayscale' if channels == 1 else 'RGB'} and resized to "
                      f"{size[0]}×{size[1]}")
    if min(lengths) < frames:
        data.notes.append(f"clips shorter than {frames} frames repeat some of their frames")
    return data


def _split_dir(folder: Path, split: str) -> Path:
    from core.data.folders import split_folders

    return split_folders(folder)[split]
