"""An imported ResNet-152 opens with its stages collapsed in the diagram; a double-click on
layer3 opens its 36 blocks (issue 19, item 4)."""

from __future__ import annotations

import pytest
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from core.io.torchvision_models import import_torchvision
from tests.app.test_diagram_editing import LEFT, NONE, at
from tests.app.waits import settle

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_resnet152_opens_with_its_stages_collapsed_and_layer3_opens_on_double_click(
        qtbot: QtBot) -> None:
    window = MainWindow(import_torchvision("resnet152").spec)
    qtbot.addWidget(window)
    window.resize(1600, 900)
    window.show()
    settle()
    view = window.diagram
    assert {"layer1", "layer2", "layer3", "layer4"} <= set(view.blocks)
    assert "layer3_0_conv1" not in view.blocks
    assert len(view.blocks) < 30  # stem, four stages, head: not 515 blocks
    assert view.labels["layer3"][0].text() == "layer3 (362 layers)"
    QTest.mouseDClick(view.viewport(), LEFT, NONE, at(window, "layer3"))
    settle()
    assert "layer3" not in view.blocks and "layer3_35_conv3" in view.blocks
    assert "layer2" in view.blocks  # the others stay collapsed
