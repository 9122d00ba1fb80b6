"""DeepDream and style transfer: the objective rises, octaves resize coarse to fine, style's
Gram loss falls, Cancel stops mid-pass, and the command line writes the figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.analysis.model_analysis import analyze_model
from core.cli import main
from core.inspect.dream import DreamSettings, deep_dream, octave_sizes
from core.inspect.inspector import InspectError, Inspector, image_for
from core.inspect.layer_choices import default_dream_layer, default_style_layers
from core.inspect.layer_probe import RANDOM_WEIGHTS_NOTE
from core.inspect.style import StyleSettings, gram, transfer_style
from core.presets import load_preset


@pytest.fixture(scope="module")
def mnist() -> Inspector:
    return Inspector(load_preset("keras_mnist"), force=True)


def test_octaves_go_coarse_to_fine_and_end_at_the_image_size() -> None:
    assert octave_sizes(224, 224, 3, 1.4) == [(114, 114), (160, 160), (224, 224)]
    assert octave_sizes(100, 200, 2, 2.0) == [(50, 100), (100, 200)]
    assert octave_sizes(8, 8, 4, 1.4) == [(8, 8)]  # never below 8 pixels: one octave
    assert octave_sizes(12, 12, 4, 1.4) == [(8, 8), (9, 9), (12, 12)]
    with pytest.raises(InspectError, match="octave scale"):
        octave_sizes(32, 32, 3, 1.0)
    with pytest.raises(InspectError, match="octaves"):
        octave_sizes(32, 32, 0, 1.4)


@pytest.mark.parametrize("channel", [3, None])
def test_the_objective_rises_over_every_octave(mnist: Inspector, channel: int | None) -> None:
    start = image_for(mnist, "digits:3")
    settings = DreamSettings("conv2", channel, octaves=3, octave_scale=1.3, steps=6)
    dream = deep_dream(mnist, start, settings)
    assert dream.octave_sizes == [(17, 17), (22, 22), (28, 28)]  # the small ones fed natively
    assert len(dream.objective) == 3 * 6 + 1
    assert dream.objective[-1] > dream.objective[0] * 1.2
    assert dream.objective[-1] > dream.initial * 1.2  # at the full size too
    assert dream.image.shape == start.display.shape == (1, 28, 28)
    assert dream.image.min() >= 0
    assert dream.image.max() <= 1
    assert np.abs(dream.image - start.display).mean() > 0.01
    np.testing.assert_allclose(dream.start, start.display)
    assert RANDOM_WEIGHTS_NOTE in dream.notes
    assert "the smaller octaves were resized" not in " ".join(dream.notes)


def test_after_a_fixed_size_layer_the_small_octaves_are_resized() -> None:
    from core.model.spec import model_from_dict

    spec = model_from_dict({"format": "convscope.model/1", "name": "local-then-conv",
                            "input": {"shape": [1, 16, 16]}, "layers": [
        {"name": "local", "type": "LocallyConnected2d", "out_channels": 2, "kernel_size": 3},
        {"name": "conv", "type": "Conv2d", "out_channels": 4, "kernel_size": 3}]})
    inspector = Inspector(spec, force=True)
    start = image_for(inspector, "camera")
    dream = deep_dream(inspector, start, DreamSettings("conv", 0, octaves=2, steps=4))
    assert dream.octave_sizes == [(11, 11), (16, 16)]
    assert "the smaller octaves were resized" in " ".join(dream.notes)
    assert dream.objective[-1] > dream.objective[0]


def test_a_dream_says_which_choices_exist(mnist: Inspector) -> None:
    start = image_for(mnist, "digits:0")
    with pytest.raises(InspectError, match="channel 99 does not exist: conv2 has 64"):
        deep_dream(mnist, start, DreamSettings("conv2", 99))
    with pytest.raises(InspectError, match=r'"nope" is not a layer.*conv2'):
        deep_dream(mnist, start, DreamSettings("nope"))


class Stop(Exception):
    pass


def test_a_check_raising_as_the_gradient_flows_back_stops_the_dream(mnist: Inspector) -> None:
    calls = []

    def check() -> None:
        calls.append(1)
        if len(calls) == 2:  # the second layer's gradient: mid-backward of the first step
            raise Stop

    with pytest.raises(Stop):
        deep_dream(mnist, image_for(mnist, "digits:0"), DreamSettings("conv2", 0),
                   check=check)
    assert len(calls) == 2


def test_gram_is_which_channels_fire_together() -> None:
    features = torch.arange(12.0).reshape(3, 2, 2)
    flat = features.reshape(3, 4)
    torch.testing.assert_close(gram(features), flat @ flat.T / 12)


def test_the_style_loss_falls(mnist: Inspector) -> None:
    content, style = image_for(mnist, "digits:3"), image_for(mnist, "digits:7")
    settings = StyleSettings("conv2", ("conv1", "conv2"), steps=25)
    result = transfer_style(mnist, content, style, settings)
    assert len(result.style_loss) == 26
    assert result.style_loss[-1] < result.style_loss[0] / 3
    assert result.content_loss[0] == 0  # it starts from the content image
    assert result.image.shape == (1, 28, 28)
    assert RANDOM_WEIGHTS_NOTE in result.notes


def test_gatys_layers_are_found_in_vgg16_by_structure() -> None:
    spec = load_preset("vgg16")
    analysis = analyze_model(spec)
    assert default_style_layers(spec, analysis) == (
        "relu4_2", ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"))
    assert default_dream_layer(spec, analysis) == "relu4_2"


def test_render_dream_and_style_write_pngs(tmp_path: Path) -> None:
    dream, style = tmp_path / "dream.png", tmp_path / "style.png"
    assert main(["render", "dream", "digits_small", "--image", "digits:3", "--octaves", "2",
                 "--steps", "3", "-o", str(dream)]) == 0
    assert main(["render", "style", "digits_small", "--content", "digits:3", "--style",
                 "digits:7", "--steps", "3", "-o", str(style)]) == 0
    import imageio.v3 as iio

    assert iio.imread(dream).shape[:2] == (600, 1400)
    assert iio.imread(style).shape[:2] == (600, 1600)


def test_render_style_names_a_wrong_layer_in_one_line(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    code = main(["render", "style", "digits_small", "--content", "digits:3", "--style",
                 "digits:7", "--style-layers", "relu1,fc", "-o", str(tmp_path / "s.png")])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert err.count("\n") == 0
    assert '"fc" is not a layer with feature maps' in err
    assert not (tmp_path / "s.png").exists()
