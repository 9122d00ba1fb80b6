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


def test_suggest_accept_all_and_next_most_uncertain(qtbot: QtBot, window: MainWindow,
                                                    photos: Path) -> None:
    """The real model's proposals: accepting every one writes exactly its mask (its last
    layer made sure of class 1 everywhere: one region, the whole image)."""
    import torch

    from core.build import build_model
    from core.weights import save_weights

    tab = window.label
    window.open_preset("fcn_small")
    model = build_model(window.document.spec)
    convs = torch.nn.Conv2d | torch.nn.ConvTranspose2d
    last = [m for m in model.modules() if isinstance(m, convs)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([-50.0, 50.0, -50.0]))
    save_weights(model, photos.parent / "sure.safetensors")
    window.document.use_weights(photos.parent / "sure.safetensors", None)
    _open(qtbot, window, photos)
    tab.folder_row.suggest.click()
    qtbot.waitUntil(lambda: tab.help.here() is not None, timeout=CEILING_MS)
    here = tab.help.here()
    assert tab.help.list.count() == len(here.items) == 1  # one region: the whole image
    assert tab.folder_row.accept.isEnabled() and tab.folder_row.accept_all.isEnabled()
    regions = list(here.items)
    tab.folder_row.accept_all.click()
    item = tab.labels.images["leaf0.png"]
    assert tab.help.here() is None and tab.help.list.isHidden()
    assert len(tab.labels.classes) == 1  # the model's class that it proposed
    names = [c.name for c in tab.labels.classes]
    for proposal in regions:
        h, w = proposal.region.shape
        cut = item.mask[proposal.y0:proposal.y0 + h, proposal.x0:proposal.x0 + w]
        assert (cut[proposal.region] == names.index(here.classes[proposal.label]) + 1).all()
    assert int((item.mask > 0).sum()) == sum(p.pixels for p in regions)
    tab.tool_row.undo.click()  # accept all is one step: everything back
    assert not item.mask.any() and tab.help.list.count() == len(regions)
    tab.folder_row.accept_all.click()
    tab.folder_row.next_uncertain.click()
    qtbot.waitUntil(lambda: bool(tab.help.order), timeout=CEILING_MS)
    assert set(tab.help.order) <= {f"leaf{k}.png" for k in range(5)}
    qtbot.waitUntil(lambda: tab.current != "leaf0.png" or item.status == "unlabelled",
                    timeout=CEILING_MS)


@pytest.fixture
def proposed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model that proposes one box and two mask regions (a leaf and a stem)."""
    from app.label import model_help
    from core.labels.label_set import Box
    from core.labels.proposals import split
    from core.labels.suggest import Suggestion

    def job(*_args: object) -> object:
        mask = np.zeros((48, 64), np.uint8)
        mask[5:15, 20:40] = 1   # the leaf: 200 px
        mask[30:36, 50:56] = 2  # the stem: 36 px
        boxes = [Box(0, 2, 2, 12, 12)]
        return Suggestion(["leaf", "stem"], mask=mask, boxes=boxes), split(mask, boxes)

    monkeypatch.setattr(model_help, "suggest_job", job)


def test_each_proposal_is_accepted_or_rejected_on_its_own(qtbot: QtBot, window: MainWindow,
                                                          photos: Path, proposed: None) -> None:
    tab = window.label
    _open(qtbot, window, photos)
    item = tab.labels.images["leaf0.png"]
    tab.folder_row.suggest.click()
    qtbot.waitUntil(lambda: tab.help.here() is not None, timeout=CEILING_MS)
    rows = [tab.help.list.item(k).text() for k in range(tab.help.list.count())]
    assert rows == ["leaf: box 10×10 at (2, 2)", "leaf: region, 200 px", "stem: region, 36 px"]
    assert tab.help.list.currentRow() == 0  # the first is selected
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Return)  # Enter accepts the selected one
    assert [c.name for c in tab.labels.classes] == ["leaf"]
    assert [(b.label, b.x1, b.y2) for b in item.boxes] == [(0, 2, 12)]
    assert tab.help.list.count() == 2 and tab.help.list.currentRow() == 0  # the next one
    tab.tool_row.tools["box"].click()
    qtbot.mouseClick(tab.canvas, Qt.MouseButton.LeftButton,
                     pos=tab.canvas.to_screen(53, 33).toPoint())  # a click selects the stem
    assert tab.help.selected is tab.help.here().items[1]
    assert len(item.boxes) == 1  # the click drew no box
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Delete)  # Delete rejects it
    assert tab.help.list.count() == 1 and (item.mask is None or not item.mask.any())
    tab.folder_row.accept.click()  # the leaf region
    assert item.mask[10, 30] == 1 and int((item.mask > 0).sum()) == 200
    assert tab.help.here() is None and not tab.folder_row.accept.isEnabled()
    # each was one undo step, and undo puts the proposal back in the list
    tab.tool_row.undo.click()
    assert not item.mask.any() and tab.help.list.count() == 1
    tab.tool_row.undo.click()
    assert [tab.help.list.item(k).text() for k in range(2)] == [
        "leaf: region, 200 px", "stem: region, 36 px"]
    tab.tool_row.undo.click()
    assert item.boxes == [] and tab.help.list.count() == 3
    # the proposals stay with their image while another is looked at
    _show(qtbot, window, 1)
    assert tab.help.list.isHidden() and not tab.folder_row.accept_all.isEnabled()
    _show(qtbot, window, 0)
    assert tab.help.list.count() == 3
    tab.folder_row.reject_all.click()
    assert tab.help.here() is None and item.boxes == []
    tab.tool_row.undo.click()
    assert tab.help.list.count() == 3


def test_deleting_a_class_is_one_undo_step(qtbot: QtBot, window: MainWindow, photos: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    tab = window.label
    _open(qtbot, window, photos)
    for name in ("leaf", "stem", "soil"):
        tab.classes.add_named(name)
    first = tab.labels.images["leaf0.png"]
    tab.tool_row.tools["box"].click()
    for key, corner in ((Qt.Key.Key_2, (10, 10)), (Qt.Key.Key_3, (40, 30))):
        qtbot.keyClick(tab, key)
        x, y = corner
        drag(tab.canvas, [screen(tab, x, y), screen(tab, x + 12, y + 10)])
    tab.tool_row.tools["brush"].click()
    tab.tool_row.brush_size.setValue(int(6 * tab.canvas.zoom))
    for key, row in ((Qt.Key.Key_2, 20), (Qt.Key.Key_3, 40)):
        qtbot.keyClick(tab, key)
        drag(tab.canvas, [screen(tab, 10, row), screen(tab, 50, row)])
    _show(qtbot, window, 1)
    second = tab.labels.images["leaf1.png"]
    tab.tool_row.tools["box"].click()
    qtbot.keyClick(tab, Qt.Key.Key_2)
    drag(tab.canvas, [screen(tab, 5, 5), screen(tab, 25, 25)])  # the only label: a stem
    assert second.status == "labelled"
    _show(qtbot, window, 0)
    before = (first.mask.copy(), [vars(b) for b in first.boxes])
    assert set(np.unique(first.mask)) == {0, 2, 3}
    asked: list[str] = []

    def question(_parent: object, _title: str, text: str, *_a: object) -> object:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    tab.classes.pick(1)
    tab.classes.buttons["Delete"].click()
    assert "2 boxes" in asked[0] and "in 2 images" in asked[0] and "Undo" in asked[0]
    assert [c.name for c in tab.labels.classes] == ["leaf", "soil"]
    assert [b.label for b in first.boxes] == [1] and set(np.unique(first.mask)) == {0, 2}
    assert second.boxes == [] and second.status == "unlabelled"
    assert tab.stacks["leaf1.png"].count() == 0  # its steps held the old numbers
    tab.tool_row.undo.click()  # one step brings the class back with every label
    assert [c.name for c in tab.labels.classes] == ["leaf", "stem", "soil"]
    assert np.array_equal(first.mask, before[0])
    assert [vars(b) for b in first.boxes] == before[1]
    assert [b.label for b in second.boxes] == [1] and second.status == "labelled"
    tab.tool_row.redo.click()
    assert [c.name for c in tab.labels.classes] == ["leaf", "soil"] and second.boxes == []


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


@pytest.mark.parametrize(("width", "height", "text"), [(1366, 768, "normal"),
                                                        (1920, 1080, "projector")])
def test_a_folder_with_proposals_fits_and_reads(qtbot: QtBot, photos: Path, proposed: None,
                                               monkeypatch: pytest.MonkeyPatch, width: int,
                                               height: int, text: str) -> None:
    """The Label tab with a folder, classes and the model's proposals shown passes the layout
    checks of every other page (nothing cut, nothing off the page, text that contrasts)."""
    from PySide6.QtCore import QRect

    from app.style import BASE_POINT_SIZE, apply_theme
    from tests.app.layout_checks import every_fault, settle
    from tests.app.window_driver import menu_action

    monkeypatch.setattr(MainWindow, "available_screen", lambda self: QRect(0, 0, width, height))
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(width, height)
    w.show()
    try:
        if text == "projector":
            menu_action(w, "View → Projector Text (24 pt)").trigger()
            w.resize(width, height)
        w.tabs.setCurrentWidget(w.label)
        tab = w.label
        with qtbot.waitSignal(tab.shown, timeout=CEILING_MS):
            tab.open_path(photos)
        tab.classes.add_named("leaf")
        tab.folder_row.suggest.click()
        qtbot.waitUntil(lambda: tab.help.here() is not None, timeout=CEILING_MS)
        settle()
        assert every_fault(w) == []
        rows = tab.help.list.height() / tab.help.list.sizeHintForRow(0)
        assert rows >= (4 if text == "normal" else 2.5), rows  # at 24 pt the photo comes first
    finally:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        apply_theme(app, False, BASE_POINT_SIZE)


@pytest.mark.parametrize("dark", [False, True])
def test_the_empty_canvas_says_what_to_do_in_readable_contrast(window: MainWindow,
                                                               dark: bool) -> None:
    """Before a folder is open the canvas's hint was drawn in the disabled text colour: grey on
    grey, 1.6:1 in the light theme (seen in the layout matrix's pictures)."""
    from PySide6.QtGui import QColor

    from tests.app.layout_checks import contrast
    from tests.app.window_driver import menu_action

    if dark:
        menu_action(window, "View → Dark Theme").trigger()
    QApplication.processEvents()
    canvas = window.label.canvas
    assert not canvas.isEnabled()  # no image yet
    image = canvas.grab().toImage()
    back = image.pixelColor(2, 2)
    # the hint's ink: the pixel on the centre line that differs most from the background
    y = image.height() // 2
    ink = max((image.pixelColor(x, yy) for x in range(image.width())
               for yy in range(y - 8, y + 9)), key=lambda c: contrast(c, back))
    assert contrast(ink, back) >= 4.5, (QColor(ink).name(), QColor(back).name())
    if dark:
        menu_action(window, "View → Dark Theme").trigger()
