"""File → Import and File → Export, driven through their widgets offscreen."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot

from app.io_dialogs import ExportDialog, ImportDialog
from app.main_window import MainWindow
from core.presets import load_preset
from tests.app.layout_checks import row_heights
from tests.app.waits import settle
from tests.app.window_driver import menu_action

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


def test_import_lists_torchvision_models_and_opens_the_choice_in_the_builder(
        qtbot: QtBot, tmp_path: Path) -> None:
    window = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(window)
    dialog = ImportDialog(window, folder=tmp_path)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() > 60, timeout=120_000)  # read off the UI thread
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text()
            for r in range(dialog.table.rowCount())}
    assert rows["resnet50"] == "25,557,032" and rows["efficientnet_b0"] == "5,288,548"
    dialog.filter.setText("mobilenet_v3")
    visible = [dialog.models[r].name for r in range(dialog.table.rowCount())
               if not dialog.table.isRowHidden(r)]
    assert visible == ["mobilenet_v3_large", "mobilenet_v3_small"]
    dialog.select("mobilenet_v3_small")
    assert dialog.output.text() == str(tmp_path / "mobilenet_v3_small.json")
    dialog.imported.connect(window.model_io.open_imported)
    with qtbot.waitSignal(dialog.imported, timeout=180_000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        assert not dialog.busy.isHidden()  # the work runs off the UI thread, a busy bar shows
    # closed the moment the job reported (it joined its thread on the UI thread for 60 s)
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.running
    assert window.document.spec.name == "mobilenet_v3_small"
    assert window.document.analysis.ok and window.document.analysis.total_params == 2_542_856
    assert window.document.path == tmp_path / "mobilenet_v3_small.json"


def test_import_problem_is_shown_in_the_dialog(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = ImportDialog(None, folder=tmp_path)
    qtbot.addWidget(dialog)
    (tmp_path / "broken.onnx").write_bytes(b"not onnx")
    dialog.onnx_path.setText(str(tmp_path / "broken.onnx"))
    dialog.from_onnx.setChecked(True)
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.running and "⚠" in dialog.status.text(), timeout=120_000)
    assert "not a readable ONNX file" in dialog.status.text()


def test_export_writes_the_file_and_says_how_to_run_it(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = ExportDialog(load_preset("digits_small"), None, None, folder=tmp_path)
    qtbot.addWidget(dialog)
    assert not dialog.with_weights.isEnabled()  # untrained: nothing to include
    dialog.formats["script"].setChecked(True)
    assert dialog.output.text() == str(tmp_path / "train.py")
    with qtbot.waitSignal(dialog.exported, timeout=180_000) as signal:
        dialog.start()
    assert (tmp_path / "train.py").is_file()
    assert "torchrun --nproc_per_node=N train.py" in signal.args[0]
    assert str(tmp_path / "train.py") in dialog.status.text()


def test_the_export_dialog_offers_core_io_exports_formats() -> None:
    """The dialog keeps its own copy (core.io.export imports torch, not for the UI thread)."""
    from app import io_dialogs
    from core.io import export

    assert io_dialogs.FORMATS == export.FORMATS and io_dialogs.SUFFIXES == export.SUFFIXES


def test_import_rows_show_the_model_names_whole_at_projector_text_and_back(
        qtbot: QtBot, tmp_path: Path, projector_window: MainWindow) -> None:
    """The models' names (efficientnet_b0, mobilenet_v3_small) with their underscores whole at
    24 pt, where the rows stayed the header's 29 px (issue 17); and back at normal text, the
    rows normal again."""
    window = projector_window
    dialog = ImportDialog(window, folder=tmp_path)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() > 60, timeout=120_000)  # read off the UI thread
    dialog.filter.setText("efficientnet_b")
    settle()
    line = dialog.table.fontMetrics().height()
    assert line > 30  # 24 pt text
    shown = [r for r in range(dialog.table.rowCount()) if not dialog.table.isRowHidden(r)]
    assert shown
    assert dialog.table.rowHeight(shown[0]) - 1 >= line
    assert row_heights(dialog) == []
    menu_action(window, "View → Normal Text").trigger()  # the dialog still open
    settle()
    assert dialog.table.fontMetrics().height() < 30
    assert row_heights(dialog) == []
