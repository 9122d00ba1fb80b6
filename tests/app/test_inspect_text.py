"""The Inspect tab's Text view on a trained text run (issue 20 §1): the words with a Conv1d
filter's heat strip and saliency under them, the top-k, the filter's top n-grams; typed text
and validation texts; an image model is told the view is for text models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from core.model.spec import model_from_dict
from core.presets import load_preset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
SMALL_TEXT_CNN = {
    "format": "convscope.model/1", "name": "small-text-cnn", "task": "classification",
    "input": {"shape": [40], "dtype": "int64"},
    "layers": [
        {"name": "embedding", "type": "Embedding", "num_embeddings": 200, "embedding_dim": 16},
        {"name": "to_channels", "type": "Transpose", "dim0": 1, "dim1": 2},
        {"name": "conv1", "type": "Conv1d", "out_channels": 24, "kernel_size": 3},
        {"name": "relu1", "type": "ReLU"},
        {"name": "pool", "type": "AdaptiveMaxPool1d", "output_size": 1},
        {"name": "flatten", "type": "Flatten"},
        {"name": "output", "type": "Linear", "out_features": 2},
    ]}


@pytest.fixture(scope="module")
def text_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from core.data.datasets import load_dataset
    from core.train.engine import train
    from core.train.settings import Finished, TrainingSettings

    spec = model_from_dict(SMALL_TEXT_CNN)
    data = load_dataset("phrases", (40,), vocabulary_size=200)
    settings = TrainingSettings(epochs=2, batch_size=32, lr=1e-2, device="cpu",
                                snapshots=False, live_filters_every=0)
    done = list(train(spec, data, settings, tmp_path_factory.mktemp("text")))[-1]
    assert isinstance(done, Finished), done
    return Path(done.run_dir)


def idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.inspect.busy, timeout=120_000)


def show_text(qtbot: QtBot, window: MainWindow) -> Any:
    window.tabs.setCurrentWidget(window.inspect)
    views = window.inspect.views
    views.setCurrentIndex([views.tabText(i) for i in range(views.count())].index("Text"))
    view = window.inspect.view("Text")
    qtbot.waitUntil(lambda: view.result is not None or window.inspect.message.text() != "",
                    timeout=120_000)
    idle(qtbot, window)
    return view


def test_the_text_view_reads_typed_and_validation_texts(qtbot: QtBot, text_run: Path,
                                                        tmp_path: Path) -> None:
    window = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(window)
    window.show()
    assert window.runs.open_run(text_run)
    view = show_text(qtbot, window)
    assert window.inspect.message.text() == ""
    result = view.result
    assert result["words"][:4] == ("the", "acting", "was", "not")
    assert len(result["strip"]) == len(result["words"]) == len(result["saliency"])
    assert result["strip"].max() > 0  # the strongest filter fires somewhere
    assert {p.label for p in result["top_k"]} == {"negative", "positive"}
    assert "not in the vocabulary: but" in view.note.text()  # phrases never say "but"
    assert "the run's vocabulary" in view.note.text()
    assert result["ngrams"] and "excite filter" in view.ngrams.text()
    assert ">acting</td>" in view.strip.text()

    view.text.clear()  # typed by the user, read on Enter
    qtbot.keyClicks(view.text, "the plot was far from bad")
    qtbot.keyClick(view.text, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.result["words"][-1] == "bad", timeout=120_000)
    idle(qtbot, window)
    assert max(view.result["top_k"], key=lambda p: p.probability).label == "positive"

    view.channel.setValue(5)  # one filter: its strip and its own n-grams
    qtbot.waitUntil(lambda: view.result["filter"] == 5, timeout=120_000)
    idle(qtbot, window)
    assert "filter 5" in view.ngrams.text()

    view.source.setCurrentText("validation text")
    assert view.index.isVisible() and not view.text.isVisible()
    view.index.setValue(3)
    qtbot.waitUntil(lambda: "validation text 3" in view.note.text(), timeout=120_000)
    idle(qtbot, window)
    assert "label" in view.note.text()


def test_an_image_model_is_told_the_view_is_for_text(qtbot: QtBot) -> None:
    window = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(window)
    window.show()
    show_text(qtbot, window)
    assert "for text models" in window.inspect.message.text()
