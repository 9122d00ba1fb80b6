"""A Linear layer that reads the image drawn as class templates (lecture 001's linear model)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.analysis.model_analysis import analyze_model
from core.inspect.inspector import InspectError, Inspector
from core.inspect.templates import template_shape
from core.model.spec import model_from_dict
from core.presets import load_preset
from core.train.checkpoint import open_run
from core.train.engine import train
from core.train.settings import Finished, TrainingSettings


def _model(shape: list[int], layers: list[dict[str, object]]) -> object:
    return model_from_dict({"format": "convscope.model/1", "name": "m", "input": {"shape": shape},
                            "layers": layers})


@pytest.fixture(scope="module")
def trained_linear(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from core.data.datasets import load_digits_dataset

    out = tmp_path_factory.mktemp("runs")
    settings = replace(TrainingSettings(), epochs=6, device="cpu")
    done = list(train(load_preset("linear_digits"), load_digits_dataset(), settings, out))[-1]
    assert isinstance(done, Finished)
    return Path(done.run_dir)


def test_which_linear_layers_read_the_image() -> None:
    assert template_shape(analyze_model(load_preset("linear_digits")), "scores") == (1, 8, 8)
    assert template_shape(analyze_model(load_preset("linear_cifar10")), "scores") == (3, 32, 32)
    assert template_shape(analyze_model(load_preset("digits_small")), "fc") is None  # reads GAP
    flat, keep, fc, fc2 = ({"name": "f", "type": "Flatten"}, {"name": "d", "type": "Dropout"},
                           {"name": "fc", "type": "Linear", "out_features": 5},
                           {"name": "fc2", "type": "Linear", "out_features": 3})
    after = analyze_model(_model([3, 4, 4], [{"name": "r", "type": "ReLU"}, flat, keep, fc, fc2]))
    assert template_shape(after, "fc") == (3, 4, 4)  # shape-preserving layers either side
    assert template_shape(after, "fc2") is None  # reads fc's units, not pixels
    conv = analyze_model(_model([1, 6, 6], [{"name": "c", "type": "Conv2d", "out_channels": 2,
                                             "kernel_size": 3}, flat, fc]))
    assert template_shape(conv, "fc") is None
    on_rows = analyze_model(_model([1, 6, 6], [fc]))  # weighs the last axis only
    assert template_shape(on_rows, "fc") is None


def test_trained_templates_look_like_their_digits(trained_linear: Path) -> None:
    from core.data.datasets import load_digits_dataset

    run = open_run(trained_linear)
    inspector = Inspector(run.spec, run.weights, run.state)
    grid = inspector.filters("scores")
    assert grid.kernels.shape == (10, 1, 8, 8) and not grid.color
    assert grid.titles == tuple(inspector.classes) and len(grid.titles) == 10
    assert grid.vmin == -grid.vmax  # one symmetric scale for all templates
    digits = load_digits_dataset()
    images = digits.train.images.float().reshape(len(digits.train), -1).numpy()
    labels = digits.train.labels.numpy()
    centred = images - images.mean(axis=0)
    t = grid.kernels.reshape(10, -1)
    for k in (0, 1):
        mean_k = centred[labels == k].mean(axis=0)
        scores = [float(np.corrcoef(t[j], mean_k)[0, 1]) for j in range(10)]
        assert scores[k] > 0.4 and int(np.argmax(scores)) == k, scores
    assert float(np.corrcoef(t[0], t[1])[0, 1]) < 0.3  # 0 and 1 differ visibly


def test_cli_renders_templates_and_refuses_other_layers(
        trained_linear: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main

    out = tmp_path / "templates.png"
    assert main(["render", "filters", "linear_digits", "--weights", str(trained_linear),
                 "--layer", "scores", "-o", str(out), "--size", "900x600"]) == 0
    assert Image.open(out).size == (900, 600)
    capsys.readouterr()
    assert main(["render", "filters", "linear_digits", "--layer", "flatten",
                 "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "a Linear that reads the image" in err and "choose one of: scores" in err
    assert err.count("\n") == 1 and not (tmp_path / "x.png").exists()
    with pytest.raises(InspectError, match=r"choose one of: conv1, conv2, conv3$"):
        Inspector(load_preset("digits_small")).filters("fc")
