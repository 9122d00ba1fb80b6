"""File → Export Model… and File → Import Model… through the window's menu: both work on the
document's weights (the one owner of model, weights and run)."""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from app.io_dialogs import ExportDialog, ImportDialog
from app.main_window import MainWindow
from core.build import build_model
from core.io.export import FORMATS, SUFFIXES, export_model
from core.model.spec import ModelSpec
from core.weights import load_weights, read_weights
from tests.app.window_driver import Answerer, menu_action

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

OK = QDialogButtonBox.StandardButton.Ok


def open_trained_run(qtbot: QtBot, window: MainWindow, run: Path,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    """File → Open Trained Run…, choosing ``run`` in the folder dialog."""
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(run))
    with Answerer() as answers:
        menu_action(window, "File → Open Trained Run…").trigger()
    assert answers.seen == []  # no warning
    assert window.document.run_dir == run


def finish_dialog(dialog: Any, answers: Answerer, start: Callable[[], None]) -> None:
    """First tick: ``start()`` (fill the dialog, press OK). Later ticks: once the work is done
    (a ✔ or ⚠ line), note the line and close the dialog."""
    memo = answers.memo(dialog)
    if not memo.get("started"):
        memo["started"] = True
        start()
        return
    status = dialog.status.text()
    if dialog.busy.isHidden() and ("✔" in status or "⚠" in status):
        memo["status"] = status
        answers.seen.append((dialog.windowTitle(), status))
        dialog.reject()


def export_from_menu(qtbot: QtBot, window: MainWindow, fmt: str, out: Path) -> ExportDialog:
    shown: list[ExportDialog] = []

    def answer(dialog: QWidget, answers: Answerer) -> None:
        assert isinstance(dialog, ExportDialog)

        def start() -> None:
            shown.append(dialog)
            dialog.formats[fmt].setChecked(True)
            dialog.output.setText(str(out))
            dialog.buttons.button(OK).click()

        finish_dialog(dialog, answers, start)

    with Answerer([(ExportDialog, answer)]) as answers:
        menu_action(window, "File → Export Model…").trigger()
    assert shown, answers.seen
    assert "✔" in answers.seen[-1][1], answers.seen
    return shown[0]


def reference_net(spec: ModelSpec, weights: Path) -> torch.nn.Module:
    net = build_model(spec).eval()
    report = load_weights(net, weights)
    assert not report.shape_mismatch and not report.not_in_file
    return net


def outputs_of_export(fmt: str, out: Path, x: torch.Tensor) -> torch.Tensor:
    """What the exported file computes for ``x``, run the way its users run it."""
    if fmt == "pytorch":
        loader = importlib.util.spec_from_file_location("exported_model", out)
        assert loader is not None and loader.loader is not None
        module = importlib.util.module_from_spec(loader)
        loader.loader.exec_module(module)
        with torch.no_grad():
            return module.model().eval()(x)  # type: ignore[no-any-return]
    if fmt == "torchscript":
        with torch.no_grad():
            return torch.jit.load(str(out))(x)  # type: ignore[no-any-return]
    import onnxruntime

    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(None, {"input": x.numpy()})[0])


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_from_the_window_writes_each_format_with_the_current_weights(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        trained_run: Callable[[str], Path], fmt: str) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    run = trained_run("digits_small")
    open_trained_run(qtbot, window, run, monkeypatch)
    weights = window.document.weights
    assert weights is not None
    out = tmp_path / ("train.py" if fmt == "script" else f"net{SUFFIXES[fmt]}")
    dialog = export_from_menu(qtbot, window, fmt, out)
    assert dialog.with_weights.isEnabled() and dialog.with_weights.isChecked()
    assert weights.name in dialog.with_weights.text()
    assert out.is_file()
    if fmt == "script":  # train.py starts from the weights written beside it
        beside = read_weights(out.with_suffix(".safetensors"))
        trained = read_weights(weights)
        assert beside.keys() == trained.keys()
        assert all(torch.equal(beside[k], trained[k]) for k in trained)
        return
    torch.manual_seed(1)
    x = torch.randn(2, *window.document.spec.input_shape)
    with torch.no_grad():
        expected = reference_net(window.document.spec, weights)(x)
    torch.testing.assert_close(outputs_of_export(fmt, out, x), expected, rtol=1e-4, atol=1e-5)


def test_import_with_weights_leaves_those_weights_in_use(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        trained_run: Callable[[str], Path]) -> None:
    """An ONNX file carries its weights: imported, the builder and Inspect use them."""
    from core.train.checkpoint import open_run

    opened = open_run(trained_run("digits_small"))
    onnx_file = tmp_path / "trained_digits.onnx"
    export_model(opened.spec, "onnx", onnx_file, opened.weights)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    imported_at: list[float] = []

    def answer(dialog: QWidget, answers: Answerer) -> None:
        assert isinstance(dialog, ImportDialog)
        memo = answers.memo(dialog)
        if memo.get("started"):
            return  # the dialog closes itself once the import is done
        if dialog.running:
            return  # still reading torchvision's list
        memo["started"] = True
        dialog.imported.connect(lambda *_: imported_at.append(time.monotonic()))
        dialog.from_onnx.setChecked(True)
        dialog.onnx_path.setText(str(onnx_file))
        dialog.output.setText(str(tmp_path / "imported.json"))
        dialog.buttons.button(OK).click()

    with Answerer([(ImportDialog, answer)]) as answers:
        menu_action(window, "File → Import Model…").trigger()
    # the dialog closed at once (it waited 60 s for its finished worker thread, the window
    # frozen, before the thread's quit was connected directly)
    assert time.monotonic() - imported_at[0] < 30
    assert answers.seen == [("Import a model", "")], answers.seen
    document = window.document
    assert document.path == tmp_path / "imported.json"
    assert document.weights is not None and document.weights.parent == tmp_path
    assert document.weights.suffix == ".safetensors"
    window.tabs.setCurrentWidget(window.inspect)
    qtbot.waitUntil(lambda: not window.inspect.busy, timeout=60_000)
    label = window.inspect.weights_label.text()
    assert document.weights.name in label and "random" not in label
    assert not window.inspect.note.problem
    torch.manual_seed(1)
    x = torch.randn(2, *document.spec.input_shape)
    inspector = window.inspect.session.built(window.inspect.model_key()).inspector
    with torch.no_grad():
        torch.testing.assert_close(inspector.model(x),
                                   reference_net(opened.spec, opened.weights)(x),
                                   rtol=1e-4, atol=1e-5)


def import_from_menu(window: MainWindow, fill: Callable[[ImportDialog], None]) -> Answerer:
    """File → Import Model…: once torchvision's list is read, ``fill`` the dialog and press
    OK (unless ``fill`` closed it); when it reports a problem, note it and close."""

    def answer(dialog: QWidget, answers: Answerer) -> None:
        assert isinstance(dialog, ImportDialog)
        memo = answers.memo(dialog)
        if dialog.running:
            return
        if not memo.get("started"):
            memo["started"] = True
            memo["output"] = dialog.output.text()
            fill(dialog)
            if dialog.isVisible():  # ``fill`` may have closed it
                dialog.buttons.button(OK).click()
        elif "⚠" in dialog.status.text():
            answers.seen.append((dialog.windowTitle(), dialog.status.text()))
            dialog.reject()

    with Answerer([(ImportDialog, answer)]) as answers:
        menu_action(window, "File → Import Model…").trigger()
    return answers


def test_import_speaks_of_the_dialogs_checkbox_not_the_command_line(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline, without the pretrained weights in torch's cache: the message names the box to
    untick (it said "import without --weights", the command line's option)."""
    from torchvision.models._api import WeightsEnum

    def offline(*_: object, **__: object) -> None:
        raise OSError("network is unreachable")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(WeightsEnum, "get_state_dict", offline)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()

    def pretrained_resnet18(dialog: ImportDialog) -> None:
        dialog.select("resnet18")
        dialog.pretrained.setChecked(True)
        dialog.output.setText(str(tmp_path / "resnet18.json"))

    answers = import_from_menu(window, pretrained_resnet18)
    status = answers.seen[-1][1]
    assert "cannot be downloaded" in status
    assert "--weights" not in status
    assert "“With the pretrained weights” unticked" in status
    assert not (tmp_path / "resnet18.json").exists()


def test_import_starts_in_the_folder_of_the_last_import(
        qtbot: QtBot, tmp_path: Path, trained_run: Callable[[str], Path]) -> None:
    from core.train.checkpoint import open_run

    opened = open_run(trained_run("digits_small"))
    onnx_file = tmp_path / "digits.onnx"
    export_model(opened.spec, "onnx", onnx_file, opened.weights)
    chosen = tmp_path / "models"
    chosen.mkdir()
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()

    def onnx(dialog: ImportDialog) -> None:
        dialog.from_onnx.setChecked(True)
        dialog.onnx_path.setText(str(onnx_file))
        dialog.output.setText(str(chosen / "digits.json"))

    first = import_from_menu(window, onnx)
    assert window.document.path == chosen / "digits.json"
    assert Path(next(iter(first.state.values()))[1]["output"]).parent != chosen
    later = MainWindow()  # a later session: the settings file remembers
    qtbot.addWidget(later)
    later.show()
    again = import_from_menu(later, lambda dialog: dialog.reject())
    assert Path(next(iter(again.state.values()))[1]["output"]).parent == chosen


def test_the_exported_python_file_is_named_so_that_it_can_be_imported(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """digits-small's default file is digits_small.py, and the line says to import that (it
    suggested digits-small.py and "from digits-small import model", not Python)."""
    import sys

    monkeypatch.chdir(tmp_path)  # the dialog's default folder
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert window.document.spec.name == "digits-small"

    def answer(dialog: QWidget, answers: Answerer) -> None:
        assert isinstance(dialog, ExportDialog)
        finish_dialog(dialog, answers, dialog.buttons.button(OK).click)  # the defaults

    with Answerer([(ExportDialog, answer)]) as answers:
        menu_action(window, "File → Export Model…").trigger()
    line = answers.seen[-1][1]
    assert (tmp_path / "digits_small.py").is_file()
    assert "from digits_small import model" in line
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "digits_small", raising=False)
    module = importlib.import_module("digits_small")  # what the line tells the user to do
    with torch.no_grad():
        assert tuple(module.model()(torch.zeros(1, 1, 8, 8)).shape) == (1, 10)
    monkeypatch.delitem(sys.modules, "digits_small", raising=False)
