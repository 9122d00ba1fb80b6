"""How the filters formed, as a GIF or MP4: one frame per snapshot of a run (its start and each
epoch), the layer's kernels on the run's common scale beside their change since the start, the
epoch and the metric in the corner.

``convscope render timelapse`` and the formation view's Export write it, all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.inspect.formation import FormationFrame, formation_frames
from core.inspect.inspector import FilterGrid, InspectError
from core.inspect.mosaic import tile
from core.regular_files import write_atomic

FORMATS = (".gif", ".mp4")
MIN_WIDTH = 320
"""Frames are scaled up (by whole pixels) to at least this width, so 3×3 kernels can be seen."""
BAR = 18
"""Height of the caption bar above the kernels (and of the panels' titles below it)."""
GAP = 16
"""Pixels between the kernels and their change."""


def _diverging(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """Blue (negative) – white (0) – red (positive) as uint8 RGB; NaN (between tiles) grey."""
    t = np.clip(np.nan_to_num((values - vmin) / (vmax - vmin), nan=0.5) * 2 - 1, -1, 1)
    rgb = np.ones((*values.shape, 3), dtype=np.float32)
    pos, neg = np.clip(t, 0, 1), np.clip(-t, 0, 1)
    rgb[..., 0] -= neg * 0.8
    rgb[..., 1] -= (pos + neg) * 0.8
    rgb[..., 2] -= pos * 0.8
    rgb[np.isnan(values)] = 0.6
    return (rgb * 255).astype(np.uint8)


def _mosaic(grid: FilterGrid) -> np.ndarray:
    """A grid's kernels tiled as uint8 RGB on the grid's own (common) scale."""
    if grid.color:
        mosaic = tile((grid.kernels - grid.vmin) / (grid.vmax - grid.vmin), fill=np.nan).image
        rgb: np.ndarray = (np.clip(np.nan_to_num(mosaic, nan=0.6), 0, 1) * 255).astype(np.uint8)
        return rgb
    return _diverging(tile(grid.kernels[:, 0], fill=np.nan).image, grid.vmin, grid.vmax)


def frame_image(frame: FormationFrame, caption: str) -> np.ndarray:
    """One frame as (H, W, 3) uint8: the kernels tiled and, beside them, each kernel's change
    since the start (white: unchanged; on one scale for the run: the kernels themselves move
    by a fraction of their size, which their own picture hardly shows), scaled up, the caption
    above them."""
    from PIL import Image, ImageDraw

    kernels, change = _mosaic(frame.filters), _mosaic(frame.change)
    scale = max(1, -(-MIN_WIDTH // kernels.shape[1]))
    kernels, change = (rgb.repeat(scale, axis=0).repeat(scale, axis=1)
                       for rgb in (kernels, change))
    width = kernels.shape[1] * 2 + GAP
    picture = Image.new("RGB", (width, kernels.shape[0] + 2 * BAR), (255, 255, 255))
    picture.paste(Image.fromarray(kernels), (0, 2 * BAR))
    picture.paste(Image.fromarray(change), (kernels.shape[1] + GAP, 2 * BAR))
    draw = ImageDraw.Draw(picture)
    draw.text((3, 3), caption, fill=(0, 0, 0))
    draw.text((3, BAR + 2), "filters", fill=(60, 60, 60))
    draw.text((kernels.shape[1] + GAP + 3, BAR + 2), "change since the start",
              fill=(60, 60, 60))
    return np.asarray(picture)


def captions(frames: list[FormationFrame], history: Sequence[Mapping[str, float]],
             metric: str) -> list[str]:
    """"start" or "epoch N", and the epoch's metric when the run recorded it."""
    by_epoch = {int(record.get("epoch", -1)): record for record in history}
    out = []
    for frame in frames:
        text = "start" if frame.epoch == 0 else f"epoch {frame.epoch}"
        value = by_epoch.get(frame.epoch, {}).get(metric)
        if value is not None:
            text += f"  {metric} {value:.3f}"
        out.append(f"{frame.layer} · {text}")
    return out


def _even(image: np.ndarray, block: int = 16) -> np.ndarray:
    """Padded (white) to a multiple of ``block`` pixels, as H.264's yuv420p needs."""
    h, w = image.shape[:2]
    return np.pad(image, ((0, -h % block), (0, -w % block), (0, 0)), constant_values=255)


def write_timelapse(snapshots: list[tuple[int, dict[str, Any]]], layer: str, path: Path,
                    history: Sequence[Mapping[str, float]] = (), metric: str = "val_acc",
                    fps: float = 2.0) -> int:
    """Write ``path`` (.gif or .mp4) with one frame per snapshot; the number of frames.
    InspectError (one sentence) for a bad layer, format, frame rate or a missing encoder."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InspectError(f"{path}: a time-lapse is written as .gif or .mp4")
    if not 0 < fps <= 60:
        raise InspectError(f"--fps {fps}: give a frame rate from 0 (exclusive) to 60")
    if suffix == ".mp4":
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            raise InspectError("writing .mp4 needs imageio-ffmpeg (pip install "
                               "imageio-ffmpeg); write a .gif instead") from None
    frames = formation_frames(snapshots, layer)
    if not frames:
        raise InspectError("the run has no snapshots (train with snapshots on)")
    images = [frame_image(frame, caption)
              for frame, caption in zip(frames, captions(frames, history, metric),
                                        strict=True)]
    height = max(i.shape[0] for i in images)
    width = max(i.shape[1] for i in images)
    images = [np.pad(i, ((0, height - i.shape[0]), (0, width - i.shape[1]), (0, 0)),
                     constant_values=255) for i in images]
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        if suffix == ".gif":
            import imageio.v3 as iio

            iio.imwrite(tmp, np.stack(images), extension=".gif", duration=1000 / fps, loop=0)
            return
        import imageio_ffmpeg

        frames = [_even(image) for image in images]
        height, width = frames[0].shape[:2]
        writer = imageio_ffmpeg.write_frames(str(tmp), (width, height), fps=fps,
                                             codec="libx264", pix_fmt_out="yuv420p",
                                             output_params=["-f", "mp4"], macro_block_size=1)
        writer.send(None)  # start ffmpeg
        try:
            for frame in frames:
                writer.send(np.ascontiguousarray(frame))
        finally:
            writer.close()

    write_atomic(path, write)
    return len(images)
