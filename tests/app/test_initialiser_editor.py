"""The per-layer weight initialiser in the property editor (issue 20 item 5): the choice goes
into the model file, survives save and load, follows a rename, and is written into the
exported PyTorch code."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from core.io.pytorch_code import pytorch_source
from core.model.spec import load_model, save_model
from core.presets import load_preset


def test_the_initialiser_chosen_in_properties_reaches_the_file_and_the_code(
        qtbot: QtBot, tmp_path: Path) -> None:
    w = MainWindow(load_preset("lenet5"))
    qtbot.addWidget(w)
    conv = w.document.spec.layers[0].name
    w.document.select(conv)
    box = w.editor.init_box
    assert box.isEnabled() and box.currentData() == "default"
    box.setCurrentIndex(box.findData("glorot_uniform"))
    assert w.document.spec.init is not None
    assert w.document.spec.init.scheme_for(conv) == "glorot_uniform"
    path = tmp_path / "m.json"
    save_model(w.document.spec, path)
    assert load_model(path).init == w.document.spec.init
    assert "nn.init.xavier_uniform_" in pytorch_source(w.document.spec)
    w.editor.name_edit.setText("first_conv")
    w.editor.name_edit.editingFinished.emit()
    assert w.document.spec.init.scheme_for("first_conv") == "glorot_uniform"
    assert w.editor.init_box.currentData() == "glorot_uniform"
    box.setCurrentIndex(box.findData("default"))  # back to the model's: no init left
    assert w.document.spec.init is None
