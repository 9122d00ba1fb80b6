"""Masks: a segmentation model's prediction beside the input and the ground truth, an overlay
with an opacity slider, one colour per class with a legend, and the test scenes ranked by IoU
(worst first). Scoring the test split runs on the worker with progress and Cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QSlider,
    QTextBrowser,
    QVBoxLayout,
)

from app.image_pane import ImagePane
from app.inspect.base import Context, InspectView, ViewHost

if TYPE_CHECKING:
    from app.workers import Task


def legend_html(classes: list[str], colours: list[tuple[int, int, int]], shown: set[int]
                ) -> str:
    """Coloured squares with class names, for the classes in view."""
    parts = []
    for c in sorted(shown):
        r, g, b = colours[c % len(colours)]
        name = classes[c] if c < len(classes) else str(c)
        parts.append(f"<span style='color:rgb({r},{g},{b})'>■</span>&nbsp;{name}")
    return "&nbsp;&nbsp; ".join(parts)


class MasksView(InspectView):
    title = "Masks"

    def __init__(self, tab: ViewHost) -> None:
        super().__init__(tab)
        self.panes = {name: ImagePane(name, colorbar=False) for name in
                      ("input", "prediction", "ground truth", "overlay")}
        grid = QGridLayout()
        for i, pane in enumerate(self.panes.values()):
            grid.addWidget(pane, i // 2, i % 2)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(60)
        self.opacity.valueChanged.connect(self._opacity_changed)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.iou = QLabel()
        controls = QHBoxLayout()
        controls.addWidget(QLabel("overlay opacity"))
        controls.addWidget(self.opacity, 1)
        controls.addWidget(self.iou)
        self.score_button = QPushButton("Score the test scenes")
        self.score_button.setToolTip("Predict every test scene of the run's dataset and list "
                                     "them by IoU, worst first")
        self.score_button.clicked.connect(self._score)
        self.summary = SummaryText("Score the test scenes to browse them, worst first.")
        self.ranking = ranking_list()
        self.ranking.currentRowChanged.connect(self._show_ranked)
        export = QPushButton("Export PNG…")
        export.clicked.connect(self._export)
        side = QVBoxLayout()
        side.addWidget(self.score_button)
        side.addWidget(self.summary)
        side.addWidget(self.ranking, 1)
        side.addWidget(export)
        left = QVBoxLayout()
        left.addLayout(grid, 1)
        left.addLayout(controls)
        left.addWidget(self.legend)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(side, 1)
        self._scored: Any = None
        self._shown: dict[str, Any] | None = None

    def reset(self) -> None:
        for name, pane in self.panes.items():
            pane.clear_picture()  # not clear(): that would drop the plot from the pane
            pane.set_title(name)  # not "input: test scene N" of the last model's list
        self.legend.setText("")
        self.iou.setText("")
        self.ranking.clear()
        self._scored, self._shown = None, None
        self.summary.setText("Score the test scenes to browse them, worst first.")

    # -- the tab's input --------------------------------------------------------------------
    def compute(self, context: Context, parameters: Any, task: Task) -> Any:
        return mask_for_input(context)

    def show_result(self, result: Any, parameters: Any) -> None:
        self._show(result)

    def _show(self, shown: dict[str, Any]) -> None:
        from core.inspect.scenes import mask_colours
        from core.tasks.segmentation import CLASS_COLOURS

        self._shown = shown
        display = shown["display"]
        rgb = np.repeat(display, 3, axis=0) if display.shape[0] == 1 else display[:3]
        picture = rgb.transpose(1, 2, 0)
        scene = shown.get("scene")  # a scene picked from the ranking, not the tab's input
        self.panes["input"].set_title("input" if scene is None else
                                      f"input: test scene {scene} (from the list)")
        self.panes["input"].show_map(picture)
        self.panes["prediction"].show_map(mask_colours(shown["prediction"]) / 255)
        truth = shown["truth"]
        if truth is not None:
            self.panes["ground truth"].show_map(mask_colours(truth) / 255)
        else:
            self.panes["ground truth"].clear_picture()
        overlay = self.panes["overlay"]
        overlay.show_map(picture)
        tint = mask_colours(shown["prediction"]).astype(np.float32) / 255
        alpha = (shown["prediction"] > 0).astype(np.float32)
        overlay.overlay.setImage((np.dstack([tint, alpha]) * 255).astype(np.uint8),
                                 levels=(0, 255))
        self._opacity_changed()
        present = set(np.unique(shown["prediction"]).tolist())
        if truth is not None:
            present |= set(np.unique(truth).tolist())
        self.legend.setText(legend_html(["background", *shown["classes"]], CLASS_COLOURS,
                                        present - {0}))
        iou = shown["iou"]
        self.iou.setText(f"<b>mIoU of this image: {iou:.3f}</b>" if iou is not None
                         else "no ground truth for this input")

    def _opacity_changed(self) -> None:
        self.panes["overlay"].overlay.setOpacity(self.opacity.value() / 100)

    # -- the test split ---------------------------------------------------------------------
    def _score(self) -> None:
        dataset = self.tab.input_dataset()
        self.tab.run(self, "masks-score", score_test_masks, dataset, self._scored_ready,
                     uses_input=False, label=f"predicting the test scenes of {dataset}…")

    def _scored_ready(self, result: Any, dataset: Any) -> None:
        self._scored = {**result, "dataset": dataset}
        scores = result["scores"]
        self.ranking.blockSignals(True)
        self.ranking.clear()
        for n in scores.order:
            self.ranking.addItem(f"scene {n}: IoU {scores.iou[n]:.3f}")
        self.ranking.blockSignals(False)
        values = list(scores.iou.values())
        self.summary.setText(f"{dataset}: {len(values)} test scenes, mean per-image mIoU "
                             f"{np.nanmean(values):.3f}; worst first.")
        if scores.order:
            self.ranking.setCurrentRow(0)

    def _show_ranked(self, row: int) -> None:
        if self._scored is None or row < 0:
            return
        scores = self._scored["scores"]
        n = scores.order[row]
        self._show({"display": self._scored["images"][n].astype(np.float32) / 255,
                    "prediction": scores.predictions[n], "truth": self._scored["masks"][n],
                    "iou": scores.iou[n], "classes": self._scored["classes"], "scene": n})
        self.tab.name_shown(shown_from_list(self._scored["dataset"], n))

    # -- export -----------------------------------------------------------------------------
    def _export(self) -> None:
        if self._shown is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export masks", "masks.png", "PNG (*.png)")
        if path:
            self.export_to(path)

    def export_to(self, path: str, size: tuple[int, int] = (1600, 900)) -> Any:
        shown = self._shown
        assert shown is not None
        return self.tab.run(self, "masks-export", export_masks,
                            (path, size, shown, self.opacity.value() / 100),
                            lambda _r, _p: None, uses_input=False, label="exporting…")


class SummaryText(QTextBrowser):
    """A scored split's summary beside the ranking: word-wrapped in the side column and
    scrolling there when it is longer than its room (a word-wrapped label was cut off under
    the list at projector text)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().setAutoFillBackground(False)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def text(self) -> str:
        return self.toPlainText()

    def sizeHint(self) -> QSize:  # six lines where there is room, else three and a scroll bar
        return QSize(super().sizeHint().width(), self.fontMetrics().lineSpacing() * 6)

    def minimumSizeHint(self) -> QSize:
        return QSize(super().minimumSizeHint().width(), self.fontMetrics().lineSpacing() * 3)


def ranking_list() -> QListWidget:
    """The ranked test scenes: entries wrap in the side column's width (never cut by it, no
    horizontal scroll bar)."""
    ranking = QListWidget()
    ranking.setWordWrap(True)
    ranking.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    ranking.setResizeMode(QListWidget.ResizeMode.Adjust)
    return ranking


def shown_from_list(dataset: str, scene: int) -> str:
    """The input line while a view shows a scene picked from its list, not the input."""
    return f"<b>showing {dataset} test scene {scene}</b>, picked from the list (not the input)"


def mask_for_input(context: Context) -> dict[str, Any]:
    """On the worker: the predicted mask of the tab's input, with its ground truth when the
    input is a test scene of the run's dataset."""
    from core.inspect.scenes import check_segmentation, predicted_mask
    from core.tasks.segmentation import image_iou

    inspector = context.inspector
    check_segmentation(inspector)
    inp = context.input()
    prediction = predicted_mask(inspector, inp)
    truth = _run_truth(context)
    iou = None
    if truth is not None:
        import torch

        iou = image_iou(torch.from_numpy(prediction), torch.from_numpy(truth),
                        len(inspector.classes) + 1)
    return {"display": inp.display, "prediction": prediction, "truth": truth, "iou": iou,
            "classes": list(inspector.classes)}


def _run_truth(context: Context) -> np.ndarray | None:
    from core.inspect.inputs import RUN_SOURCE, run_split_item

    if not context.source.startswith(RUN_SOURCE):
        return None
    _dataset, _split, part, index = run_split_item(context.source,
                                                   context.inspector.spec.input_shape)
    return None if part.masks is None else part.masks[index].numpy()


def score_test_masks(context: Context, dataset: str, task: Task) -> dict[str, Any]:
    """On the worker: every test scene predicted and ranked by IoU, with progress."""
    from core.data.datasets import load_dataset
    from core.inspect.scenes import check_segmentation, score_masks

    inspector = context.inspector
    check_segmentation(inspector)  # before loading a dataset it could not score
    data = load_dataset(dataset, inspector.spec.input_shape, download=False)
    task.check()
    scores = score_masks(inspector, data, inspector.preparer(data), progress=task.progress)
    masks = data.test.masks
    return {"scores": scores, "images": data.test.images.numpy(),
            "masks": None if masks is None else masks.numpy(), "classes": list(data.classes)}


def export_masks(context: Context, parameters: Any, task: Task) -> str:
    from pathlib import Path

    from core.inspect import render
    from core.inspect.render_scenes import masks_figure

    path, size, shown, alpha = parameters
    fig = masks_figure(shown["display"], shown["prediction"], shown["truth"],
                       ["background", *shown["classes"]],
                       f"{context.inspector.spec.name} · masks",
                       [context.inspector.weights_note], size, alpha)
    return str(render.save_png(fig, Path(path)))
