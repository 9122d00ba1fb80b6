"""File → Import Model… with timm (issue 18), through the window: timm's list is searchable,
transformers are greyed at once with the reason, a CNN that cannot convert is greyed once its
check (on a worker) says so, and a CNN with a local weights file opens with those weights and
timm's normalisation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QWidget
from pytestqt.qtbot import QtBot
from safetensors.torch import save_file

from app.io_dialogs import ImportDialog
from app.main_window import MainWindow
from core.presets import load_preset
from core.weights import read_weights
from tests.app.window_driver import Answerer, menu_action

timm = pytest.importorskip("timm")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


def _row(dialog: ImportDialog, name: str) -> int:
    return next(r for r, m in enumerate(dialog.models) if m.name == name)


def _greyed(dialog: ImportDialog, name: str) -> bool:
    item = dialog.table.item(_row(dialog, name), 0)
    return item is not None and not item.flags() & Qt.ItemFlag.ItemIsEnabled


def test_import_a_timm_cnn_with_a_local_weights_file_from_the_window(
        qtbot: QtBot, tmp_path: Path) -> None:
    torch.manual_seed(0)
    reference = timm.create_model("mobilenetv3_small_100", pretrained=False).eval()
    weights_file = tmp_path / "mnv3.safetensors"
    save_file(reference.state_dict(), str(weights_file))
    # a count kept from an earlier dialog (this timm version) shows at once; the others are
    # counted on a worker: the first CNN in timm's list gets timm's own count
    from core.io.timm_counts import CACHE_NAME, count_params
    from core.io.timm_models import cnn_models
    from core.workspace import home

    first = cnn_models()[0].name
    home().mkdir(parents=True, exist_ok=True)
    (home() / CACHE_NAME).write_text(json.dumps({timm.__version__: {"resnet10t": 4_321}}))
    window = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(window)
    window.show()
    seen: dict[str, object] = {}

    def answer(dialog: QWidget, answers: Answerer) -> None:
        assert isinstance(dialog, ImportDialog)
        memo = answers.memo(dialog)
        phase = memo.setdefault("phase", "torchvision")
        if dialog.running:
            return  # a list is being read, or the import runs
        if phase == "torchvision":
            memo["phase"] = "timm"
            dialog.from_timm.setChecked(True)
        elif (phase == "timm" and dialog.shown_source == "timm" and len(dialog.models) > 300
              and first in dialog.counts):
            seen["counts"] = (dialog.table.item(_row(dialog, "resnet10t"), 1).text(),
                              dialog.table.item(_row(dialog, first), 1).text())
            vit = dialog.table.item(_row(dialog, "vit_tiny_patch16_224"), 0)
            seen["vit"] = (_greyed(dialog, "vit_tiny_patch16_224"), vit.toolTip() if vit else "")
            dialog.filter.setText("vgg11")
            memo["phase"] = "vgg"
        elif phase == "vgg" and "vgg11" in dialog.checks:
            seen["vgg"] = (_greyed(dialog, "vgg11"), dialog.table.item(
                _row(dialog, "vgg11"), 1).text())
            seen["vgg_rows"] = sorted(m.name for r, m in enumerate(dialog.models)
                                      if not dialog.table.isRowHidden(r))
            dialog.filter.setText("mobilenetv3_small_100")
            dialog.select("mobilenetv3_small_100")
            memo["phase"] = "mnv3"
        elif phase == "mnv3" and "mobilenetv3_small_100" in dialog.checks:
            seen["params"] = dialog.table.item(_row(dialog, "mobilenetv3_small_100"), 1).text()
            dialog.weights_file.setText(str(weights_file))
            dialog.output.setText(str(tmp_path / "mnv3.json"))
            memo["phase"] = "importing"
            dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
            assert not dialog.busy.isHidden()

    with Answerer([(ImportDialog, answer)]):
        menu_action(window, "File → Import Model…").trigger()
    assert seen["counts"] == ("4,321", f"{count_params(first):,}")
    greyed, why = seen["vit"]  # type: ignore[misc]
    assert greyed and "convolutional networks" in why
    assert seen["vgg"] == (True, "cannot convert")
    assert seen["vgg_rows"] == ["vgg11", "vgg11_bn"]
    assert seen["params"] == "2,542,856"
    document = window.document
    assert document.path == tmp_path / "mnv3.json"
    assert document.spec.normalization is not None
    assert document.spec.normalization.mean == pytest.approx((0.485, 0.456, 0.406))
    assert document.spec.classes and document.spec.classes[0] == "tench"
    assert document.weights == tmp_path / "mnv3.safetensors"
    stored = read_weights(document.weights)
    assert torch.equal(stored["conv_stem.weight"], reference.conv_stem.weight.detach())
