"""Inspecting a video model: a clip as its input, a Conv3d layer's output and kernels one frame at
a time, from the Inspector and `convscope render`; a Conv3d output value stepped through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.data.errors import DataError
from core.inspect.inspector import InspectError, Inspector, image_for
from core.presets import load_preset
from tests.core.test_clips import frames_of, write_gif


def test_a_clip_is_a_video_models_input_and_activations_come_per_frame(tmp_path: Path) -> None:
    inspector = Inspector(load_preset("moving_digits_3d"))
    inp = image_for(inspector, "moving-digits:5")
    assert tuple(inp.tensor.shape) == (1, 1, 8, 32, 32) and inp.display.shape == (1, 8, 32, 32)
    assert "moving-digits test clip 5 (moving" in inp.source
    whole = inspector.activation("conv1", inp)
    assert whole.shape == (8, 8, 32, 32)
    np.testing.assert_array_equal(inspector.activation("conv1", inp, 2), whole[:, 2])
    write_gif(tmp_path / "clip.gif", frames_of(0, count=12, size=40))
    gif = image_for(inspector, str(tmp_path / "clip.gif"))
    assert gif.source == "clip.gif (12 frames, sampled evenly to 8, resized to 32 × 32)"
    with pytest.raises(DataError, match="moving-digits:N with N from 0 to 399"):
        image_for(inspector, "moving-digits:400")


def test_conv3d_kernels_frame_by_frame_on_one_scale() -> None:
    inspector = Inspector(load_preset("moving_digits_3d"))
    middle = inspector.filters("conv1")
    assert (middle.depth, middle.frame) == (3, 1)
    first = inspector.filters("conv1", frame=0)
    weight = inspector.model.layers["conv1"].weight.detach().numpy()
    np.testing.assert_array_equal(first.kernels, weight[:, :1, 0])
    assert first.vmax == middle.vmax == pytest.approx(float(np.abs(weight).max()))
    with pytest.raises(InspectError, match="span 3 frames"):
        inspector.filters("conv1", frame=3)


def test_a_2d_model_given_a_clip_sees_its_middle_frame() -> None:
    inspector = Inspector(load_preset("moving_digits_2d"))
    inp = image_for(inspector, "moving-digits:0")
    assert tuple(inp.tensor.shape) == (1, 1, 32, 32) and "middle frame" in inp.source


def test_render_writes_one_frame_of_activations_and_filters(tmp_path: Path) -> None:
    out = tmp_path / "acts.png"
    assert main(["render", "activations", "moving_digits_3d", "--image", "moving-digits:1",
                 "--layer", "relu2", "--frame", "0", "-o", str(out)]) == 0
    assert Image.open(out).size == (1200, 900)
    assert main(["render", "filters", "moving_digits_3d", "--layer", "conv2", "--frame", "2",
                 "-o", str(tmp_path / "filters.png")]) == 0
    assert main(["render", "activations", "moving_digits_3d", "--image", "moving-digits:1",
                 "--layer", "relu2", "--frame", "9", "-o", str(out)]) != 0


@pytest.mark.parametrize(("stride", "padding", "dilation", "groups"),
                         [(1, 1, 1, 1), (2, 0, 1, 1), (1, 2, 2, 2), (1, "same", 1, 1)])
def test_a_conv3d_step_adds_up_to_torchs_output(stride: Any, padding: Any, dilation: int,
                                                groups: int) -> None:
    import torch

    from core.classroom.step import step_at

    torch.manual_seed(0)
    conv = torch.nn.Conv3d(4, 6, 3, stride=stride, padding=padding, dilation=dilation,
                           groups=groups)
    x = torch.randn(4, 5, 7, 7)
    out = conv(x[None])[0].detach()
    for position in ((0, 0, 0, 0), (5, out.shape[1] - 1, 1, out.shape[3] - 1), (2, 1, 2, 1)):
        step = step_at("conv", conv, x, position)
        assert step.value == pytest.approx(float(out[position]), abs=1e-5)
        assert step.layer_type == "Conv3d" and step.position == position
        assert len(step.channel_labels) == len(step.in_channels) == 4 // groups * 3
        if position[1] == 0 and padding not in (0, "valid"):  # frame -1 read: padding
            assert step.padding[0].all() and "outside the clip" in step.channel_labels[0]


def test_convscope_step_through_a_conv3d(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["step", "moving_digits_3d", "--layer", "conv1", "--at", "2,0,10,12",
                 "--image", "moving-digits:0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("conv1 (Conv3d), output channel 2, frame 0, row 10, column 12 of "
                          "8×8×32×32")
    assert "input channel 0, frame -1 (outside the clip: padding)" in out
    assert main(["step", "moving_digits_3d", "--layer", "conv1", "--at", "2,8,10,12",
                 "--image", "moving-digits:0"]) != 0
    assert "frame 8 is outside the output" in capsys.readouterr().err
