"""The Train tab belongs to the model opened last: its estimate, dataset, plot titles, axes,
augmentation preview and CUDA-only options follow the document, before Start (issue 17 §6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from core.presets import load_preset
from core.train.settings import Finished

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


def _estimate_for(window: MainWindow) -> str:
    """The sentence the panel should show for the document's model, computed here."""
    import torch

    from core.train.engine import pick_device
    from core.train.preflight import preflight

    settings = window.training.form.settings()
    verdict = preflight(window.document.spec, settings.batch_size,
                        str(pick_device(settings.device)), settings.optimizer,
                        settings.momentum, settings.mixed_precision)
    text = verdict.sentence(torch.cuda.is_available())
    return text[:1].upper() + text[1:]


def test_opening_another_model_resets_the_train_tab_to_it(qtbot: QtBot, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # the estimate counts what the process holds now; a training test earlier in this process
    # left a few MB to be collected between the panel's reading and this test's: held fixed
    import core.train.preflight

    monkeypatch.setattr(core.train.preflight, "held_since_start", lambda: 300 << 20)
    window = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(window)
    panel = window.training
    panel.out_dir = tmp_path / "runs"
    window.show()
    window.tabs.setCurrentWidget(panel)
    # model A, classification on 8×8 digits: its estimate, its preview, one short run
    qtbot.waitUntil(lambda: panel.estimate.text() != "", timeout=60_000)
    estimate_a = panel.estimate.text()
    qtbot.waitUntil(lambda: not panel.form.preview.pixmap().isNull(), timeout=60_000)
    preview_a = panel.form.preview.pixmap().toImage()
    assert panel.form.dataset.currentText() == "digits"
    panel.form.epochs.setValue(1)
    with qtbot.waitSignal(panel.run_finished, timeout=120_000) as finished:
        panel.controls.start_button.click()
    assert isinstance(finished.args[0], Finished)
    assert panel.curves.loss_plot.getViewBox().autoRangeEnabled()[0] is False  # fixed to 0..epochs

    # model B, segmentation on 64×64 scenes, opened while the Train tab is hidden
    window.tabs.setCurrentIndex(0)
    window.open_preset("unet_small")
    assert window.document.spec.task == "segmentation"
    assert panel.estimate.text() != estimate_a  # never the previous model's figure
    assert panel.form.dataset.currentText() == "digit-scenes"
    assert "mIoU" in panel.curves.acc_plot.titleLabel.text
    assert panel.form.preview.pixmap().isNull()  # A's samples are gone
    assert all(not xs for xs, _ in panel.curves.series.values())
    for plot in (panel.curves.loss_plot, panel.curves.acc_plot):  # emptied plots forget A's x range
        assert plot.getViewBox().autoRangeEnabled()[0], plot

    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.estimate.text() not in ("", estimate_a), timeout=60_000)
    assert panel.estimate.text() == _estimate_for(window)
    qtbot.waitUntil(lambda: not panel.form.preview.pixmap().isNull(), timeout=60_000)
    assert panel.form.preview.pixmap().toImage() != preview_a
    assert panel.form.dice.isVisible()  # segmentation's own option row

    # and back to a classification model: its dataset and titles again
    window.open_preset("digits_small")
    assert panel.form.dataset.currentText() == "digits"
    assert "accuracy (validation)" in panel.curves.acc_plot.titleLabel.text
    assert not panel.form.dice.isVisible()


def test_mixed_precision_is_offered_only_where_cuda_is(qtbot: QtBot) -> None:
    import torch

    window = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(window)
    panel = window.training
    cuda = torch.cuda.is_available()
    assert panel.form.amp.isEnabled() == cuda
    assert panel.form.settings().mixed_precision == cuda  # a CPU run never asks for it
    panel.form.device.setCurrentText("cpu")
    assert not panel.form.amp.isEnabled() and not panel.form.settings().mixed_precision
