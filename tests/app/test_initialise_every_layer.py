"""Edit → Initialise Every Layer (issue 20 §5): one scheme for the whole model in one undo step,
the per-layer choices dropped, biases at zero; into the model file and the built weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from core.build import build_model
from core.presets import load_preset
from tests.app.window_driver import menu_action

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
MENU = "Edit → Initialise Every Layer → "


def test_one_scheme_for_every_layer_is_one_undo_step(qtbot: QtBot, tmp_path: Path) -> None:
    window = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(window)
    window.show()
    document = window.document
    first, last = document.spec.layers[0].name, "fc"
    assert document.set_layer_init(first, "he_normal")  # a layer's own choice first
    steps = document.undo_stack.count()
    menu_action(window, MENU + "Glorot (Xavier) uniform").trigger()
    init = document.spec.init
    assert init is not None and init.weights == "glorot_uniform" and not init.layers
    assert document.undo_stack.count() == steps + 1
    assert "Initialise every layer" in document.undo_stack.undoText()
    window.editor.document.select(last)  # the property editor shows the model's scheme
    assert window.editor.init_box.currentData() == "glorot_uniform"
    menu_action(window, MENU + "Biases Start at Zero").trigger()
    assert document.spec.init is not None and document.spec.init.biases == "zeros"
    assert menu_action(window, MENU + "Biases Start at Zero").isChecked()
    assert menu_action(window, MENU + "Glorot (Xavier) uniform").isChecked()

    path = tmp_path / "glorot.json"
    document.save(path)
    saved = json.loads(path.read_text())["init"]
    assert saved == {"weights": "glorot_uniform", "biases": "zeros"}
    torch.manual_seed(0)
    model = build_model(document.spec)
    conv = model.layers[first]
    weight = conv.weight.detach()
    fan_in, fan_out = weight[0].numel(), weight.shape[0] * weight[0, 0].numel()
    bound = (6 / (fan_in + fan_out)) ** 0.5
    assert float(weight.abs().max()) <= bound + 1e-6
    assert float(weight.abs().max()) > 0.8 * bound  # uniform up to Glorot's bound
    assert torch.count_nonzero(conv.bias.detach()) == 0

    document.undo_stack.undo()  # biases back
    document.undo_stack.undo()  # the whole model's scheme back, the layer's own choice too
    init = document.spec.init
    assert init is not None and init.weights == "default" and init.layers == {first: "he_normal"}
    for scheme in ("torch default", "He (Kaiming) normal"):  # layers differ: no tick
        assert not menu_action(window, MENU + scheme).isChecked()
    menu_action(window, MENU + "torch default").trigger()
    assert document.spec.init is None  # nothing left to say: the file has no "init"
