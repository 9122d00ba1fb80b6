"""The Label tab as a user drives it: open a folder, add classes, draw boxes and paint a mask
with the mouse, undo, nudge, save, reopen, and train one epoch on the labelled images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QInputDialog
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from core.labels.label_folder import LABEL_FILE, VOC_FOLDER
from core.train.settings import Finished

CEILING_MS = 120_000


def _mouse(widget: object, kind: QEvent.Type, at: QPointF, button: Qt.MouseButton,
           buttons: Qt.MouseButton) -> None:
    event = QMouseEvent(kind, at, widget.mapToGlobal(at), button, buttons,  # type: ignore
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)  # type: ignore[arg-type]


def drag(widget: object, points: list[tuple[float, float]]) -> None:
    left = Qt.MouseButton.LeftButton
    _mouse(widget, QEvent.Type.MouseButtonPress, QPointF(*points[0]), left, left)
    for p in points[1:]:
        _mouse(widget, QEvent.Type.MouseMove, QPointF(*p), Qt.MouseButton.NoButton, left)
    _mouse(widget, QEvent.Type.MouseButtonRelease, QPointF(*points[-1]), left,
           Qt.MouseButton.NoButton)


def screen(tab: object, x: float, y: float) -> tuple[float, float]:
    p = tab.canvas.to_screen(x, y)  # type: ignore[attr-defined]
    return p.x(), p.y()


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for k in range(5):
        image = rng.integers(0, 60, (48, 64, 3), dtype=np.uint8)
        image[10:30, 20:44] = 220
        Image.fromarray(image).save(folder / f"leaf{k}.png")
    return folder


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.training.out_dir = tmp_path / "runs"
    w.resize(1366, 768)
    w.show()
    w.tabs.setCurrentWidget(w.label)
    return w


def _open(qtbot: QtBot, window: MainWindow, folder: Path) -> None:
    tab = window.label
    with qtbot.waitSignal(tab.shown, timeout=CEILING_MS):
        tab.open_path(folder)


def _show(qtbot: QtBot, window: MainWindow, row: int) -> None:
    tab = window.label
    with qtbot.waitSignal(tab.shown, timeout=CEILING_MS):
        item = tab.thumbnails.item(row)
        rect = tab.thumbnails.visualItemRect(item)
        qtbot.mouseClick(tab.thumbnails.viewport(), Qt.MouseButton.LeftButton,
                         pos=rect.center())


def test_draw_paint_undo_save_reopen_and_train(qtbot: QtBot, window: MainWindow, photos: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    tab = window.label
    window.open_preset("fcn_small")  # background + 2 classes: a model the labels fit
    _open(qtbot, window, photos)
    names = iter(["leaf", "stone"])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (next(names), True))
    tab.classes.buttons["Add"].click()
    tab.classes.buttons["Add"].click()
    assert [c.name for c in tab.labels.classes] == ["leaf", "stone"]
    qtbot.keyClick(tab, Qt.Key.Key_1)  # keys 1–9 pick a class
    assert tab.canvas.current_class == 0
    for row in range(5):
        if row:
            _show(qtbot, window, row)
        tab.tool_row.tools["box"].click()
        drag(tab.canvas, [screen(tab, 20, 10), screen(tab, 30, 20), screen(tab, 44, 30)])
        item = tab.labels.images[f"leaf{row}.png"]
        assert len(item.boxes) == 1
        box = item.boxes[0]
        assert abs(box.x1 - 20) < 1 and abs(box.y2 - 30) < 1
        tab.tool_row.tools["brush"].click()
        tab.tool_row.brush_size.setValue(int(6 * tab.canvas.zoom))
        drag(tab.canvas, [screen(tab, 22, 20), screen(tab, 32, 20), screen(tab, 42, 20)])
        assert item.mask is not None and item.mask[20, 32] == 1 and item.mask[40, 5] == 0
        assert item.status == "labelled"
        assert "●" in tab.thumbnails.item(row).text()
    # one stroke is one undo step; Ctrl+Z on the Label tab undoes the labels, not the model
    item = tab.labels.images["leaf4.png"]
    tab.canvas.setFocus()
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not item.mask.any()
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert item.mask[20, 32] == 1
    tab.tool_row.tools["box"].click()
    drag(tab.canvas, [screen(tab, 30, 20), screen(tab, 30, 20)])  # select the box
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Right)
    assert abs(item.boxes[0].x1 - 21) < 1
    tab.folder_row.status.setCurrentText("reviewed")
    tab.folder_row.status.activated.emit(2)
    with qtbot.waitSignal(tab.saved, timeout=CEILING_MS):
        tab.folder_row.save.click()
    assert (photos / LABEL_FILE).is_file() and (photos / VOC_FOLDER / "SegmentationClass"
                                                / "leaf0.png").is_file()
    expected = {n: (i.mask.copy(), [vars(b) for b in i.boxes])
                for n, i in tab.labels.images.items()}
    _open(qtbot, window, photos)  # reopen: everything back
    for name, (mask, boxes) in expected.items():
        again = tab.labels.images[name]
        assert np.array_equal(again.mask, mask)
        assert [vars(b) for b in again.boxes] == [pytest.approx(b, abs=0.01) for b in boxes]
    assert tab.labels.images["leaf4.png"].status == "reviewed"
    panel = window.training
    with qtbot.waitSignal(tab.train_requested, timeout=CEILING_MS):
        tab.folder_row.train.click()
    assert window.tabs.currentWidget() is panel
    assert panel.form.dataset.currentText() == str(photos / LABEL_FILE)
    panel.form.epochs.setValue(1)
    with qtbot.waitSignal(panel.run_finished, timeout=CEILING_MS) as finished:
        panel.controls.start_button.click()
    assert isinstance(finished.args[0], Finished), finished.args[0]


def test_suggest_accept_and_next_most_uncertain(qtbot: QtBot, window: MainWindow,
                                                photos: Path) -> None:
    tab = window.label
    window.open_preset("fcn_small")
    _open(qtbot, window, photos)
    tab.folder_row.suggest.click()
    qtbot.waitUntil(lambda: tab.suggestion is not None, timeout=CEILING_MS)
    assert tab.folder_row.accept.isEnabled()
    tab.folder_row.accept.click()
    item = tab.labels.images["leaf0.png"]
    assert tab.suggestion is None and len(tab.labels.classes) == 2  # the model's classes
    assert item.mask is not None
    tab.folder_row.next_uncertain.click()
    qtbot.waitUntil(lambda: bool(tab.order), timeout=CEILING_MS)
    assert set(tab.order) <= {f"leaf{k}.png" for k in range(5)}
    qtbot.waitUntil(lambda: tab.current != "leaf0.png" or item.status == "unlabelled",
                    timeout=CEILING_MS)


def test_closing_the_window_saves_the_last_edits(qtbot: QtBot, window: MainWindow,
                                                 photos: Path) -> None:
    tab = window.label
    _open(qtbot, window, photos)
    tab.classes.add_named("leaf")
    tab.tool_row.tools["box"].click()
    drag(tab.canvas, [screen(tab, 10, 10), screen(tab, 30, 25)])
    assert tab.autosave.isActive() and not (photos / LABEL_FILE).exists()
    with qtbot.waitSignal(window.closed, timeout=CEILING_MS):
        window.close()
    from core.labels.label_folder import open_labels

    assert len(open_labels(photos).images["leaf0.png"].boxes) == 1
