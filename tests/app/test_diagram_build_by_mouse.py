"""Done when (issue 19): an Inception module (four branches into one Concat) and a two-level
U-Net with skips are built on the diagram by dragging only, from File → New, with no name typed;
the model file holds them."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE
from core.model.spec import INPUT, ModelSpec, model_from_dict
from core.presets import load_preset
from tests.app.test_diagram_connect import drag, drop_at
from tests.app.waits import settle
from tests.app.window_driver import Answerer, menu_action


def new_window(qtbot: QtBot) -> MainWindow:
    window = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(window)
    window.set_font_size(0, BASE_POINT_SIZE)
    window.resize(1600, 900)
    window.show()
    settle()
    menu_action(window, "File → New").trigger()
    settle()
    assert window.document.spec.layers == ()
    return window


def empty_point(window: MainWindow) -> QPointF:
    """A point of the drawing with nothing on it (no block, label or connection near)."""
    view = window.diagram
    rect = view.scene_.sceneRect()
    step = 15.0
    y = rect.top() + 10
    while y < rect.bottom() - 10:
        x = rect.left() + 10
        while x < rect.right() - 10:
            if not view.scene_.items(QRectF(x - 12, y - 12, 24, 24)):
                return QPointF(x, y)
            x += step
        y += step
    raise AssertionError("no empty space in the drawing")


def drop_on(window: MainWindow, type_name: str, block: str) -> str:
    """Drop a palette item on ``block``: inserted right after it; returns the new layer."""
    drop_at(window, type_name, window.diagram.blocks[block].rect().center())
    return window.document.current


def branch(window: MainWindow, type_name: str, source: str) -> str:
    """Click ``source``, drop a palette item on empty space: a branch from it."""
    view = window.diagram
    view.centerOn(view.blocks[source])
    settle()
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     view.mapFromScene(view.blocks[source].rect().center()))
    settle()
    assert window.document.current == source
    drop_at(window, type_name, empty_point(window))
    return window.document.current


def same_padding(window: MainWindow) -> None:
    """Pick "same" in the current convolution's padding list (arrow keys, nothing typed)."""
    mode = window.editor.fields["padding"].mode  # type: ignore[union-attr]
    assert mode is not None
    mode.setFocus()
    while mode.currentText() != "same":
        QTest.keyClick(mode, Qt.Key.Key_Down)
    settle()


def concat_answer(box: QWidget, _answerer: Answerer) -> None:
    assert isinstance(box, QMessageBox)
    next(b for b in box.buttons() if b.text().startswith("Concat")).click()


def saved(window: MainWindow, path: Path) -> ModelSpec:
    window.document.save(path)
    return model_from_dict(json.loads(path.read_text()))


def test_an_inception_module_built_by_dragging_only(qtbot: QtBot, tmp_path: Path) -> None:
    window = new_window(qtbot)
    document = window.document
    stem = drop_on(window, "Conv2d", INPUT)
    ends = [branch(window, "Conv2d", stem) for _ in range(4)]
    # three branches get one more layer each, dropped on the branch's block
    ends[1] = drop_on(window, "ReLU", ends[1])
    ends[2] = drop_on(window, "BatchNorm2d", ends[2])
    ends[3] = drop_on(window, "ReLU", ends[3])
    last = document.spec.layers[-1].name
    concat = drop_on(window, "Concat", last)  # after the last block: it reads two branches
    assert document.spec.layer(concat).type == "Concat"
    for end in ends:
        if end not in document.spec.inputs_of(document.spec.index(concat)):
            drag(window, end, concat)  # the other branches' ports onto the Concat
    assert document.analysis.ok, document.analysis.error
    spec = saved(window, tmp_path / "inception.json")
    merge = spec.layer(concat)
    assert set(merge.inputs) == set(ends) and len(merge.inputs) == 4
    for end in ends:  # every branch is a chain of one-input layers back to the stem
        name = end
        while name != stem:
            reads = spec.inputs_of(spec.index(name))
            assert len(reads) == 1
            name = reads[0]
    assert document.analysis.output_shape == (64, 24, 24)
    view = window.diagram  # four lanes: the branch heads at one flow position, four places
    heads = [n for n in (layer.name for layer in spec.layers)
             if spec.inputs_of(spec.index(n)) == (stem,)]
    assert len(heads) == 4
    assert len({round(view.blocks[h].rect().center().y()) for h in heads}) == 4


def test_a_two_level_unet_with_skips_built_by_dragging_only(qtbot: QtBot, tmp_path: Path) -> None:
    window = new_window(qtbot)
    document = window.document
    chain: list[str] = []
    previous = INPUT
    for type_name in ("Conv2d", "MaxPool2d", "Conv2d", "MaxPool2d", "Conv2d",
                      "ConvTranspose2d", "Conv2d", "ConvTranspose2d", "Conv2d"):
        previous = drop_on(window, type_name, previous)
        if type_name == "Conv2d":
            same_padding(window)
        chain.append(previous)
    enc1, _p1, enc2, _p2, _bottom, up2, dec2, up1, dec1 = chain
    with Answerer(handlers=[(QMessageBox, concat_answer)]):
        drag(window, enc2, dec2)  # the skip: enc2 joins what dec2 reads, with a Concat
        drag(window, enc1, dec1)
    assert document.analysis.ok, document.analysis.error
    spec = saved(window, tmp_path / "unet.json")
    concats = [layer for layer in spec.layers if layer.type == "Concat"]
    assert [c.inputs for c in concats] == [(up2, enc2), (up1, enc1)]
    assert spec.layer(dec2).inputs == (concats[0].name,)
    assert spec.layer(dec1).inputs == (concats[1].name,)
    shapes = {info.name: info.output_shape for info in document.analysis.layers}
    assert shapes[concats[0].name] == (32, 14, 14) and shapes[concats[1].name] == (32, 28, 28)
    assert len(spec.layers) == 11
