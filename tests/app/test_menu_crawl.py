"""Every menu item of the main window, triggered on the states a user meets: the default model, a
trained segmentation and detection run, an imported model with weights, a reopened trained run,
and after presentation mode. Every dialog an item opens is answered; the crawl fails on any
exception that reaches Qt (pytest-qt's capture, on), any warning from our code (pyproject makes
those errors), a view that fails on its worker, or a "Cannot …" message on a good input."""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
    QPushButton,
    QToolButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.inspect.dream import DreamView
from app.inspect.maximization import MaximizationView
from app.inspect.style import StyleView
from app.io_dialogs import ExportDialog, ImportDialog
from app.main_window import MainWindow
from core.model.spec import ModelSpec
from core.presets import DEFAULT_PRESET, load_preset
from tests.app.window_driver import Answerer, menu_action, menu_actions

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

OK = QDialogButtonBox.StandardButton.Ok

ONCE = ("File → New", "File → Open…", "File → Open Recent", "File → Presets", "Lessons → ")
"""Items crawled on the last state ("after presentation mode") only: those that replace the
whole model (what they do does not depend on the state they start from: each of them, every
preset, lesson and recent file), and the lessons' slide export (seconds of slides each time)."""
HANDLED_APART = {
    "File → Quit": "closes the window: triggered last, checked to close it",
    "View → Present": "full-screen presentation mode: entered, checked, left with Esc",
}
CANCELLED = {
    "Lessons → Export Step-Through Row as Slides…": "writes up to 64 1920×1080 slides (over "
    "two minutes on a loaded machine): its folder dialog is cancelled; Export Lesson Slides "
    "writes slides through the same worker",
}
SLOW_BUTTONS = {
    "Start": "trains: run once on the default model with 1 epoch, waited for",
    "Play": "steps on a timer until pressed again: pressed twice",
}


def item(path: str) -> str:
    """A menu item by what it is: "Edit → Undo" whatever edit it would undo, one "Open Recent"
    item whichever file it opens (the list grows as the crawl saves and opens files)."""
    path = re.sub(r"^Edit → (Undo|Redo) .*", r"Edit → \1", path)
    return re.sub(r"^File → Open Recent → .+\.json$", "File → Open Recent → a recent file", path)


@dataclass
class Fault:
    state: str
    where: str
    what: str


@dataclass
class Files:
    """What the file dialogs answer, by their caption (an unknown caption fails the crawl)."""

    folder: Path
    run: Path
    model: Path
    onnx: Path
    image: Path
    images: Path
    cancel_slides: bool = False

    def folder_answer(self, caption: str) -> str:
        if caption in ("Open a training run folder", "Training run folder"):
            return str(self.run)
        if caption == "Folder for the slides":
            if self.cancel_slides:
                return ""  # the folder dialog cancelled
            out = self.folder / "slides"
            out.mkdir(exist_ok=True)
            return str(out)
        if caption in ("Dataset folder (one sub-folder of images, texts or clips per class)",
                       "Photos to fine-tune on (one sub-folder per class)"):
            return str(self.images)
        if caption == "A folder of images to label":  # the Label tab: a class's images
            return str(next(p for p in sorted(self.images.iterdir()) if p.is_dir()))
        raise AssertionError(f"a folder dialog the crawl does not know: {caption!r}")

    def open_answer(self, caption: str) -> str:
        if caption == "Texts and labels (CSV or TSV)":
            return ""  # cancelled: the dataset stays the image model's (test_train_text)
        answers = {"Open model": self.model, "Import ONNX": self.onnx, "Image": self.image,
                   "Input for the step-through": self.image, "Style image": self.image}
        if caption not in answers:
            raise AssertionError(f"an open-file dialog the crawl does not know: {caption!r}")
        return str(answers[caption])

    def save_answer(self, caption: str, start: str, filter_: str) -> str:
        suffix = re.search(r"\*(\.\w+)", filter_ or "")
        ext = suffix.group(1) if suffix else Path(start).suffix or ".out"
        slug = re.sub(r"\W+", "_", caption.lower()).strip("_")
        return str(self.folder / f"{slug}{ext}")


def _args(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str) -> str:
    if len(args) > index:
        return str(args[index])
    return str(kwargs.get(name, ""))


def fake_file_dialogs(monkeypatch: pytest.MonkeyPatch, files: Files,
                      asked: list[str]) -> None:
    def folder(*args: Any, **kwargs: Any) -> str:
        caption = _args(args, kwargs, 1, "caption")
        asked.append(caption)
        return files.folder_answer(caption)

    def open_file(*args: Any, **kwargs: Any) -> tuple[str, str]:
        caption = _args(args, kwargs, 1, "caption")
        asked.append(caption)
        return files.open_answer(caption), ""

    def save_file(*args: Any, **kwargs: Any) -> tuple[str, str]:
        caption = _args(args, kwargs, 1, "caption")
        asked.append(caption)
        return files.save_answer(caption, _args(args, kwargs, 2, "dir"),
                                 _args(args, kwargs, 3, "filter")), ""

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", folder)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", open_file)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_file)


def cancel_import(dialog: QWidget, answers: Answerer) -> None:
    """File → Import Model…: once the list is read, Cancel (importing is the imported state)."""
    assert isinstance(dialog, ImportDialog)
    if not dialog.running:
        dialog.reject()


def rename(dialog: QWidget, answers: Answerer) -> None:
    assert isinstance(dialog, QInputDialog)
    dialog.setTextValue(f"{dialog.textValue()}_renamed")
    dialog.accept()


class Crawl:
    def __init__(self, qtbot: QtBot, window: MainWindow, files: Files) -> None:
        self.qtbot, self.window, self.files = qtbot, window, files
        self.faults: list[Fault] = []
        self.messages: list[tuple[str, str, str]] = []
        self.triggered: set[str] = set()
        self.state = ""
        self.disabled: set[str] = set()
        self.clicked: set[str] = set()
        self.answers = Answerer([(ExportDialog, self.export_pytorch),
                                 (ImportDialog, cancel_import), (QInputDialog, rename)])

    def export_pytorch(self, dialog: QWidget, answers: Answerer) -> None:
        """File → Export Model…: PyTorch code (with the weights when there are), then Close."""
        assert isinstance(dialog, ExportDialog)
        memo = answers.memo(dialog)
        if not memo.get("started"):
            memo["started"] = True
            memo["with weights"] = dialog.with_weights.isChecked()
            if self.window.document.weights is not None:
                assert dialog.with_weights.isChecked()
            dialog.formats["pytorch"].setChecked(True)
            dialog.output.setText(str(self.files.folder / "exported.py"))
            dialog.buttons.button(OK).click()
            return
        status = dialog.status.text()
        if dialog.busy.isHidden() and ("✔" in status or "⚠" in status):
            answers.seen.append((dialog.windowTitle(), status))
            dialog.reject()

    # -- running one thing and checking what it did -------------------------------------------
    def settle(self) -> None:
        w = self.window
        self.qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None
                             and not w.inspect.busy and not w.training.running
                             and not w.classroom.writer.busy, timeout=120_000)
        for widget in QApplication.topLevelWidgets():  # Help's texts are not modal
            if isinstance(widget, QDialog) and widget.isVisible():
                widget.close()

    def run(self, where: str, act: Callable[[], object]) -> None:
        seen_before = len(self.answers.seen)
        with self.qtbot.captureExceptions() as exceptions, self.answers:
            try:
                act()
                self.settle()
            except Exception:  # raised straight out of the action (not through Qt)
                self.faults.append(Fault(self.state, where, traceback.format_exc()))
        for _kind, value, tb in exceptions:
            self.faults.append(Fault(self.state, where, "".join(
                traceback.format_exception(type(value), value, tb))))
        for title, text in self.answers.seen[seen_before:]:
            self.messages.append((self.state, where, f"{title}: {text}"))
            if title.startswith("Cannot") or "⚠" in text:
                self.faults.append(Fault(self.state, where, f"{title}: {text}"))
        failed = self.window.inspect.message.text()
        if failed.startswith("This view failed"):
            self.faults.append(Fault(self.state, where, f"Inspect: {failed}"))
            self.window.inspect.message.setText("")

    # -- the menus ------------------------------------------------------------------------------
    def crawl_menus(self, restore: Callable[[], None], replacing: bool) -> None:
        for path, action in menu_actions(self.window):
            if path in HANDLED_APART or (not replacing and path.startswith(ONCE)):
                continue
            if not action.isEnabled():
                self.disabled.add(item(path))  # e.g. Undo with nothing to undo
                continue
            self.triggered.add(item(path))
            self.files.cancel_slides = path in CANCELLED
            self.run(path, action.trigger)
            self.files.cancel_slides = False
            restore()

    def present_and_back(self) -> None:
        present = self.window.classroom.present

        def there_and_back() -> None:
            menu_action(self.window, "View → Present").trigger()
            assert present.active and self.window.menuBar().isHidden()
            focus = QApplication.focusWidget() or self.window
            self.qtbot.keyClick(focus, Qt.Key.Key_Escape)
            assert not present.active and not self.window.menuBar().isHidden()

        self.triggered.add("View → Present")
        self.run("View → Present, then Esc", there_and_back)

    # -- the tabs' buttons ----------------------------------------------------------------------
    def pages(self) -> list[tuple[str, QWidget]]:
        out: list[tuple[str, QWidget]] = []
        tabs = self.window.tabs
        for index in range(tabs.count()):
            page = tabs.widget(index)
            assert page is not None
            out.append((tabs.tabText(index), page))
        return out

    def click_buttons(self, where: str, page: QWidget, restore: Callable[[], None],
                      train: bool) -> None:
        buttons = [b for b in page.findChildren(QPushButton) + page.findChildren(QToolButton)
                   if b.isVisible() and b.isEnabled() and b.text()]
        for button in buttons:
            text = button.text()
            if not (button.isVisible() and button.isEnabled()):
                continue  # an earlier button hid it
            name = f"{where}: {text}"
            self.clicked.add(text)
            if text == "Start":
                if train:
                    self.window.training.form.epochs.setValue(1)
                    self.run(name, button.click)
                continue
            if text == "Play":
                self.run(name, lambda b=button: (b.click(), b.click()))
                continue
            if isinstance(page, MaximizationView):  # Dream: the fewest steps will do
                page.max_steps.setValue(page.max_steps.minimum())
            if isinstance(page, DreamView | StyleView):
                page.steps.setValue(1)
            if isinstance(page, DreamView):
                page.octaves.setValue(1)
            self.run(name, button.click)
            restore()

    def crawl_tabs(self, restore: Callable[[], None], train: bool) -> None:
        w = self.window
        for title, page in self.pages():
            self.run(f"tab {title}", lambda p=page: w.tabs.setCurrentWidget(p))
            if page is w.inspect:
                for index in range(w.inspect.views.count()):
                    view = w.inspect.views.widget(index)
                    label = w.inspect.views.tabText(index)
                    self.run(f"Inspect → {label}",
                             lambda v=view: w.inspect.views.setCurrentWidget(v))
                    self.click_buttons(f"Inspect → {label}", view, restore, train)
                # the weights and input rows above the views, on each kind of input
                top = [b for b in page.findChildren(QPushButton) if not any(
                    w.inspect.views.widget(i).isAncestorOf(b)
                    for i in range(w.inspect.views.count()))]
                kinds = w.inspect.input_kind
                for kind in range(kinds.count()):
                    self.run(f"Inspect input: {kinds.itemText(kind)}",
                             lambda k=kind, combo=kinds: combo.setCurrentIndex(k))
                    for button in top:
                        if button.isVisible() and button.isEnabled() and button.text():
                            self.clicked.add(button.text())
                            self.run(f"Inspect ({kinds.itemText(kind)}): {button.text()}",
                                     button.click)
                            restore()
                kinds.setCurrentIndex(0)
            else:
                self.click_buttons(f"tab {title}", page, restore, train)
        w.tabs.setCurrentIndex(0)


def write_image(path: Path, size: int = 32) -> Path:
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkGray)
    assert image.save(str(path))
    return path


@pytest.fixture(scope="module")
def imported_onnx(tmp_path_factory: pytest.TempPathFactory,
                  trained_run: Callable[[str], Path]) -> Path:
    """The trained digits model as an ONNX file (with its weights), to import."""
    from core.io.export import export_model
    from core.train.checkpoint import open_run

    opened = open_run(trained_run("digits_small"))
    out = tmp_path_factory.mktemp("onnx") / "digits_trained.onnx"
    export_model(opened.spec, "onnx", out, opened.weights)
    return out


STATES = ("default model", "segmentation run", "detection run", "imported with weights",
          "reopened trained run", "after presentation mode")


@pytest.mark.parametrize("state", STATES)
def test_every_menu_item_and_main_button(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        request: pytest.FixtureRequest, trained_run: Callable[[str], Path],
        imported_onnx: Path, state: str) -> None:
    assert not request.config.getini("qt_no_exception_capture")  # exceptions in slots fail
    assert request.node.get_closest_marker("qt_no_exception_capture") is None
    from core.model.spec import save_model

    images = tmp_path / "images"
    for label in ("a", "b"):
        (images / label).mkdir(parents=True)
        for i in range(3):
            write_image(images / label / f"{i}.png", 8)
    model = tmp_path / "lenet.json"
    save_model(load_preset("lenet5"), model)
    files = Files(tmp_path, trained_run("digits_small"), model, imported_onnx,
                  write_image(tmp_path / "photo.png"), images)
    asked: list[str] = []
    fake_file_dialogs(monkeypatch, files, asked)
    window = MainWindow()
    qtbot.addWidget(window)
    window.training.out_dir = tmp_path / "runs"
    window.show()
    qtbot.waitExposed(window)
    crawl = Crawl(qtbot, window, files)
    crawl.state = state

    def snapshot() -> tuple[ModelSpec, Path | None, Path | None]:
        d = window.document
        return d.spec, d.weights, d.run_dir

    def open_run_from_menu(run: Path) -> Callable[[], None]:
        def open_it() -> None:
            files.run = run
            crawl.run("File → Open Trained Run…",
                      menu_action(window, "File → Open Trained Run…").trigger)
            assert window.document.run_dir == run
        return open_it

    def default() -> None:
        window.document.load(load_preset(DEFAULT_PRESET), None)

    imported: list[tuple[Path, Path | None]] = []

    def import_with_weights() -> None:
        if imported:
            window.model_io.open_imported(*imported[0])  # the import dialog's signal, again
            return

        def really_import(dialog: QWidget, answers: Answerer) -> None:
            assert isinstance(dialog, ImportDialog)
            memo = answers.memo(dialog)
            if memo.get("started") or dialog.running:
                return
            memo["started"] = True
            dialog.imported.connect(lambda m, w: imported.append((m, w)))
            dialog.from_onnx.setChecked(True)
            dialog.onnx_path.setText(str(imported_onnx))
            dialog.output.setText(str(tmp_path / "imported.json"))
            dialog.buttons.button(OK).click()

        crawl.answers.handlers.insert(0, (ImportDialog, really_import))
        try:
            crawl.run("File → Import Model…", menu_action(window, "File → Import Model…").trigger)
        finally:
            crawl.answers.handlers.pop(0)
        assert imported and imported[0][1] is not None, crawl.faults
        assert window.document.weights == imported[0][1]

    setups: dict[str, Callable[[], None]] = {
        "default model": default,
        "segmentation run": open_run_from_menu(trained_run("fcn8s_digits")),
        "detection run": open_run_from_menu(trained_run("grid_detector_digits")),
        "imported with weights": import_with_weights,
        "reopened trained run": open_run_from_menu(trained_run("digits_small")),
    }
    clicked = {"Fit", "Export…", "Export PNG…", "Dream", "Open run…", "Random weights",
               "Choose file…", "Compute the confusion matrix"}
    if state == "after presentation mode":
        window.settings.add_recent(model)  # Open Recent lists a file
        crawl.present_and_back()
        crawl.crawl_tabs(lambda: None, train=False)
        crawl.crawl_menus(lambda: None, replacing=True)
        every = {item(path) for path, _ in menu_actions(window)}
        untouched = every - crawl.triggered - crawl.disabled - set(HANDLED_APART)
        crawl.run("File → Quit", menu_action(window, "File → Quit").trigger)
        assert not window.isVisible()
    else:
        setup = setups[state]
        setup()
        expected = snapshot()

        def restore() -> None:
            if snapshot() != expected:
                setup()

        crawl.crawl_menus(restore, replacing=False)
        crawl.crawl_tabs(restore, train=state == "default model")
        untouched = set()
        clicked |= {"Start"} if state == "default model" else set()
        clicked |= {"Score the test scenes"} if state.endswith(" run") else set()
    assert not crawl.faults, "\n\n".join(f"[{f.state}] {f.where}:\n{f.what}"
                                         for f in crawl.faults)
    assert not untouched, f"menu items the crawl never triggered: {sorted(untouched)}"
    assert clicked <= crawl.clicked, sorted(crawl.clicked)
