"""The diagram's thumbnails (issue 19, items 3 and 6): each layer's output reduced to a few
feature maps or a bar, fitted into its block; ``render diagram --image`` draws them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.analysis.diagram_look import PICTURE_INSET, PICTURE_SCALE, block_size
from core.cli import main
from core.inspect.inspector import Inspector, image_for
from core.inspect.thumbnails import (
    BAR_CELLS,
    MAPS,
    SIDE,
    block_picture,
    model_pictures,
    thumbnail,
)
from core.presets import load_preset


def test_the_most_active_channels_are_shown_each_on_its_own_scale() -> None:
    output = torch.zeros(8, 64, 64)
    for channel, level in ((1, 5.0), (3, 0.01), (6, 2.0), (7, 1.0)):
        output[channel, :32] = level  # top half lit
    shown = thumbnail("conv", output)
    assert shown is not None and not shown.is_bar
    assert shown.channels == (1, 3, 6, 7)  # the four strongest, in channel order
    assert shown.values.shape == (MAPS, SIDE, SIDE)  # averaged down to SIDE
    for one in shown.values:  # the weak channel 3 is as visible as the strong one
        assert one[:SIDE // 2].min() == pytest.approx(1.0) and one[SIDE // 2:].max() == 0.0


def test_a_flat_output_is_a_bar_and_a_flat_map_is_mid_grey() -> None:
    bar = thumbnail("fc", torch.arange(1000, dtype=torch.float32))
    assert bar is not None and bar.is_bar and bar.values.shape == (BAR_CELLS,)
    assert bar.values[0] == 0.0 and bar.values[-1] == 1.0
    assert np.all(np.diff(bar.values) > 0)
    same = thumbnail("c", torch.ones(2, 5, 5))
    assert same is not None and np.all(same.values == 0.5)
    assert thumbnail("scalar", torch.tensor(3.0)) is None
    clip = thumbnail("c3d", torch.rand(4, 5, 6, 6))  # (C, T, H, W): its middle frame
    assert clip is not None and clip.values.shape == (4, 6, 6)


@pytest.mark.parametrize("shape", [(64, 224, 224), (512, 7, 7), (3, 8, 8), (4096,), (16, 100)])
def test_the_picture_fits_inside_its_block(shape: tuple[int, ...]) -> None:
    shown = thumbnail("x", torch.rand(*shape))
    assert shown is not None
    width, height = block_size(shape)
    picture = block_picture(shown, width, height)
    assert picture.dtype == np.uint8 and picture.shape[2] == 4
    assert picture.shape[1] <= (width - 2 * PICTURE_INSET) * PICTURE_SCALE
    assert picture.shape[0] <= (height - 2 * PICTURE_INSET) * PICTURE_SCALE
    # the maps are large: they fill most of the box's narrower side
    box = min((width - 2 * PICTURE_INSET), (height - 2 * PICTURE_INSET)) * PICTURE_SCALE
    assert max(picture.shape[:2]) >= 0.8 * box


def test_every_block_of_a_model_has_a_picture_from_its_weights() -> None:
    inspector = Inspector(load_preset("digits_small"))
    pictures = model_pictures(inspector, image_for(inspector, "digits:0"))
    assert set(pictures) == {"input", *inspector.layer_names()}
    inp = image_for(inspector, "digits:1")
    other = model_pictures(inspector, inp)
    assert any(not np.array_equal(pictures[n], other[n]) for n in pictures)  # the input shows


def test_render_diagram_draws_the_thumbnails(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    plain, drawn = tmp_path / "plain.png", tmp_path / "drawn.png"
    assert main(["render", "diagram", "digits_small", "-o", str(plain)]) == 0
    assert main(["render", "diagram", "digits_small", "--image", "digits:0", "-o",
                 str(drawn)]) == 0
    a = np.asarray(Image.open(plain).convert("L"), dtype=np.float32)
    b = np.asarray(Image.open(drawn).convert("L"), dtype=np.float32)
    assert a.shape == b.shape  # the same layout
    assert np.abs(a - b).mean() > 1.0  # the blocks now hold pictures
    capsys.readouterr()
    assert main(["render", "diagram", "digits_small", "--weights", str(tmp_path),
                 "-o", str(tmp_path / "w.png")]) != 0
    assert "give --image SRC too" in capsys.readouterr().err
    assert main(["render", "diagram", "digits_small", "--image", "digits:9999", "-o",
                 str(tmp_path / "bad.png")]) != 0
    assert "digits:N with N from 0" in capsys.readouterr().err
    assert not (tmp_path / "bad.png").exists() and not (tmp_path / "w.png").exists()
