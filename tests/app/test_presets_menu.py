"""File → Presets: grouped by what the models teach; the lectures' text and video models open."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from core.presets import load_preset


def test_presets_menu_is_grouped_and_opens_the_text_cnn(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert "Why not dense layers" in window.preset_menus
    sequences = window.preset_menus["Sequences and video"]
    action = next(a for a in sequences.actions() if a.data() == "text_cnn")
    action.trigger()
    assert window.document.spec.name == "text-cnn"
    assert [spin.prefix() for spin in window.shape_bar.spins] == ["token ids "]
    assert window.shape_bar.spins[0].value() == 400
    model = window.table.table_model
    row = window.document.spec.index("to_channels")
    assert model.index(row - 2, 4).data() == "400×50"  # the embedding: length × dims
    assert model.index(row, 4).data() == "50×400"  # transposed: dims × length for Conv1d
    assert window.document.analysis.ok
    window.document.select("to_channels")
    assert set(window.editor.fields) == {"dim0", "dim1"}


def test_the_video_cnn_shows_four_input_sizes(qtbot: QtBot) -> None:
    window = MainWindow(load_preset("video_cnn"))
    qtbot.addWidget(window)
    window.show()
    assert [s.value() for s in window.shape_bar.spins] == [3, 10, 112, 112]
    assert "Parameters 71,178" in window.totals.text()
    window.document.select("pool1")
    assert window.editor.fields["kernel_size"].boxes[1].value() == 2  # type: ignore[union-attr]
