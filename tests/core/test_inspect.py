"""Looking inside: filters, activations, attributions, predictions, channel images."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from core.data.adapt import BatchPreparer
from core.data.datasets import Dataset
from core.inspect import render
from core.inspect.inputs import ModelInput, fit_image, read_image
from core.inspect.inspector import InspectError, Inspector, confusion
from core.model.spec import model_from_dict
from core.presets import load_preset
from core.train.checkpoint import open_run
from core.train.engine import train
from core.train.settings import Finished, TrainingSettings

# its module-scoped fixture trains: the module runs on one xdist worker, which trains once
pytestmark = pytest.mark.xdist_group("test_inspect")

LECTURE_IMAGE = [[1, 2, 3, 1, 3, 5], [2, 2, 5, 4, 2, 5], [0, 6, 9, 6, 2, 2],
                 [2, 0, 1, 9, 4, 0], [5, 5, 4, 6, 7, 6], [6, 1, 3, 7, 1, 5]]
VERTICAL_EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
# The lecture's 6×6 output, checked by hand: it prints 11 at row 4, column 1 (the window there
# is 0−6 + 0−0 + 0−5 = −11) and 10 at row 5, column 5 (6−0 + 7−0 + 1−3 … = 11).
CORRECT_OUTPUT = [[-4, -5, -1, 3, -5, 5], [-10, -14, -1, 10, -1, 7],
                  [-8, -11, -11, 7, 12, 8], [-11, -7, -10, 1, 13, 13],
                  [-6, 5, -16, -4, 11, 12], [-6, 4, -7, -1, 2, 8]]


@pytest.fixture(scope="module")
def trained_digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from core.data.datasets import load_digits_dataset

    out = tmp_path_factory.mktemp("runs")
    settings = replace(TrainingSettings(), epochs=8, device="cpu")
    done = list(train(load_preset("digits_small"), load_digits_dataset(), settings, out))[-1]
    assert isinstance(done, Finished)
    return Path(done.run_dir)


def edge_inspector(tmp_path: Path) -> Inspector:
    spec = model_from_dict({
        "format": "convscope.model/1", "name": "edge", "input": {"shape": [1, 6, 6]},
        "layers": [{"name": "edge", "type": "Conv2d", "out_channels": 1, "kernel_size": 3,
                    "padding": 1, "bias": False}]})
    weights = tmp_path / "edge.safetensors"
    save_file({"edge.weight": torch.tensor(VERTICAL_EDGE, dtype=torch.float32)[None, None]},
              str(weights))
    return Inspector(spec, weights)


def test_the_lectures_vertical_edge_filter_and_its_6x6_output(tmp_path: Path) -> None:
    inspector = edge_inspector(tmp_path)
    grid = inspector.filters("edge")
    assert grid.kernels.shape == (1, 1, 3, 3) and not grid.color
    assert grid.kernels[0, 0].tolist() == VERTICAL_EDGE
    assert (grid.vmin, grid.vmax) == (-1.0, 1.0)
    x = torch.tensor(LECTURE_IMAGE, dtype=torch.float32)[None, None]
    lecture_input = ModelInput(x, x[0].numpy() / 9, "the lecture's 6×6 image")
    out = inspector.activation("edge", lecture_input)
    assert out.shape == (1, 6, 6)
    assert out[0].astype(int).tolist() == CORRECT_OUTPUT
    png = render.save_png(render.filters_figure(grid, "vertical edge"), tmp_path / "f.png")
    assert Image.open(png).size == (1200, 900)


def test_activation_grids_equal_the_tensors_captured_by_hooks(trained_digits: Path) -> None:
    run = open_run(trained_digits)
    inspector = Inspector(run.spec, run.weights, run.state)
    captured: dict[str, torch.Tensor] = {}
    for name, module in inspector.model.layers.items():
        module.register_forward_hook(lambda _m, _i, o, n=name: captured.__setitem__(n, o))
    image, text = torch.randint(0, 256, (1, 8, 8), dtype=torch.uint8), "noise"
    inp = inspector.prepare(image, text)
    values = inspector.activations(inp)
    assert set(values) == set(captured)
    for name, tensor in values.items():
        assert torch.equal(tensor, captured[name][0]), name
    np.testing.assert_array_equal(inspector.activation("conv2", inp), captured["conv2"][0])


def test_gradcam_mass_lies_on_the_digit_over_the_test_split(trained_digits: Path,
                                                            digits: Dataset) -> None:
    run = open_run(trained_digits)
    inspector = Inspector(run.spec, run.weights, run.state)
    inside = outside = 0.0
    ink_pixels = 0
    for image in digits.test.images:
        inp = inspector.prepare(image, "digit")
        heat, _, layer = inspector.gradcam(inp)
        digit = inp.display[0] > 0  # the digit's pixels: any ink
        inside += float(heat[digit].sum())
        outside += float(heat[~digit].sum())
        ink_pixels += int(digit.sum())
    assert layer == "relu3"
    assert inside > outside, (inside, outside)
    # and not only because digits cover half the image: per pixel, more lies on the ink
    blank_pixels = 64 * len(digits.test) - ink_pixels
    assert inside / ink_pixels > 1.2 * outside / blank_pixels


def test_saliency_occlusion_and_top_k(trained_digits: Path, digits: Dataset) -> None:
    run = open_run(trained_digits)
    inspector = Inspector(run.spec, run.weights, run.state)
    inp = inspector.prepare(digits.test.images[0], "digit")
    top = inspector.top_k(inp, 3)
    assert len(top) == 3 and top[0].probability >= top[1].probability
    assert abs(sum(float(p) for p in inspector.probabilities(inp.tensor)[0]) - 1) < 1e-5
    assert top[0].label == str(int(digits.test.labels[0]))
    for heat, _ in (inspector.saliency(inp), inspector.occlusion(inp)):
        assert heat.shape == (8, 8) and heat.min() >= 0 and heat.max() <= 1
    with pytest.raises(InspectError, match="class 12 does not exist"):
        inspector.saliency(inp, target=12)


def test_confusion_matrix_cells_list_the_misclassified(trained_digits: Path,
                                                       digits: Dataset) -> None:
    run = open_run(trained_digits)
    inspector = Inspector(run.spec, run.weights, run.state)
    prepare = BatchPreparer(digits, run.spec.input_shape)
    prepare.mean, prepare.std = torch.tensor(run.state.mean), torch.tensor(run.state.std)
    matrix, cells = confusion(inspector, digits.val.images, digits.val.labels, prepare)
    assert matrix.shape == (10, 10) and matrix.sum() == len(digits.val)
    assert np.trace(matrix) / matrix.sum() > 0.9
    for (truth, predicted), indices in cells.items():
        assert matrix[truth, predicted] == len(indices)
        assert all(int(digits.val.labels[i]) == truth for i in indices)


def test_activation_maximisation_excites_its_channel_and_can_be_cancelled(
        trained_digits: Path) -> None:
    run = open_run(trained_digits)
    inspector = Inspector(run.spec, run.weights, run.state)
    steps_seen: list[int] = []
    image = inspector.maximize("conv3", 5, steps=40,
                               progress=lambda s, n: steps_seen.append(s) or True)
    assert image.shape == (1, 8, 8) and steps_seen[-1] == 40
    dreamed = torch.tensor(image)[None] * 2 - 1
    noise = torch.rand(1, 1, 8, 8) * 2 - 1
    with torch.no_grad():
        a = inspector.model.forward_all(dreamed)["conv3"][0, 5].mean()
        b = inspector.model.forward_all(noise)["conv3"][0, 5].mean()
    assert a > b
    calls: list[int] = []
    inspector.maximize("conv3", 5, steps=100, progress=lambda s, n: calls.append(s) or s < 3)
    assert max(calls) < 100


def test_any_image_is_converted_and_the_conversion_is_stated(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    Image.new("RGBA", (300, 200), (200, 10, 10, 255)).save(path)
    image, text = read_image(path)
    assert "300 wide × 200 high, RGBA" in text
    inp = fit_image(image, (1, 8, 8), None, None, text)
    assert inp.tensor.shape == (1, 1, 8, 8)
    assert inp.notes[:2] == ["converted to grayscale", "resized from 300 wide × 200 high to 8 × 8"]
    assert "mean 0.5" in inp.notes[2]


def test_16_bit_images_keep_their_range(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    gradient = np.tile(np.linspace(0, 65535, 64, dtype=np.uint16), (16, 1))
    Image.fromarray(gradient).save(path)
    image, _ = read_image(path)
    assert image.shape == (1, 16, 64)
    assert int(image.min()) == 0 and int(image.max()) == 255
    assert len(set(image[0, 0].tolist())) > 50  # a gradient, not clipped to white


def test_a_single_output_model_is_explained_for_either_class() -> None:
    spec = model_from_dict({
        "format": "convscope.model/1", "name": "binary", "input": {"shape": [3, 16, 16]},
        "layers": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3},
                   {"type": "ReLU"}, {"type": "Flatten"},
                   {"type": "Linear", "out_features": 1}, {"type": "Sigmoid"}]})
    inspector = Inspector(spec)
    assert inspector.classes == ["0", "1"]
    inp = inspector.prepare(torch.randint(0, 256, (3, 16, 16), dtype=torch.uint8), "noise")
    probs = inspector.probabilities(inp.tensor)[0]
    assert inspector.target_for(inp, None) == int(probs.argmax())
    for target in (0, 1):
        heat, cls = inspector.saliency(inp, target)
        assert cls == target and heat.shape == (16, 16)
    a, _, _ = inspector.gradcam(inp, 0)
    b, _, _ = inspector.gradcam(inp, 1)
    assert not np.array_equal(a, b)  # evidence for "0" is not evidence for "1"


def test_views_refuse_bad_layers_with_the_valid_choices() -> None:
    inspector = Inspector(load_preset("digits_small"))
    assert inspector.weights_note == "random initial weights (untrained)"
    with pytest.raises(InspectError, match="choose one of: conv1, conv2, conv3"):
        inspector.filters("relu1")
    with pytest.raises(InspectError, match="input channel 40 does not exist: conv2 has 16"):
        inspector.filters("conv2", 40)
    rgb = Inspector(load_preset("alexnet"))
    grid = rgb.filters("conv1")
    assert grid.color and grid.kernels.shape == (64, 3, 11, 11)


def _render(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``convscope render ARGS`` in this process (a fresh one costs a torch import each):
    the exit code and what it wrote on stderr."""
    from core.cli import main

    try:
        code = main(["render", *args])
    except SystemExit as exc:  # argparse refusing the arguments
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def test_cli_renders_at_the_chosen_size_and_refuses_bad_input(
        tmp_path: Path, trained_digits: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cam.png"
    ok = subprocess.run([sys.executable, "-m", "core.cli", "render", "gradcam", "digits_small",
                         "--weights", str(trained_digits), "--image", "digits:5", "-o", str(out),
                         "--size", "800x500"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert Image.open(out).size == (800, 500)
    for args, words in ((["filters", "digits_small", "--layer", "pool1"], "conv1, conv2, conv3"),
                        (["activations", "digits_small", "--layer", "fc", "--image",
                          str(tmp_path / "none.png")], "no such image file"),
                        (["activations", "digits_small", "--layer", "zz", "--image", "camera"],
                         "choose one of: conv1, bn1"),
                        (["activations", "digits_small", "--layer", "fc", "--image",
                          "digits:-1"], "N from 0 to 269")):
        code, err = _render([*args, "-o", str(tmp_path / "x.png")], capsys)
        assert code == 2 and err.count("\n") == 1 and words in err, (code, err)
    for target, words in ((tmp_path, "is a folder"), (tmp_path / "x.txt", "ending in .png")):
        code, err = _render(["filters", "digits_small", "--layer", "conv1", "-o", str(target)],
                            capsys)
        assert code == 2 and words in err, (code, err)


def test_gradcam_chooses_the_last_layer_whose_map_is_not_empty() -> None:
    """b = r − 10 is negative where the class score rises with it: its Grad-CAM map is empty.
    The automatic layer is then r, whose map is not; a chosen layer is used as chosen."""
    spec = model_from_dict({
        "format": "convscope.model/1", "name": "cam", "input": {"shape": [1, 4, 4]},
        "layers": [{"name": "a", "type": "Conv2d", "out_channels": 1, "kernel_size": 1},
                   {"name": "r", "type": "ReLU"},
                   {"name": "b", "type": "Conv2d", "out_channels": 1, "kernel_size": 1},
                   {"name": "flat", "type": "Flatten"},
                   {"name": "fc", "type": "Linear", "out_features": 2}]})
    inspector = Inspector(spec)
    layers = inspector.model.layers
    with torch.no_grad():
        for name, bias in (("a", 0.0), ("b", -10.0)):
            layers[name].weight.fill_(1.0)
            layers[name].bias.fill_(bias)
        layers["fc"].weight[0].fill_(1.0)
        layers["fc"].weight[1].fill_(-1.0)
        layers["fc"].bias.zero_()
    x = torch.rand(1, 1, 4, 4) + 0.1
    inp = ModelInput(x, x[0].numpy(), "test")
    assert inspector.gradcam_layer() == "b"  # without an input: the last spatial layer
    heat, cls, layer = inspector.gradcam(inp, 0)
    assert (cls, layer) == (0, "r")
    assert heat.max() == pytest.approx(1.0)
    empty, _, chosen = inspector.gradcam(inp, 0, "b")
    assert chosen == "b" and not empty.any()


def test_the_gui_and_the_command_line_draw_one_attribution_picture() -> None:
    display = np.random.default_rng(0).random((3, 8, 8)).astype(np.float32)
    heat = np.random.default_rng(1).random((8, 8)).astype(np.float32)
    fig = render.overlay_figure(display, heat, "t")
    drawn = fig.axes[1].images[0].get_array()
    np.testing.assert_allclose(np.asarray(drawn), render.overlay_rgb(display, heat))


def test_run_sources_are_parsed_and_checked_in_one_place() -> None:
    from core.data.errors import DataError
    from core.inspect.inputs import run_split_item

    dataset, split, part, index = run_split_item("run:digit-scenes:n=64:test:3", (1, 64, 64))
    assert (dataset, split, index) == ("digit-scenes:n=64", "test", 3)
    assert part.masks is not None and tuple(part.masks[index].shape) == (64, 64)
    for bad, message in (("run:", "no training run"),
                         ("run:digit-scenes:n=64:test:x", "is not run:"),
                         ("run:digit-scenes:n=64:holdout:1", "unknown split"),
                         ("run:digit-scenes:n=64:test:999", "choose 0 to 63")):
        with pytest.raises(DataError, match=message):
            run_split_item(bad, (1, 64, 64))
