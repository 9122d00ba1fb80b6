"""Clip datasets: frames sampled evenly, clip folders of each format in both layouts, refusals of
broken clips in one line, the bundled moving digits, and the 3-D preset learning where the 2-D
baseline cannot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.cli import main
from core.data.adapt import BatchPreparer
from core.data.datasets import DataError, load_dataset
from core.data.frames import even_indices, fit_clips, middle_frames
from core.data.moving_digits import DIRECTIONS, load_moving_digits

SHAPE = (1, 4, 16, 16)  # a video model's input: channels, frames, height, width


def frames_of(level: int, count: int = 6, size: int = 24) -> list[np.ndarray]:
    """``count`` RGB frames whose brightness climbs from ``level``: frame order shows."""
    return [np.full((size, size, 3), min(255, level + 20 * i), np.uint8) for i in range(count)]


def write_video(path: Path, frames: list[np.ndarray]) -> None:
    import av

    codec = "mjpeg" if path.suffix == ".avi" else "mpeg4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        for array in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_gif(path: Path, frames: list[np.ndarray]) -> None:
    images = [Image.fromarray(a) for a in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=100, loop=0)


def write_frame_folder(folder: Path, frames: list[np.ndarray]) -> None:
    folder.mkdir(parents=True)
    for i, array in enumerate(frames):  # frame10 after frame9: name order is numeric
        Image.fromarray(array).save(folder / f"frame{i}.png")


def clip_folder(root: Path, per_class: int = 4) -> Path:
    """Two classes (dark, bright), each clip in a different format."""
    writers = [(".mp4", write_video), (".avi", write_video), (".gif", write_gif),
               ("", write_frame_folder)]
    for name, level in (("bright", 120), ("dark", 0)):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            suffix, write = writers[i % len(writers)]
            write(root / name / f"clip{i}{suffix}", frames_of(level))
    return root


def test_frames_are_sampled_evenly_first_and_last_kept() -> None:
    assert even_indices(10, 4) == [0, 3, 6, 9]
    assert even_indices(3, 5) == [0, 0, 1, 2, 2]  # a short clip repeats frames
    assert even_indices(7, 1) == [3]  # one frame: the middle one
    clips = torch.arange(10, dtype=torch.uint8).view(1, 1, 10, 1, 1).expand(2, 1, 10, 8, 8)
    fitted = fit_clips(clips, 3, 4, (4, 4))
    assert fitted.shape == (2, 3, 4, 4, 4)
    assert fitted[0, 0, :, 0, 0].tolist() == [0, 3, 6, 9]
    assert middle_frames(clips).shape == (2, 1, 8, 8)


def test_clip_folder_of_every_format_is_read_at_the_models_frames_and_size(
        tmp_path: Path) -> None:
    folder = clip_folder(tmp_path / "clips", per_class=8)
    data = load_dataset(str(folder), SHAPE)
    assert data.is_clip and data.classes == ["bright", "dark"]
    assert len(data.train) + len(data.val) + len(data.test) == 16
    assert data.train.images.shape[1:] == SHAPE and data.train.images.dtype == torch.uint8
    everything = torch.cat([data.train.images, data.val.images, data.test.images])
    labels = torch.cat([data.train.labels, data.val.labels, data.test.labels])
    # every format decodes its frames in order (brightness climbs), bright above dark
    means = everything.float().mean(dim=(1, 3, 4))
    assert bool((means[:, -1] > means[:, 0] + 50).all())
    assert means[labels == 0].mean() > means[labels == 1].mean() + 60
    assert any("sampled evenly to 4" in note for note in data.notes)
    assert "clips of 1×4×16×16" in data.describe()


def test_train_and_test_folders_of_clips_are_used_as_given(tmp_path: Path) -> None:
    for split in ("train", "test"):
        clip_folder(tmp_path / "set" / split, per_class=4)
    data = load_dataset(str(tmp_path / "set"), (3, 2, 8, 8))
    assert len(data.test) == 8 and len(data.train) + len(data.val) == 8
    assert data.clip_shape == (3, 2, 8, 8)


@pytest.mark.parametrize("name", ["broken.mp4", "broken.gif"])
def test_an_unreadable_clip_is_refused_naming_it(tmp_path: Path, name: str) -> None:
    folder = clip_folder(tmp_path / "clips")
    (folder / "dark" / name).write_bytes(b"\x00garbage, not a clip" * 50)
    with pytest.raises(DataError, match=name.replace(".", r"\.")) as caught:
        load_dataset(str(folder), SHAPE)
    assert "\n" not in str(caught.value) and "cannot be read" in str(caught.value)


def test_empty_clips_and_class_folders_are_refused_in_one_line(tmp_path: Path) -> None:
    folder = clip_folder(tmp_path / "clips")
    (folder / "dark" / "empty").mkdir()
    with pytest.raises(DataError, match="empty: a clip folder with no frames"):
        load_dataset(str(folder), SHAPE)
    (folder / "dark" / "empty").rmdir()
    (folder / "dark" / "still.png").write_bytes((folder / "dark" / "clip3" /
                                                 "frame0.png").read_bytes())
    with pytest.raises(DataError, match=r"still\.png: a still image among the clips"):
        load_dataset(str(folder), SHAPE)
    (folder / "dark" / "still.png").unlink()
    (folder / "none").mkdir()
    (folder / "none" / "notes.md").write_text("no clips here")
    with pytest.raises(DataError, match="none: no clips"):
        load_dataset(str(folder), SHAPE)


def test_cli_refuses_a_broken_clip_in_one_line(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = clip_folder(tmp_path / "clips")
    (folder / "bright" / "cut.avi").write_bytes(b"RIFF\x00\x00")
    code = main(["train", "moving_digits_3d", "--dataset", str(folder), "--epochs", "1",
                 "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code != 0 and "cut.avi" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_moving_digits_one_frame_cannot_tell_the_direction() -> None:
    data = load_moving_digits("moving-digits:n=800", (1, 8, 32, 32))
    assert data.classes == list(DIRECTIONS) and data.clip_shape == (1, 8, 32, 32)
    again = load_moving_digits("moving-digits:n=800,seed=0", (1, 8, 32, 32))
    assert torch.equal(data.train.images, again.train.images)  # deterministic by seed
    clips = data.train.images[:, 0].float()
    ys, xs = torch.arange(32.0).view(1, 1, 32, 1), torch.arange(32.0).view(1, 1, 1, 32)
    bright = (clips > 100).float()
    weight = bright.sum(dim=(2, 3)).clamp_min(1)
    cx = (bright * xs).sum(dim=(2, 3)) / weight  # (N, T) the digit's centre per frame
    cy = (bright * ys).sum(dim=(2, 3)) / weight
    moved = torch.stack([cx[:, -1] - cx[:, 0], cy[:, -1] - cy[:, 0]], 1)
    for label, (dx, dy) in enumerate(((1, 0), (-1, 0), (0, 1), (0, -1))):
        mine = data.train.labels == label
        step = moved[mine].mean(0)
        assert step[0] * dx + step[1] * dy > 5  # it moves the class's way
        # where it is in the middle frame is the same for every direction (within a pixel)
        assert abs(cx[mine, 3].mean() - cx[:, 3].mean()) < 1
        assert abs(cy[mine, 3].mean() - cy[:, 3].mean()) < 1


def test_preparer_fits_clips_and_gives_a_2d_model_the_middle_frame() -> None:
    data = load_moving_digits("moving-digits:n=64", (1, 8, 32, 32))
    video = BatchPreparer(data, (3, 4, 16, 16))
    x = video(data.train.images[:5])
    assert x.shape == (5, 3, 4, 16, 16) and x.dtype == torch.float32
    assert any("sampled evenly to 4" in n for n in video.notes)
    flat = BatchPreparer(data, (1, 32, 32))
    assert flat(data.train.images[:5]).shape == (5, 1, 32, 32)
    assert any("middle frame" in n for n in flat.notes)
    with pytest.raises(DataError, match="holds images"):
        BatchPreparer(load_dataset("digits"), (1, 4, 8, 8))


def _train(model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, float]:
    code = main(["train", model, "--dataset", "moving-digits:n=600", "--epochs", "3",
                 "--batch-size", "32", "--out", str(tmp_path / model), "--json"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    return lines[-2]  # the last epoch


@pytest.mark.slow
def test_the_3d_preset_learns_the_direction_and_the_2d_baseline_cannot(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    three = _train("moving_digits_3d", tmp_path, capsys)
    two = _train("moving_digits_2d", tmp_path, capsys)
    assert three["val_acc"] >= 0.9
    assert two["val_acc"] < 0.45  # chance is 0.25


def test_the_train_tabs_preview_shows_each_clips_middle_frame() -> None:
    from core.data.augmentation import Augmentation
    from core.inspect.augmentation_preview import preview_grid

    grid = preview_grid("moving-digits", (1, 8, 32, 32), Augmentation(flip=True), samples=8)
    assert grid.shape == (34, 265, 3) and grid.dtype == np.uint8


def test_cli_trains_a_video_preset_on_a_clip_folder(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    for name, level in (("a", 0), ("b", 60), ("c", 120), ("d", 180)):  # 4 classes, 5 frames
        (tmp_path / "clips" / name).mkdir(parents=True)
        for i in range(6):
            write_gif(tmp_path / "clips" / name / f"{i}.gif", frames_of(level, 5))
    code = main(["train", "moving_digits_3d", "--dataset", str(tmp_path / "clips"), "--epochs",
                 "1", "--out", str(tmp_path / "runs")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "clips of 1×8×32×32" in out and "clips of 5–5 frames sampled evenly to 8" in out
    assert "test acc" in out


def test_augmentation_draws_once_per_clip_for_all_its_frames() -> None:
    from core.data.augmentation import Augmentation

    data = load_moving_digits("moving-digits:n=64", (1, 8, 32, 32))
    prepare = BatchPreparer(data, (1, 8, 32, 32), Augmentation(flip=True, crop=4))
    assert any("once per clip" in n and "mirrors the motion" in n for n in prepare.notes)
    torch.manual_seed(1)
    clips = data.train.images[:16]
    shown = (prepare.display(clips) * 255).round().to(torch.uint8)
    assert shown.shape == (16, 1, 32, 32)
    flipped = BatchPreparer(data, (1, 8, 32, 32), Augmentation(flip=True))
    torch.manual_seed(2)
    out = torch.stack([flipped._augmented(c) for c in clips])
    mirrored = [bool(torch.equal(o, c.flip(-1))) for o, c in zip(out, clips, strict=True)]
    kept = [bool(torch.equal(o, c)) for o, c in zip(out, clips, strict=True)]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True))  # all frames alike
    assert any(mirrored) and any(kept)
    x = flipped(clips, train=True)
    assert x.shape == (16, 1, 8, 32, 32)
