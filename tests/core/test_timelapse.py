"""convscope render timelapse: a run's filters forming, one frame per snapshot, as GIF or MP4."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from core.build import build_model
from core.cli import main
from core.model.spec import model_from_dict
from core.presets import load_preset
from core.train import snapshots
from core.train.engine import train
from core.train.settings import Finished, TrainingSettings


@pytest.fixture(scope="module")
def two_epochs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from core.data.datasets import load_digits_dataset

    settings = replace(TrainingSettings(), epochs=2, device="cpu")
    done = list(train(load_preset("digits_small"), load_digits_dataset(), settings,
                      tmp_path_factory.mktemp("runs")))[-1]
    assert isinstance(done, Finished)
    return Path(done.run_dir)


def _lapse(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(["render", "timelapse", *args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def test_a_two_epoch_run_gives_three_frames_of_every_convolution(
        two_epochs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    held = snapshots.load(two_epochs)
    assert [epoch for epoch, _t in held] == [0, 1, 2]
    assert {f"filters.{n}" for n in ("conv1", "conv2", "conv3")} <= set(held[0][1])
    gif, mp4 = tmp_path / "conv2.gif", tmp_path / "conv3.mp4"
    assert _lapse([str(two_epochs), "--layer", "conv2", "-o", str(gif)], capsys)[0] == 0
    frames = iio.imread(gif, index=None)
    assert frames.shape[0] == 3
    assert not np.array_equal(frames[0], frames[2])  # training moved the filters
    # the caption (epoch, metric) sits in the corner bar: it differs between start and epoch 1
    assert not np.array_equal(frames[0][:18], frames[1][:18])
    assert _lapse([str(two_epochs), "--layer", "conv3", "-o", str(mp4), "--fps", "5"],
                  capsys)[0] == 0
    assert iio.imread(mp4, plugin="pyav", index=None).shape[0] == 3


def test_bad_requests_are_one_clear_line_and_write_nothing(
        two_epochs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "x.gif"
    for args, words in (([str(two_epochs), "--layer", "fc", "-o", str(out)],
                         "its snapshots hold: conv1, conv2, conv3"),
                        ([str(two_epochs), "--layer", "conv1", "-o", str(tmp_path / "x.avi")],
                         ".gif or .mp4"),
                        ([str(two_epochs), "--layer", "conv1", "-o", str(out), "--fps", "0"],
                         "frame rate"),
                        ([str(tmp_path / "nowhere"), "--layer", "conv1", "-o", str(out)],
                         "not a run folder")):
        code, err = _lapse(args, capsys)
        assert code == 2 and err.count("\n") == 1 and words in err, (code, err)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # not installed
    code, err = _lapse([str(two_epochs), "--layer", "conv1", "-o", str(tmp_path / "x.mp4")],
                       capsys)
    assert code == 2 and "needs imageio-ffmpeg" in err and ".gif instead" in err
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_old_file(two_epochs: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "lapse.gif"
    out.write_bytes(b"old")

    def broken(path: Path, *_a: object, **_k: object) -> None:
        Path(path).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(iio, "imwrite", broken)
    code, err = _lapse([str(two_epochs), "--layer", "conv1", "-o", str(out)], capsys)
    assert code == 2 and "No space left" in err
    assert out.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["lapse.gif"]


def test_a_snapshot_keeps_layers_in_order_within_its_budget() -> None:
    wide = model_from_dict({"format": "convscope.model/1", "name": "wide",
                            "input": {"shape": [3, 16, 16]}, "layers": [
                                {"name": f"c{i}", "type": "Conv2d", "out_channels": 512,
                                 "kernel_size": 3, "padding": 1} for i in range(4)]})
    taken = snapshots.take(build_model(wide), wide, torch.rand(1, 3, 16, 16))
    layers = sorted(k for k in taken if k.startswith("filters."))
    assert layers[0] == "filters.c0" and len(layers) < 4  # the later layers do not fit
    size = sum(t.numel() * 4 for k, t in taken.items() if k != "probe")
    assert size <= snapshots.SNAPSHOT_BUDGET
