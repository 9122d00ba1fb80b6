"""The Inspect tab never computes on the UI thread, shows progress and Cancel for slow work,
and follows the document's model, weights and run."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from pytestqt.qtbot import QtBot
from safetensors.torch import save_file

import app.inspect.session as session_module
from app.main_window import MainWindow
from core.inspect.render import overlay_rgb
from core.model.spec import model_from_dict
from tests.app.waits import CEILING_MS


def idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.inspect.busy, timeout=60_000)


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    return w


def test_showing_the_tab_builds_the_model_on_the_worker_with_progress_and_cancel(
        qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    built_on: list[threading.Thread] = []
    release = threading.Event()
    real_build = session_module._build

    def slow_build(key: Any) -> Any:
        built_on.append(threading.current_thread())
        release.wait(CEILING_MS / 1000)  # a big model: the window must keep running meanwhile
        return real_build(key)

    monkeypatch.setattr(session_module, "_build", slow_build)
    window.tabs.setCurrentWidget(window.inspect)  # returns while the build waits on a worker
    tab = window.inspect
    assert tab.busy
    qtbot.waitUntil(lambda: bool(built_on), timeout=CEILING_MS)
    assert built_on[0] is not threading.main_thread()
    qtbot.waitUntil(lambda: tab.busy_row.isVisible(), timeout=CEILING_MS)  # after ~200 ms
    assert tab.cancel_button.isVisible()
    tab.cancel_button.click()
    assert not tab.busy and not tab.busy_row.isVisible()
    assert tab.view("Filters").filter_pane.data is None  # the cancelled result never shows
    release.set()
    tab.refresh()
    idle(qtbot, window)
    assert built_on and all(t is not threading.main_thread() for t in built_on)
    assert tab.view("Filters").filter_pane.data is not None
    tab.stop_workers()


def test_gradcam_layer_choice_and_an_empty_map_said_in_words(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """A model whose last spatial layer (b = r − 10) has an empty Grad-CAM map for class 0."""
    spec = model_from_dict({
        "format": "convscope.model/1", "name": "cam", "input": {"shape": [1, 4, 4]},
        "layers": [{"name": "a", "type": "Conv2d", "out_channels": 1, "kernel_size": 1},
                   {"name": "r", "type": "ReLU"},
                   {"name": "b", "type": "Conv2d", "out_channels": 1, "kernel_size": 1},
                   {"name": "flat", "type": "Flatten"},
                   {"name": "fc", "type": "Linear", "out_features": 2}]})
    weights = tmp_path / "cam.safetensors"
    one = torch.ones(1, 1, 1, 1)
    save_file({"a.weight": one, "a.bias": torch.zeros(1), "b.weight": one.clone(),
               "b.bias": torch.full((1,), -10.0),
               "fc.weight": torch.cat([torch.ones(1, 16), -torch.ones(1, 16)]),
               "fc.bias": torch.zeros(2)}, str(weights))
    Image.new("L", (4, 4), 255).save(tmp_path / "white.png")
    window.document.load(spec, None, weights, None)
    tab = window.inspect
    tab.image_path = tmp_path / "white.png"
    tab.input_kind.setCurrentIndex(2)
    view = tab.view("Attributions")
    view.attr_target.setValue(0)
    tab.views.setCurrentWidget(view)
    window.tabs.setCurrentWidget(tab)
    idle(qtbot, window)
    assert tab.message.text() == ""
    assert "Grad-CAM on r (chosen automatically)" in view.attr_note.text()
    assert [view.attr_layer.itemText(i) for i in range(view.attr_layer.count())] == \
        ["automatic", "b", "r", "a"]
    view.attr_layer.setCurrentText("b")
    idle(qtbot, window)
    assert "The map is empty" in view.attr_note.text()
    shown = view._attr
    assert shown is not None
    np.testing.assert_allclose(view.attr_pane.data, overlay_rgb(shown["display"],
                                                                shown["heat"]))


def test_confusion_uses_the_runs_own_dataset_and_split_and_its_test_images(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    from dataclasses import replace

    from core.data.datasets import load_dataset
    from core.model.editing import set_param
    from core.presets import load_preset
    from core.train.engine import train
    from core.train.settings import Finished, TrainingSettings

    folder = tmp_path / "shapes"
    rng = np.random.default_rng(0)
    for index, name in enumerate(("dark", "mid", "bright")):
        (folder / name).mkdir(parents=True)
        for n in range(14):
            value = 40 + 80 * index + rng.integers(0, 30, (12, 12))
            Image.fromarray(value.astype(np.uint8)).save(folder / name / f"{n}.png")
    spec = set_param(load_preset("digits_small"), "fc", "out_features", 3)
    data = load_dataset(str(folder), spec.input_shape)
    settings = replace(TrainingSettings(), epochs=1, device="cpu")
    done = list(train(spec, data, settings, tmp_path / "runs"))[-1]
    assert isinstance(done, Finished)
    assert window.open_run(Path(done.run_dir))

    tab = window.inspect
    view = tab.view("Predictions")
    tab.views.setCurrentWidget(view)
    window.tabs.setCurrentWidget(tab)
    idle(qtbot, window)
    assert "shapes" in view.dataset_label.text()  # says which dataset
    view.split.setCurrentText("test")
    view.confusion_button.click()
    idle(qtbot, window)
    assert tab.message.text() == ""
    assert view.confusion.rowCount() == 3
    assert [view.confusion.horizontalHeaderItem(i).text() for i in range(3)] == \
        ["bright", "dark", "mid"]
    total = sum(int(view.confusion.item(r, c).text()) for r in range(3) for c in range(3))
    assert total == len(data.test)
    assert "test split" in view.confusion_note.text() and "shapes" in view.confusion_note.text()

    tab.input_kind.setCurrentIndex(3)  # the run's test images
    tab.run_index.setValue(1)
    idle(qtbot, window)
    assert tab.message.text() == ""
    assert "test image 1" in tab.input_note.text()
    assert view.top_k.rowCount() == 3


def test_the_runs_test_images_without_a_run_is_a_clear_message(qtbot: QtBot,
                                                               window: MainWindow) -> None:
    window.tabs.setCurrentWidget(window.inspect)
    window.inspect.views.setCurrentWidget(window.inspect.view("Activations"))
    window.inspect.input_kind.setCurrentIndex(3)
    idle(qtbot, window)
    assert window.inspect.message.text().startswith("no training run to take test images")


def test_edits_in_the_build_tab_leave_the_hidden_views_alone_until_shown(
        qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit repaints only what it changed: the hidden Inspect tab's views (layer lists,
    pictures) are brought up to date when the tab is shown, not on every edit (4 ms of each
    ResNet-152 edit went there)."""
    tab = window.inspect
    filters = tab.view("Filters")
    refilled: list[int] = []
    real_fill = filters.fill_layers
    monkeypatch.setattr(filters, "fill_layers", lambda a: (refilled.append(1), real_fill(a)))
    assert window.tabs.currentIndex() == 0 and not tab.isVisible()
    window.document.set_param("conv2", "out_channels", 24)
    window.document.rename_layer("conv3", "conv_last")
    assert refilled == []
    window.tabs.setCurrentWidget(tab)
    assert refilled == [1]
    names = [filters.filter_layer.itemText(i) for i in range(filters.filter_layer.count())]
    assert "conv_last" in names and "conv3" not in names
    idle(qtbot, window)
